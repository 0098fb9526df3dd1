"""shrink(): fewer samples, smaller dimensions, simpler numbers; every kept step still fails
and still satisfies the hypotheses."""

import numpy as np

from proofcheck.backends import get_backend
from proofcheck.catalog import load_claims
from proofcheck.claims import Instance
from proofcheck.engine import _evaluate, _failures
from proofcheck.search.explore import Evaluator, admissible, explored_claim
from proofcheck.search.shrink import _complexity, dimensions, shrink, sizes_of

REG = load_claims()


def test_dimensions_are_learned_from_examples():
    a = Instance(X=np.zeros((5, 2)), Y=np.zeros((5, 1)), Z=np.zeros((5, 2)), m=5, d_x=2,
                 d_y=1, d_z=2)
    b = Instance(X=np.zeros((4, 3)), Y=np.zeros((4, 2)), Z=np.zeros((4, 1)), m=4, d_x=3,
                 d_y=2, d_z=1)
    dims = {d.label(): d for d in dimensions(a, [b])}
    assert set(dims) == {"m", "d_x", "d_y", "d_z"}
    assert set(dims["m"].axes) == {("X", 0), ("Y", 0), ("Z", 0)}
    # d_x and d_z are both 2 in `a`, but the example tells them apart
    assert dims["d_x"].axes == (("X", 1),) and dims["d_z"].axes == (("Z", 1),)
    smaller = dims["m"].delete(a, 0)
    assert smaller.X.shape == (4, 2) and smaller.Y.shape == (4, 1) and smaller.m == 4


def test_numbers_become_integers_then_simple_rationals():
    inst = Instance(x=np.array([0.3, 2.7, -4.2, 0.1234]))
    res = shrink(None, inst, fails=lambda i: (np.sum(i.x) < -1.05) or None)
    assert res.evaluation
    # one entry left (the others were deleted), then -4.2 -> -4 (0 and -1 do not fail)
    assert res.instance.x.tolist() == [-4.0]
    res = shrink(None, Instance(x=np.array([0.3])),
                 fails=lambda i: (0.2 < np.sum(i.x) < 0.4) or None)
    assert res.instance.x.tolist() == [1 / 3]      # 0 and the integers fail; then 1/2, 1/3
    assert _complexity(0) < _complexity(1) < _complexity(0.5) < _complexity(1 / 3)


def test_shrink_keeps_only_failing_admissible_candidates():
    """The improvement identity with its 'doubled' mutant: shrunk to one sample with small
    numbers; the result fails on the engine's own evaluation and the original's sizes shrank."""
    from hypothesis import find
    claim = explored_claim(REG.get("kb2019.theorem2.improvement_identity"), mutate="doubled")
    ev = Evaluator(claim)
    B = get_backend("numpy")

    def fails(i):
        e = ev.evaluate(i) if admissible(claim, i) else None
        return e if e is not None and e.fails else None

    inst = find(claim.instances(claim.assumed),
                lambda i: i.m >= 5 and i.d_z >= 2 and fails(i) is not None)
    res = shrink(claim, inst, fails=fails, examples=[find(claim.instances(claim.assumed),
                                                          lambda i: i.m == 3 and i.d_x == 1)])
    small = res.instance
    assert small.X.shape[0] < inst.X.shape[0] and small.m == small.X.shape[0]
    assert small.Z.shape[1] <= inst.Z.shape[1] and small.d_z == small.Z.shape[1]
    v, t, bad = _failures(_evaluate(claim, small, None, B))
    assert np.all(bad)
    for name in ("X", "Z", "Y"):
        assert all(_complexity(x)[0] <= 100 for x in getattr(small, name).ravel())
    assert sizes_of(small)["m"] == small.m


def test_instance_that_does_not_fail_is_returned_unchanged():
    inst = Instance(x=np.array([1.5]))
    res = shrink(None, inst, fails=lambda i: None)
    assert res.instance is inst and res.evaluation is None and res.evaluations == 1


def test_budget_bounds_the_work():
    inst = Instance(x=np.linspace(0.1, 0.9, 40))
    res = shrink(None, inst, fails=lambda i: True, max_evaluations=7)
    assert res.evaluations <= 7


def test_free_integers_shrink_but_sizes_move_only_with_their_arrays():
    inst = Instance(X=np.ones((3, 2)) * 0.7, m=3, T=64)
    res = shrink(None, inst, fails=lambda i: (i.T >= 5 and i.X.shape[0] >= 2) or None,
                 examples=[inst])
    assert res.instance.T == 5          # 64 -> 32 -> 16 -> 8 -> 7 -> 6 -> 5 (4 fails no more)
    assert res.instance.X.shape[0] == 2 and res.instance.m == 2
