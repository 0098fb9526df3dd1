"""Shamir (2018), "Are ResNets provably better than linear predictors?" (NeurIPS 2018).

Paper: ``shared/papers/shamir-2018-resnets-vs-linear.md``. Claim ids start with ``shamir2018.``.
"""

from proofcheck.papers import Paper

PAPER = Paper(
    key="shamir2018", citation="Shamir (2018)",
    title="Are ResNets Provably Better than Linear Predictors?",
    year=2018, venue="NeurIPS 2018",
    figures=".figures",
    source="shamir-2018-resnets-vs-linear.md",
)

#: Where a claim is printed in this paper: ``printed_at(section, label[, equation])``.
printed_at = PAPER.printed_at
#: A claim of this paper: ``claim(id, printed_at(...), title=..., statement=..., ...)``.
claim = PAPER.claim
