"""Tests for proofcheck.strategies: exact ranks, violated relations, health at default
settings, shrinking."""

import doctest
import math
from fractions import Fraction

import flint
import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import proofcheck.strategies as S
from proofcheck.losses import SoftmaxCrossEntropy, SquaredLoss
from proofcheck.models import ResNetProblem
from proofcheck.strategies import (
    A1,
    Relation,
    SeededGenerator,
    cond_relative_accuracy,
    datasets,
    dimensions,
    floats_finite,
    matrices,
    rank_deficient_W,
    resnet_parameters,
    seeds,
)

# find() without the database: it keys stored examples by the *condition's* source, so two
# `lambda A: True` in different tests would replay each other's examples unshrunk.  The
# explain phase only annotates failures and costs most of the time here.
FIND = settings(database=None, max_examples=500, phases=[Phase.generate, Phase.shrink])


def exact_rank(A: np.ndarray) -> int:
    """Rank over Q with python-flint (entries: integer-valued floats, ints or Fractions)."""
    rows, cols = A.shape
    entries = []
    for a in A.flat:
        f = Fraction(a)  # floats here are integer-valued, so this is exact
        entries.append(flint.fmpq(f.numerator, f.denominator))
    return flint.fmpq_mat(rows, cols, entries).rank()


# --------------------------------------------------------------------------------------------
# Relation / dimensions
# --------------------------------------------------------------------------------------------


def test_relation_algebra():
    d = {"d_x": 3, "d_y": 2, "d_z": 1}
    assert A1(d) is False and A1.negate()(d) is True and (~A1)(d) is True
    assert A1.negate().negate() is A1
    assert str(A1) == "d_y <= min(d_x, d_z)" and str(~A1) == "not (d_y <= min(d_x, d_z))"
    big = Relation("d_x >= 3", lambda d: d["d_x"] >= 3)
    assert (A1 | big)(d) is True and (A1 & big)(d) is False
    assert "and" in str(A1 & big) and repr(A1) == "Relation('d_y <= min(d_x, d_z)')"
    with pytest.raises(TypeError, match="non-empty str"):
        Relation("", lambda d: True)
    with pytest.raises(TypeError, match="callable"):
        Relation("x", 3)


@given(dimensions(relation=A1))
def test_dimensions_satisfy_relation(d):
    assert set(d) == {"d_x", "d_y", "d_z"}
    assert all(1 <= v <= 4 for v in d.values())
    assert d["d_y"] <= min(d["d_x"], d["d_z"])


@given(dimensions(relation=A1, violate=True))
def test_dimensions_violate_really_violates(d):
    assert all(1 <= v <= 4 for v in d.values())
    assert d["d_y"] > min(d["d_x"], d["d_z"])


@given(dimensions(("m", "d"), min_value={"m": 2, "d": 0}, max_value={"m": 9, "d": 3},
                  relation=Relation("m > d", lambda d: d["m"] > d["d"])))
def test_dimensions_per_name_box(d):
    assert 2 <= d["m"] <= 9 and 0 <= d["d"] <= 3 and d["m"] > d["d"]


def test_dimensions_cover_every_feasible_point():
    # the prefix tree must reach every feasible point: find each one by equality
    box = range(1, 4)
    feasible = [(x, y, z) for x in box for y in box for z in box if y > min(x, z)]
    strat = dimensions(max_value=3, relation=A1, violate=True)
    for p in feasible:
        target = dict(zip(("d_x", "d_y", "d_z"), p))
        assert find(strat, lambda d: d == target, settings=FIND) == target


def test_dimensions_shrink_to_smallest():
    assert find(dimensions(relation=A1), lambda d: d["d_x"] >= 3, settings=FIND) == {
        "d_x": 3, "d_y": 1, "d_z": 1}
    assert find(dimensions(relation=A1, violate=True), lambda d: True, settings=FIND) == {
        "d_x": 1, "d_y": 2, "d_z": 1}


def test_dimensions_errors():
    with pytest.raises(ValueError, match=r"'d_x > 10' has no solution in the box"):
        dimensions(relation=Relation("d_x > 10", lambda d: d["d_x"] > 10))
    always = Relation("always", lambda d: True)
    with pytest.raises(ValueError, match=r"not \(always\)"):
        dimensions(relation=always, violate=True)
    with pytest.raises(ValueError, match="'d_w', which is not among"):
        dimensions(relation=Relation("d_w > 0", lambda d: d["d_w"] > 0))
    with pytest.raises(ValueError, match="needs a relation"):
        dimensions(violate=True)
    with pytest.raises(TypeError, match="must be a Relation"):
        dimensions(relation=lambda d: True)
    with pytest.raises(ValueError, match="empty range"):
        dimensions(min_value=3, max_value=2)
    with pytest.raises(ValueError, match="missing"):
        dimensions(max_value={"d_x": 3})
    with pytest.raises(ValueError, match="distinct"):
        dimensions(("a", "a"))


@settings(max_examples=30)
@given(dimensions(("a", "b"), max_value=10**4,
                  relation=Relation("a < b", lambda d: d["a"] < d["b"])))
def test_dimensions_large_box_falls_back_to_filter(d):
    assert d["a"] < d["b"] <= 10**4


def test_dimensions_large_box_unsatisfiable():
    with pytest.raises(ValueError, match="probably unsatisfiable"):
        dimensions(("a", "b"), max_value=10**4,
                   relation=Relation("a > 2 * 10**4", lambda d: d["a"] > 2 * 10**4))


# --------------------------------------------------------------------------------------------
# matrices
# --------------------------------------------------------------------------------------------


@st.composite
def shape_and_rank(draw, max_size=5):
    m = draw(st.integers(1, max_size))
    n = draw(st.integers(1, max_size))
    return m, n, draw(st.integers(0, min(m, n)))


@pytest.mark.parametrize("elements", ["int", "rational"])
@given(data=st.data())  # health checks on (they run whatever max_examples is)
@settings(max_examples=60)
def test_exact_rank(elements, data):
    m, n, r = data.draw(shape_and_rank())
    A = data.draw(matrices(m, n, rank=r, elements=elements))
    assert A.shape == (m, n)
    if elements == "int":
        assert A.dtype == np.float64 and np.all(A == np.round(A))
    else:
        assert A.dtype == object and all(isinstance(a, Fraction) for a in A.flat)
    assert exact_rank(A) == r


@given(data=st.data())
@settings(max_examples=60)
def test_float_rank_is_numerical_rank(data):
    m, n, r = data.draw(shape_and_rank(max_size=6))
    A = data.draw(matrices(m, n, rank=r))
    assert A.dtype == np.float64 and np.isfinite(A).all()
    s = np.linalg.svd(A, compute_uv=False)
    # numpy's matrix_rank cutoff, recomputed: rank-r product, the rest is rounding
    tol = s[0] * max(m, n) * np.finfo(float).eps if s.size and s[0] > 0 else 0.0
    assert int((s > tol).sum()) == r


@pytest.mark.parametrize("elements", ["float", "int", "rational"])
@given(data=st.data())
@settings(max_examples=40)
def test_free_entries_within_bound(elements, data):
    m, n, _ = data.draw(shape_and_rank())
    bound = {"float": 2.5, "int": 2, "rational": Fraction(3, 2)}[elements]
    A = data.draw(matrices(m, n, elements=elements, bound=bound, max_denominator=3))
    assert A.shape == (m, n)
    assert all(abs(a) <= bound for a in A.flat)
    if elements == "rational":
        assert all(a.denominator <= 3 for a in A.flat)


def test_edge_cases_are_generated():
    seen = set()

    @settings(max_examples=200, database=None)
    @given(matrices(3, 4, elements="int"))
    def collect(A):
        if not A.any():
            seen.add("zero")
        elif exact_rank(A) == 1:
            seen.add("rank_one")
        if any((A[i] == A[j]).all() and A[i].any() for i in range(3) for j in range(i)):
            seen.add("repeated_rows")

    collect()
    assert seen == {"zero", "rank_one", "repeated_rows"}


@pytest.mark.parametrize("cond", [1.0, 10.0, 1e6, 1e10])
@given(data=st.data())
@settings(max_examples=25)
def test_condition_number(cond, data):
    m, n = data.draw(st.integers(2, 6)), data.draw(st.integers(2, 6))
    A = data.draw(matrices(m, n, cond=cond))
    rel = abs(np.linalg.cond(A) / cond - 1)
    assert rel <= cond_relative_accuracy(m, n, cond)


def test_condition_number_needs_two_singular_values():
    assert find(matrices(1, 3, cond=1.0), lambda A: True, settings=FIND).shape == (1, 3)
    with pytest.raises(ValueError, match="needs rank >= 2"):
        matrices(1, 3, cond=10.0)
    with pytest.raises(ValueError, match="needs rank >= 2"):
        matrices(3, 3, rank=1, cond=10.0)


@given(matrices(6, 4, rank=2, cond=1e3))
def test_condition_number_of_rank_deficient(A):
    s = np.linalg.svd(A, compute_uv=False)
    assert abs(s[0] / s[1] / 1e3 - 1) <= cond_relative_accuracy(6, 4, 1e3)
    assert s[2] <= s[0] * 6 * np.finfo(float).eps * 8  # exact zeros, up to the product's error


def test_matrix_shrinks_to_small_negative():
    A = find(matrices(st.integers(1, 4), st.integers(1, 4)), lambda A: (A < 0).any(),
             settings=FIND)
    assert A.shape == (1, 1) and A[0, 0] == -1.0
    B = find(matrices(3, 3, rank=2), lambda A: (A < 0).any(), settings=FIND)
    assert np.abs(B).max() == 1.0  # identity pivots, one D_ii = -1, no free entries left
    C = find(matrices(2, 2, elements="rational"), lambda A: any(a.denominator > 1 for a in A.flat),
             settings=FIND)
    assert sorted(C.flat) == [0, 0, 0, Fraction(1, 2)]


def test_rng_payload_large_matrix():
    @settings(max_examples=10, database=None)
    @given(matrices(300, 5, rank=3, elements="int"), matrices(300, 5, rank=3))
    def check(A, B):
        assert exact_rank(A) == 3 and np.linalg.matrix_rank(B) == 3

    check()


def test_matrices_errors():
    with pytest.raises(ValueError, match="exceeds min"):
        matrices(2, 3, rank=3)
    with pytest.raises(ValueError, match="elements must be one of"):
        matrices(2, 2, elements="complex")
    with pytest.raises(ValueError, match="cond= needs elements='float'"):
        matrices(2, 2, cond=10, elements="int")
    with pytest.raises(ValueError, match="beyond what float64"):
        matrices(4, 4, cond=1e16)
    with pytest.raises(ValueError, match=">= 1"):
        matrices(2, 2, cond=0.5)
    with pytest.raises(ValueError, match="rows must be >= 1"):
        matrices(0, 2)
    with pytest.raises(TypeError, match="rows must be an int"):
        matrices(1.5, 2)
    with pytest.raises(ValueError, match="finite float"):
        matrices(2, 2, bound=float("nan"))
    with pytest.raises(ValueError, match="payload"):
        matrices(2, 2, payload="bytes")


def test_rank_too_large_for_drawn_shape_is_reported():
    @settings(database=None, max_examples=5)
    @given(matrices(st.just(1), 3, rank=2))
    def draw(A):
        pass

    with pytest.raises(ValueError, match="rank=2 exceeds min"):
        draw()


# --------------------------------------------------------------------------------------------
# data sets, ResNet parameters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("targets", ["real", "one_hot", "pm1"])
@given(data=st.data())
@settings(max_examples=25)
def test_datasets(targets, data):
    d = data.draw(dimensions(relation=A1))
    m = data.draw(st.integers(1, 6))
    rx = data.draw(st.integers(0, min(m, d["d_x"])))
    D = data.draw(datasets(m, d["d_x"], d["d_y"], d["d_z"], rank_X=rx, targets=targets,
                           elements="int"))
    assert D["X"].shape == (m, d["d_x"]) and D["Y"].shape == (m, d["d_y"])
    assert D["Z"].shape == (m, d["d_z"])
    assert exact_rank(D["X"]) == rx
    Y = D["Y"]
    if targets == "one_hot":
        assert set(np.unique(Y)) <= {0.0, 1.0} and (Y.sum(axis=1) == 1).all()
    elif targets == "pm1":
        assert set(np.unique(Y)) <= {-1.0, 1.0}


@settings(max_examples=30)
@given(datasets(st.integers(1, 5), 2, 3, targets="one_hot", elements="rational"))
def test_datasets_without_z_rational(D):
    assert set(D) == {"X", "Y"}
    assert D["X"].dtype == object and D["Y"].dtype == object
    assert all(sum(row) == 1 for row in D["Y"])


def test_datasets_large_m_from_rng():
    @settings(max_examples=10, database=None)
    @given(datasets(2000, 4, 3, 2, rank_Z=1, targets="pm1"))
    def check(D):
        assert D["X"].shape == (2000, 4) and D["Z"].shape == (2000, 2)
        assert np.linalg.matrix_rank(D["Z"]) == 1
        assert set(np.unique(D["Y"])) == {-1.0, 1.0}  # 6000 fair coins: both appear

    check()


def test_datasets_errors():
    with pytest.raises(ValueError, match="targets"):
        datasets(3, 2, 2, targets="softmax")
    with pytest.raises(ValueError, match="rank_Z given but d_z is None"):
        datasets(3, 2, 2, rank_Z=1)


@given(data=st.data())
@settings(max_examples=40)
def test_resnet_parameters(data):
    d = data.draw(dimensions(relation=A1))
    r = data.draw(st.integers(0, min(d["d_y"], d["d_x"])))
    P = data.draw(resnet_parameters(d["d_x"], d["d_y"], d["d_z"], rank_W=r, elements="rational"))
    assert P["W"].shape == (d["d_y"], d["d_x"]) and P["V"].shape == (d["d_x"], d["d_z"])
    assert exact_rank(P["W"]) == r


@given(data=st.data())
@settings(max_examples=50)
def test_rank_deficient_W(data):
    d_y, d_x = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5))
    W = data.draw(rank_deficient_W(d_y, d_x))
    assert W.shape == (d_y, d_x) and W.dtype == np.float64
    assert exact_rank(W) < d_y


def test_rank_deficient_W_reaches_max_rank():
    W = find(rank_deficient_W(4, 3), lambda W: exact_rank(W) == 3, settings=FIND)
    assert exact_rank(W) == 3 and np.abs(W).max() <= 2  # shrunk: identity pivots, small ints


# --------------------------------------------------------------------------------------------
# seeds, floats
# --------------------------------------------------------------------------------------------


@given(seeds())
def test_seeds_replay_from_repr(rng):
    assert isinstance(rng, np.random.Generator) and isinstance(rng, SeededGenerator)
    replay = eval(repr(rng), {"np": np})
    assert (rng.random(4) == replay.random(4)).all()


def test_seeds_shrink_to_zero():
    assert find(seeds(), lambda rng: True, settings=FIND).seed == 0


@given(floats_finite())
def test_floats_finite_is_finite(x):
    assert math.isfinite(x)


def test_floats_finite_nan_only_when_asked():
    assert math.isnan(find(floats_finite(allow_nan=True), math.isnan, settings=FIND))
    assert math.isinf(find(floats_finite(allow_infinity=True), math.isinf, settings=FIND))


# --------------------------------------------------------------------------------------------
# docstring examples
# --------------------------------------------------------------------------------------------


def test_docstring_examples():
    # the examples call find() without settings: run them without the example database
    previous = settings.get_current_profile_name()
    settings.register_profile("proofcheck-doctest", database=None,
                              phases=[Phase.generate, Phase.shrink])
    settings.load_profile("proofcheck-doctest")
    try:
        results = [doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
                   for mod in (S.core, S.piecewise, S.induced, S.scalar_resnet)]
    finally:
        settings.load_profile(previous)
    assert sum(r.attempted for r in results) > 10 and sum(r.failed for r in results) == 0


# --------------------------------------------------------------------------------------------
# ResNet problems (proofcheck.models exists now; imported directly, failures are not hidden)
# --------------------------------------------------------------------------------------------


@settings(max_examples=30)
@given(S.resnet_problems(st.sampled_from([SquaredLoss(), SoftmaxCrossEntropy()]),
                         dims=dimensions(relation=A1), m=st.integers(1, 5), targets="one_hot"))
def test_resnet_problems(problem):
    assert isinstance(problem, ResNetProblem)
    assert problem.d_y <= min(problem.d_x, problem.d_z)
    assert problem.X.shape == (problem.m, problem.d_x)
    assert problem.Z.shape == (problem.m, problem.d_z)
    assert (problem.Y.sum(axis=1) == 1).all()
