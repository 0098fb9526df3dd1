"""Kawaguchi, Huang & Kaelbling (2019), "Effect of depth and width on local minima in deep
learning", Neural Computation 31(6).

Paper: ``shared/papers/kawaguchi-huang-kaelbling-2019-depth-width.txt`` (formulas garbled;
reconstruction in ``khk-statements.md`` Part I, itself checked here). Claim ids start with
``khk2019dw.``.
"""

from proofcheck.papers import Paper

PAPER = Paper(
    key="khk2019dw", citation="Kawaguchi, Huang & Kaelbling (2019)",
    title="Effect of Depth and Width on Local Minima in Deep Learning",
    year=2019, venue="Neural Computation 31(6)",
    figures=".figures",
    source="kawaguchi-huang-kaelbling-2019-depth-width.txt",
)

#: Where a claim is printed in this paper: ``printed_at(section, label[, equation])``.
printed_at = PAPER.printed_at
#: A claim of this paper: ``claim(id, printed_at(...), title=..., statement=..., ...)``.
claim = PAPER.claim
