"""Tests of proofcheck.symbolic: KB2019's identities are proven, their mutants refuted exactly.

Every verdict asserted here is re-derived independently: witnesses are substituted back into a
separately built lhs - rhs, projections are compared with sympy's pseudo-inverse, sweep orders
are recomputed from itertools.
"""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest
import sympy as sp

from proofcheck.symbolic import (
    IdentityResult,
    SizeSweep,
    exact_null_projection,
    exact_projection,
    kron,
    kron_jacobian,
    prove_identity,
    random_rational_matrix,
    symbol_matrix,
    symbol_vector,
    unvec,
    vec,
)


# ----------------------------------------------------------------------------- builders (KB2019)

def vec_product(variant: str):
    """vec(M1 M2 M3) against (M3^T kron M1) vec(M2) (the true one) or a transposed variant."""
    def build(s):
        M1 = symbol_matrix("A", s["a"], s["b"])
        M2 = symbol_matrix("B", s["b"], s["c"])
        M3 = symbol_matrix("C", s["c"], s["d"])
        K = {"true": kron(M3.T, M1),
             "no_transpose": kron(M3, M1),          # (M3 kron M1): the transpose forgotten
             "swapped": kron(M1, M3.T)}[variant]    # Kronecker factors in the wrong order
        return vec(M1 * M2 * M3), K * vec(M2)
    return build


def lemma1(which: str):
    """KB2019 Lemma 1 for h = W (x + V z), and a transposed variant."""
    def build(s):
        W = symbol_matrix("W", s["d_y"], s["d_x"])
        V = symbol_matrix("V", s["d_x"], s["d_z"])
        x, z = symbol_vector("x", s["d_x"]), symbol_vector("z", s["d_z"])
        h = W * (x + V * z)
        if which == "W":
            return kron_jacobian(h, W), kron((x + V * z).T, sp.eye(s["d_y"]))
        if which == "V":
            return kron_jacobian(h, V), kron(z.T, W)
        if which == "V_transposed":
            return kron_jacobian(h, V), kron(z.T, W.T)
        raise AssertionError(which)
    return build


def theorem2_projection(mutant: bool = False):
    """P[[X Z]] = P[X] + P[P_N[X] Z] (KB2019 proof of Theorem 2); mutant: P[X] + P[Z]."""
    def build(s, rng):
        X = random_rational_matrix(s["m"], s["d_x"], rng, rank=s["r_x"])
        Z = random_rational_matrix(s["m"], s["d_z"], rng)
        lhs = exact_projection(X.row_join(Z))
        second = Z if mutant else exact_null_projection(X) * Z
        return lhs, exact_projection(X) + exact_projection(second), {"X": X, "Z": Z}
    return build


ABCD = SizeSweep(a=(1, 3), b=(1, 3), c=(1, 3), d=(1, 3))
DIMS = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3))
PROJ = SizeSweep(m=(1, 5), d_x=(1, 2), d_z=(1, 2), r_x=(0, 2), where="r_x <= min(m, d_x)")


def residual_at(build, size, witness):
    lhs, rhs = build(size)[:2]
    return (sp.Matrix(lhs) - sp.Matrix(rhs)).xreplace(witness)


def assert_prefix_then_refuted(res: IdentityResult, sweep: SizeSweep):
    """proven_sizes is exactly the sweep up to refuted_at: the refutation is the first one."""
    order = sweep.sizes
    k = order.index(res.refuted_at)
    assert res.proven_sizes == order[:k]


# ----------------------------------------------------------------------------- vec, kron, symbols

def test_symbol_matrix_names_are_one_based_and_real():
    W = symbol_matrix("W", 2, 3)
    assert W.shape == (2, 3)
    assert str(W[0, 1]) == "W_1_2" and str(W[1, 2]) == "W_2_3"
    assert all(e.is_real for e in W)
    x = symbol_vector("x", 3)
    assert x.shape == (3, 1) and [str(e) for e in x] == ["x_1", "x_2", "x_3"]


def test_vec_is_column_major_as_in_kb2019():
    M = symbol_matrix("M", 2, 3)
    expected = [M[i, j] for j in range(3) for i in range(2)]   # M11, M21, M12, M22, ...
    assert list(vec(M)) == expected and vec(M).shape == (6, 1)
    assert unvec(vec(M), 2, 3) == M
    assert unvec(vec(M).T, 2, 3) == M      # a row vector is accepted too
    assert vec(sp.Symbol("t")) == sp.Matrix([[sp.Symbol("t")]])


def test_kron_matches_definition():
    A, B = symbol_matrix("A", 2, 1), symbol_matrix("B", 1, 3)
    K = kron(A, B)
    assert K.shape == (2, 3)
    for i, j in itertools.product(range(2), range(3)):
        assert K[i, j] == A[i, 0] * B[0, j]
    assert kron(A, B, sp.eye(2)).shape == (4, 6)


def test_kron_jacobian_shape_and_entries():
    W, x = symbol_matrix("W", 2, 3), symbol_vector("x", 3)
    J = kron_jacobian(W * x, W)
    assert J.shape == (2, 6)
    # d (W x)_i / d W_kl = delta_ik x_l, read in vec order (column-major in W).
    for i in range(2):
        for col, (k, l) in enumerate((k, l) for l in range(3) for k in range(2)):
            assert J[i, col] == (x[l] if i == k else 0)
    assert kron_jacobian((x.T * x)[0], x).shape == (1, 3)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="unvec needs a vector of 2\\*2"):
        unvec(sp.Matrix([1, 2, 3]), 2, 2)
    with pytest.raises(TypeError, match="not a Symbol"):
        kron_jacobian(symbol_vector("x", 2), sp.Matrix([1, 2]))
    with pytest.raises(TypeError, match="rows must be an int"):
        symbol_matrix("W", 1.5, 2)
    with pytest.raises(ValueError, match=">= 0"):
        symbol_vector("x", -1)
    with pytest.raises(TypeError, match="float"):
        prove_identity(lambda s: (sp.Float(0.5) * symbol_vector("x", s["n"]),
                                  symbol_vector("x", s["n"]) / 2), SizeSweep(n=1))
    with pytest.raises(ValueError, match="empty"):
        prove_identity(lambda s: (1, 1), SizeSweep(n=(1, 2), where="n > 5"))
    with pytest.raises(ValueError, match="method"):
        prove_identity(lambda s: (1, 1), SizeSweep(n=1), method="numeric")
    with pytest.raises(TypeError, match="method='exact-random'"):
        prove_identity(theorem2_projection(), PROJ)
    with pytest.raises(TypeError, match="not exact"):
        exact_projection(np.array([[0.5, 1.0]]))
    with pytest.raises(TypeError, match="non-exact"):
        exact_projection(sp.Matrix([[sp.nan, 1]]))
    with pytest.raises(TypeError, match="non-rational"):
        exact_projection(symbol_matrix("X", 2, 1))
    with pytest.raises(ValueError, match="rank 3 is impossible"):
        random_rational_matrix(2, 4, 0, rank=3)


# ----------------------------------------------------------------------------- SizeSweep

def test_size_sweep_kb2019_assumption_a1():
    sweep = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3),
                      where=lambda s: s["d_y"] <= min(s["d_x"], s["d_z"]))
    expected = [dict(d_x=a, d_y=b, d_z=c) for a, b, c in itertools.product(range(1, 4), repeat=3)
                if b <= min(a, c)]
    assert len(sweep) == len(expected)
    assert sorted(map(lambda s: tuple(s.values()), sweep)) == \
        sorted(map(lambda s: tuple(s.values()), expected))
    assert sweep.describe() == \
        f"d_x, d_y, d_z in 1..3 with d_y <= min(d_x, d_z): {len(expected)} sizes"
    totals = [sum(s.values()) for s in sweep]
    assert totals == sorted(totals)          # smallest first
    as_string = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3), where="d_y <= min(d_x, d_z)")
    assert as_string.sizes == sweep.sizes and as_string.describe() == sweep.describe()


def test_size_sweep_mixed_ranges_describe():
    sweep = SizeSweep(m=4, d_x=(1, 2), d_z=[1, 3])
    assert sweep.describe() == "m = 4; d_x in 1..2; d_z in {1, 3}: 4 sizes"
    assert {s["d_z"] for s in sweep} == {1, 3}
    with pytest.raises(ValueError, match="low end exceeds"):
        SizeSweep(n=(3, 1))
    with pytest.raises(ValueError, match="not a Python expression"):
        SizeSweep(n=(1, 2), where="n <")


# ----------------------------------------------------------------------------- acceptance: KB2019

def test_vec_of_triple_product_is_proven_at_all_shapes_1_to_3():
    res = prove_identity(vec_product("true"), ABCD, name="vec(M1 M2 M3)")
    assert res.holds and res.verdict == "proven"
    assert res.proven_sizes == ABCD.sizes and len(res.proven_sizes) == 3 ** 4
    assert res.refuted_at is None and res.witness is None
    assert "proven exactly" in res.describe() and "81 sizes" in res.describe()


@pytest.mark.parametrize("which", ["W", "V"])
def test_lemma1_jacobians_are_proven(which):
    res = prove_identity(lemma1(which), DIMS, name=f"Lemma 1, d h / d vec({which})")
    assert res.holds, res.describe()
    assert len(res.proven_sizes) == 27 and res.method == "symbolic"


def test_forgotten_transpose_in_vec_identity_refuted_with_exact_witness():
    # On square M3 (c == d) the sides conform, and M3 = M3^T exactly when c == 1: so the
    # smallest refuted size has c = d = 2 and a = b = 1.
    sweep = SizeSweep(a=(1, 3), b=(1, 3), c=(1, 3), d=(1, 3), where="c == d")
    build = vec_product("no_transpose")
    res = prove_identity(build, sweep, name="vec with M3 for M3^T")
    assert not res.holds and res.verdict == "refuted"
    assert res.refuted_at == min((s for s in sweep if s["c"] > 1),
                                 key=lambda s: (sum(s.values()), tuple(s.values())))
    assert all(s["c"] == 1 for s in res.proven_sizes)
    assert_prefix_then_refuted(res, sweep)
    assert all(isinstance(v, sp.Rational) for v in res.witness.values())
    again = residual_at(build, res.refuted_at, res.witness)
    assert again == res.residual and any(e != 0 for e in again)
    assert res.certified and res.residual_max_abs > 0


def test_swapped_kronecker_factors_refuted_at_first_failing_size():
    build = vec_product("swapped")
    res = prove_identity(build, ABCD, name="vec with M1 kron M3^T")
    assert res.refuted_at is not None and res.reason.startswith("entry")
    assert_prefix_then_refuted(res, ABCD)
    assert any(e != 0 for e in residual_at(build, res.refuted_at, res.witness))
    # Independent check of "first": at every earlier size the expanded difference is 0.
    for size in res.proven_sizes:
        lhs, rhs = build(size)
        assert (lhs - rhs).expand() == sp.zeros(*lhs.shape)


def test_forgotten_transpose_without_conforming_shapes_is_a_shape_refutation():
    res = prove_identity(vec_product("no_transpose"), ABCD)
    assert res.refuted_at is not None and res.refuted_at["c"] != res.refuted_at["d"]
    assert "shape error" in res.reason and res.witness is None


def test_lemma1_transposed_w_refuted_by_shape_then_by_witness():
    res = prove_identity(lemma1("V_transposed"), DIMS, name="z^T kron W^T")
    assert res.refuted_at is not None and res.refuted_at["d_x"] != res.refuted_at["d_y"]
    lhs, rhs = lemma1("V_transposed")(res.refuted_at)
    assert res.reason == f"shape mismatch: lhs {lhs.rows}x{lhs.cols}, rhs {rhs.rows}x{rhs.cols}"
    assert_prefix_then_refuted(res, DIMS)
    # Where the shapes agree (d_x = d_y) the transpose still breaks it once W is 2x2.
    square = SizeSweep(d_x=(1, 3), d_y=(1, 3), d_z=(1, 3), where="d_x == d_y")
    res = prove_identity(lemma1("V_transposed"), square)
    assert res.refuted_at["d_x"] == 2 and res.refuted_at["d_z"] == 1
    assert any(e != 0 for e in residual_at(lemma1("V_transposed"), res.refuted_at, res.witness))
    assert "witness" in res.describe() and "certified" in res.describe()


def test_projection_identity_of_theorem2_holds_exact_random_with_rank_deficient_x():
    assert any(s["r_x"] < s["d_x"] for s in PROJ)        # the sweep has rank-deficient X
    res = prove_identity(theorem2_projection(), PROJ, method="exact-random", trials=2,
                         name="P[[X Z]] = P[X] + P[P_N[X] Z]")
    assert res.holds and res.verdict == "holds at random points"
    assert res.proven_sizes == PROJ.sizes
    text = res.describe()
    assert "Schwartz-Zippel" in text and "not a proof" in text


def test_projection_mutant_refuted_with_certified_instance():
    build = theorem2_projection(mutant=True)
    res = prove_identity(build, PROJ, method="exact-random", name="P[X] + P[Z]")
    assert res.refuted_at is not None and res.certified
    assert_prefix_then_refuted(res, PROJ)
    X, Z = res.witness["X"], res.witness["Z"]
    # Recompute with sympy's pseudo-inverse, independent of exact_projection: P[M] = M M^+.
    pinv_proj = lambda M: M * M.pinv()
    residual = pinv_proj(X.row_join(Z)) - pinv_proj(X) - pinv_proj(Z)
    assert residual == res.residual and residual != sp.zeros(*residual.shape)
    # Where X = 0 the mutant coincides with the truth, so those sizes may precede it.
    assert all(s["r_x"] == 0 for s in res.proven_sizes)


# ----------------------------------------------------------------------------- routes of proof

def test_scalar_identities_and_witness():
    a, b = sp.symbols("a b", real=True)
    sweep = SizeSweep(n=1)
    assert prove_identity(lambda s: ((a + b) ** 2, a**2 + 2 * a * b + b**2), sweep).holds
    res = prove_identity(lambda s: ((a + b) ** 2, a**2 + b**2), sweep)
    assert res.witness[a] * res.witness[b] != 0
    assert res.residual == sp.Matrix([[2 * res.witness[a] * res.witness[b]]])


def test_rational_function_identities_use_cancel_and_avoid_poles():
    def inverse(s):
        A = symbol_matrix("A", s["n"], s["n"])
        return A.inv() * A.det(), A.adjugate()     # entries are rational functions
    sweep = SizeSweep(n=(1, 2))
    assert prove_identity(inverse, sweep).holds

    def wrong(s):
        A = symbol_matrix("A", s["n"], s["n"])
        return A.inv(), A.adjugate()
    res = prove_identity(wrong, sweep)
    assert res.refuted_at == {"n": 1}
    A = symbol_matrix("A", 1, 1)
    assert A.det().xreplace(res.witness) != 0       # the witness is not at a pole
    assert residual_at(wrong, res.refuted_at, res.witness) == res.residual


def test_non_rational_entries_fall_back_to_simplify():
    t = sp.Symbol("t", real=True)
    assert prove_identity(lambda s: (sp.sin(t) ** 2 + sp.cos(t) ** 2, 1), SizeSweep(n=1)).holds
    res = prove_identity(lambda s: (sp.Abs(t), t), SizeSweep(n=1))
    assert res.witness[t] < 0 and res.residual == sp.Matrix([[2 * abs(res.witness[t])]])


def test_true_identity_beyond_simplify_is_proven_by_the_decision_procedure():
    # sqrt((t + 1)^2) = |t + 1| holds for real t, but simplify does not reduce it: the decision
    # procedure (z3/cvc5, sqrt and Abs encoded exactly) proves it for all real t.
    t = sp.Symbol("t", real=True)
    res = prove_identity(lambda s: (sp.sqrt(t**2 + 2 * t + 1), sp.Abs(t + 1)), SizeSweep(n=(1, 2)))
    assert res.verdict == "proven" and res.holds
    assert [d["status"] for d in res.decisions] == ["proven", "proven"]
    assert "decision procedure" in res.describe()


def test_true_identity_outside_every_method_is_undecided_not_proven():
    # exp is outside both simplify's reach here and the decidable fragment: "undecided" with
    # the reason, never a proof or a refutation.
    t = sp.Symbol("t", real=True)
    res = prove_identity(lambda s: (sp.sqrt(sp.exp(2 * t) + 2 * sp.exp(t) + 1), sp.exp(t) + 1),
                         SizeSweep(n=(1, 2)))
    assert res.verdict == "undecided" and not res.holds
    assert res.undecided_at == {"n": 1} and res.refuted_at is None and res.witness is None
    assert "UNDECIDED" in res.describe() and "outside the decidable fragment" in res.reason


def test_exact_random_substitutes_symbols_when_build_takes_only_sizes():
    res = prove_identity(vec_product("true"), SizeSweep(a=(1, 2), b=(1, 2), c=2, d=2),
                         method="exact-random", trials=3)
    assert res.holds and res.trials == 3
    res = prove_identity(vec_product("no_transpose"), SizeSweep(a=1, b=1, c=(1, 2), d=(1, 2),
                                                                where="c == d"),
                         method="exact-random")
    assert res.refuted_at == {"a": 1, "b": 1, "c": 2, "d": 2}
    assert all(isinstance(v, sp.Rational) for v in res.witness.values())
    assert residual_at(vec_product("no_transpose"), res.refuted_at, res.witness) == res.residual


def test_result_is_plain_printable_data():
    res = prove_identity(lemma1("V_transposed"), SizeSweep(d_x=2, d_y=2, d_z=1))
    d = res.to_dict()
    assert d["verdict"] == "refuted" and d["refuted_at"] == {"d_x": 2, "d_y": 2, "d_z": 1}
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in d["witness"].items())
    import json
    json.dumps(d)


# ----------------------------------------------------------------------------- exact linear algebra

@pytest.mark.parametrize("rows,cols,rank", [(1, 1, 0), (1, 1, 1), (3, 2, 1), (4, 3, 2),
                                            (5, 2, 2), (3, 4, 3), (2, 5, 1)])
def test_random_rational_matrix_has_exact_rank_and_projection_properties(rows, cols, rank):
    rng = np.random.default_rng([rows, cols, rank])
    M = random_rational_matrix(rows, cols, rng, rank=rank)
    assert M.shape == (rows, cols) and M.rank() == rank
    P = exact_projection(M)
    assert P == P.T and P * P == P and P * M == M and P.rank() == rank
    assert P == M * M.pinv()                                   # independent formula
    N = exact_null_projection(M)
    assert N * M == sp.zeros(rows, cols) and N + P == sp.eye(rows) and N * N == N


def test_random_rational_matrix_denominators_and_reproducibility():
    M = random_rational_matrix(4, 4, 7, denominators=(1, 3), max_numerator=2)
    assert all(e.q in (1, 3) and abs(e.p) <= 2 for e in M)
    assert M == random_rational_matrix(4, 4, 7, denominators=(1, 3), max_numerator=2)
    assert random_rational_matrix(2, 2, random.Random(1)).shape == (2, 2)
