"""Shamir (2018), "Are ResNets provably better than linear predictors?" (NeurIPS 2018).

Paper: ``shared/papers/shamir-2018-resnets-vs-linear.md``. Claim ids start with ``shamir2018.``.
"""
