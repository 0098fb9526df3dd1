"""Kawaguchi, Huang & Kaelbling (2019), "Every local minimum value is the global minimum value
of induced model in nonconvex machine learning", Neural Computation 31(12).

Paper: ``shared/papers/kawaguchi-huang-kaelbling-2019-every-local-minimum.md`` (clean statements
also in ``khk-statements.md`` Part II). Claim ids start with ``khk2019lm.``.
"""
