"""Kawaguchi & Bengio (2019), "Depth with nonlinearity creates no bad local minima in ResNets",
Neural Networks 118.

Paper: ``shared/papers/kawaguchi-bengio-2019-resnets.md``. Claim ids start with ``kb2019.``.
"""

from proofcheck.papers import Paper

PAPER = Paper(
    key="kb2019", citation="Kawaguchi & Bengio (2019)",
    title="Depth with Nonlinearity Creates No Bad Local Minima in ResNets",
    year=2019, venue="Neural Networks 118",
    source="kawaguchi-bengio-2019-resnets.md",
)

#: Where a claim is printed in this paper: ``printed_at(section, label[, equation])``.
printed_at = PAPER.printed_at
#: A claim of this paper: ``claim(id, printed_at(...), title=..., statement=..., ...)``.
claim = PAPER.claim
