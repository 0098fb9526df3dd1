"""Kawaguchi, Huang & Kaelbling (2019), "Every local minimum value is the global minimum value
of induced model in nonconvex machine learning", Neural Computation 31(12).

Paper: ``shared/papers/kawaguchi-huang-kaelbling-2019-every-local-minimum.md`` (clean statements
also in ``khk-statements.md`` Part II). Claim ids start with ``khk2019lm.``.
"""

from functools import partial

from proofcheck.claims import ParameterLayout
from proofcheck.papers import Paper

PAPER = Paper(
    key="khk2019lm", citation="Kawaguchi, Huang & Kaelbling (2019)",
    title="Every Local Minimum Value Is the Global Minimum Value of Induced Model in "
          "Nonconvex Machine Learning",
    year=2019, venue="Neural Computation 31(12)",
    figures=".figures",
    source="kawaguchi-huang-kaelbling-2019-every-local-minimum.md",
)

#: Where a claim is printed in this paper: ``printed_at(section, label[, equation])``.
printed_at = PAPER.printed_at
#: How the network parameters in this paper's instances are stored (``theta``: a point of
#: an any-point claim; ``base``: the fixed weights of Example 2): ``Network.flatten``. Witness
#: files record it; files saved before it was declared (the induced-model network, which
#: stored every weight matrix as the paper's W^(l)) are refused by replay, never misread.
NETWORK_LAYOUT = ParameterLayout(
    "network-blocks/1", "Network.flatten: each weight matrix as an (inputs, units) block, "
    "the paper's W^(l) transposed, column-major", fields=("theta", "base"))

#: A claim of this paper: ``claim(id, printed_at(...), title=..., statement=..., ...)``.
claim = partial(PAPER.claim, layout=NETWORK_LAYOUT)
