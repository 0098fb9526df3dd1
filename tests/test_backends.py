"""Tests for proofcheck.backends: the numpy and mpmath backends agree where float64 can
resolve the answer, mpmath resolves more where it cannot, precision never leaks."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy

from proofcheck.backends import MpmathBackend, NumpyBackend, get_backend

N = NumpyBackend()
H = MpmathBackend(digits=40)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((2, 6, 3))
    S = rng.standard_normal((2, 4, 4))
    S = S + np.swapaxes(S, -1, -2)
    return M, S


def close(a, b, tol):
    return np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))) <= tol


def ntol(M, extra=0):
    m, n = M.shape[-2:]
    return float(np.max(N.tolerance(1.0, cond=np.max(N.condition_number(M)),
                                    n_ops=m * n + extra)))


def test_backends_agree_on_linear_algebra(data):
    M, S = data
    Mh, Sh = H.asarray(M), H.asarray(S)
    tol = ntol(M)
    # float64 results differ from the 40-digit ones by float64 rounding only
    assert close(H.to_float(H.projection(Mh)), N.projection(M), tol)
    assert close(H.to_float(H.null_projection(Mh)), N.null_projection(M), tol)
    Y = M[..., :2] ** 2
    tol_y = ntol(M, extra=6 * 2) * np.max(np.abs(Y))  # scale |Y|, m k more roundings
    for B, A, YY in ((N, M, Y), (H, Mh, H.asarray(Y))):
        assert close(B.to_float(B.project(A, YY)), N.projection(M) @ Y, tol_y)
        assert close(B.to_float(B.null_project(A, YY)), N.null_projection(M) @ Y, tol_y)
    assert close(H.to_float(H.pinv(Mh)), N.pinv(M), tol * np.max(N.condition_number(M)))
    assert close(H.to_float(H.svdvals(Mh)), N.svdvals(M), tol * 6)
    assert np.array_equal(H.numerical_rank(Mh), N.numerical_rank(M))
    tol_s = ntol(S) * np.max(np.abs(S))
    assert close(H.to_float(H.eigvalsh(Sh)), N.eigvalsh(S), tol_s)
    assert close(H.to_float(H.min_eigvalsh(Sh)), np.linalg.eigvalsh(S)[..., 0], tol_s)
    x_h = H.solve(Sh, H.asarray(M[:, :4, :]))
    assert close(H.to_float(x_h), N.solve(S, M[:, :4, :]),
                 ntol(S) * float(np.max(N.condition_number(S))) * np.max(np.abs(N.to_float(x_h))))


def test_structural_ops_agree(data):
    M, S = data
    Mh = H.asarray(M)
    tol = ntol(M, extra=36)
    pairs = [
        (H.matmul(H.T(Mh), Mh), N.matmul(N.T(M), M)),
        (H.kron(Mh[:, :2, :2], Mh[:, 2:4, :]), N.kron(M[:, :2, :2], M[:, 2:4, :])),
        (H.hstack([Mh, Mh]), N.hstack([M, M])),
        (H.trace(H.asarray(S)), N.trace(S)),
        (H.fro2(Mh), N.fro2(M)),
        (H.norm(Mh), N.norm(M)),
        (H.sum(Mh, axis=1), N.sum(M, axis=1)),
        (H.mean(Mh, axis=(1, 2)), N.mean(M, axis=(1, 2))),
        (H.exp(Mh), N.exp(M)),
        (H.log(H.abs(Mh)), N.log(N.abs(M))),
        (H.log1p(H.abs(Mh)), N.log1p(N.abs(M))),
        (H.sqrt(H.abs(Mh)), N.sqrt(N.abs(M))),
        (H.maximum(Mh, 0), N.maximum(M, 0)),
    ]
    for got, want in pairs:
        assert H.to_float(got).shape == np.shape(want)
        assert close(H.to_float(got), want, tol * max(1.0, np.max(np.abs(want))))


def test_kron_is_batched_and_matches_numpy_kron_per_instance(data):
    M, _ = data
    K = N.kron(M[:, :2, :], M[:, 2:5, :2])
    assert K.shape == (2, 6, 6)
    for i in range(2):
        assert np.array_equal(K[i], np.kron(M[i, :2, :], M[i, 2:5, :2]))


def test_mpmath_carries_its_digits():
    # 1/3 solved at 40 digits agrees with the exact 1/3 to ~1e-40, not 1e-16
    x = H.solve(H.asarray([[3]]), H.asarray([1]))[0]
    with mpmath.workdps(80):
        err = abs(x - mpmath.mpf(1) / 3)
    assert err <= H.tolerance(mpmath.mpf(1) / 3)
    assert err < 1e-30
    # P @ P - P at 40 digits
    A = H.asarray([[1, 2], [3, 4], [5, 7]])
    P = H.projection(A)
    dev = np.max(H.to_float(H.abs(H.matmul(P, P) - P)))
    assert dev <= float(H.tolerance(1.0, cond=float(H.condition_number(A)), n_ops=6))
    assert dev < 1e-30


def test_rank_depends_on_precision_honestly():
    # Q diag(1, 1e-20), Q a rational rotation: exactly rank 2, s_min = 1e-20
    q = [[Fraction(3, 5), Fraction(-4, 5)], [Fraction(4, 5), Fraction(3, 5)]]
    tiny = Fraction(1, 10**20)
    M = [[q[0][0], q[0][1] * tiny], [q[1][0], q[1][1] * tiny]]
    assert int(N.numerical_rank(N.asarray(M))) == 1   # below float64's cutoff
    assert int(H.numerical_rank(H.asarray(M))) == 2   # resolved at 40 digits
    s_min = H.svdvals(H.asarray(M))[-1]
    with mpmath.workdps(60):
        assert abs(s_min - mpmath.mpf(10) ** -20) <= H.tolerance(1.0, n_ops=4)
    assert float(H.condition_number(H.asarray(M))) == pytest.approx(1e20, rel=1e-30)
    assert float(N.condition_number(N.asarray(M))) == 1.0  # rank 1 in float64


def test_condition_number_ignores_the_numerical_null_space():
    M = np.diag([4.0, 2.0, 0.0])
    assert float(N.condition_number(M)) == 2.0
    assert float(H.condition_number(H.asarray(M))) == 2.0
    assert float(N.condition_number(np.zeros((2, 2)))) == 1.0


def test_asarray_is_exact_where_possible():
    got = H.asarray([Fraction(1, 3), sympy.Rational(1, 3), 0.1, 2**70, sympy.Float("0.25")])
    with mpmath.workdps(40):
        third = mpmath.mpf(1) / 3
    assert got[0] == third and got[1] == third
    man, exp = int(got[2].man), int(got[2].exp)
    assert Fraction(man) * Fraction(2) ** exp == Fraction(0.1)  # the float, exactly
    assert int(got[3]) == 2**70
    assert got[4] == mpmath.mpf("0.25")
    assert H.asarray(sympy.Matrix([[1, 2], [3, 4]])).shape == (2, 2)
    assert N.asarray([Fraction(1, 3)])[0] == 1 / 3
    assert N.asarray(sympy.Matrix([[sympy.Rational(1, 4)]]))[0, 0] == 0.25
    with pytest.raises(TypeError):
        H.asarray([sympy.Symbol("x")])
    with pytest.raises(TypeError):
        H.asarray([1 + 2j])
    with pytest.raises(TypeError):
        N.asarray([["a"]])


def test_precision_does_not_leak():
    before = mpmath.mp.prec
    H.projection(H.asarray([[1, 2], [3, 4]]))
    with pytest.raises(ValueError):
        H.projection(H.asarray([[1, mpmath.inf]]))
    assert mpmath.mp.prec == before


def test_tolerance_model():
    for B in (N, H):
        u = float(B.unit_roundoff)
        assert float(B.tolerance(2.0)) == pytest.approx(B.safety * u * 2.0, rel=1e-12)
        assert float(B.tolerance(2.0, cond=10.0, n_ops=7)) == pytest.approx(
            B.safety * 70 * u * 2.0, rel=1e-12)
        assert float(B.tolerance(-2.0)) == float(B.tolerance(2.0))
        assert 0.0 < float(B.tolerance(0.0)) < 1e-300 or B is H
        assert B.tolerance(0.0) > 0
        for bad in (dict(cond=0.5), dict(n_ops=0), dict(n_ops=1.5)):
            with pytest.raises(ValueError):
                B.tolerance(1.0, **bad)
    assert N.unit_roundoff == 2.0**-53 and round(N.digits, 2) == 15.95
    with mpmath.workdps(40):
        assert H.unit_roundoff == mpmath.mpf(10) ** -40 and H.digits == 40
    batched = N.tolerance(np.array([1.0, 3.0]), cond=np.array([1.0, 2.0]))
    assert batched.shape == (2,) and batched[1] == 6 * batched[0]


def test_get_backend():
    assert get_backend("numpy").name == "numpy"
    assert get_backend("mpmath").digits == 50
    assert get_backend("mpmath", 30) == MpmathBackend(30)
    assert get_backend(H) is H
    with pytest.raises(ValueError):
        get_backend("cuda")
    with pytest.raises(ValueError):
        get_backend("numpy", digits=30)
    with pytest.raises(ValueError):
        MpmathBackend(digits=2)


@pytest.mark.parametrize("B", [N, H], ids=["numpy", "mpmath"])
def test_bad_input_is_rejected(B):
    with pytest.raises(ValueError, match="NaN or inf"):
        B.projection(B.asarray([[1.0, float("nan")]]))
    with pytest.raises(ValueError, match=r"\(\.\.\., m, n\)"):
        B.svdvals(B.asarray([1.0, 2.0]))
    with pytest.raises(ValueError):
        B.eigvalsh(B.asarray([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="cutoff method"):
        B.numerical_rank(B.eye(2), "nope")
