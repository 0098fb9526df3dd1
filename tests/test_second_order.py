"""Certified λ_min and ε-SOPSP certificates."""
import numpy as np

from proofcheck.losses import SquaredLoss
from proofcheck.scalar_resnet import ScalarResNet
from proofcheck.second_order import (certify_sopsp, is_positive_definite, lambda_min_enclosure,
                                     sopsp_level)


def test_enclosure_brackets_eigenvalue():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(6, 6))
    H = A + A.T
    lam = np.linalg.eigvalsh(H)[0]
    enc = lambda_min_enclosure(H)
    assert enc.lower <= lam <= enc.upper
    assert not is_positive_definite(H - (enc.upper + 1e-9) * np.eye(6))


def test_sopsp_certificate_decides_both_ways():
    rng = np.random.default_rng(2)
    X, F, y = rng.normal(size=(4, 2)), np.tanh(rng.normal(size=(4, 1))), rng.normal(size=4)
    net = ScalarResNet(X, y, F, SquaredLoss())
    w, V = rng.normal(size=2), rng.normal(size=(2, 1))
    mu2 = net.lipschitz_bounds(5.0).mu2
    g = np.linalg.norm(net.flat_gradient(w, V))
    lam = np.linalg.eigvalsh(net.hessian(w, V))[0]
    level = sopsp_level(g, lam, mu2)
    assert certify_sopsp(net, w, V, 2 * level, mu2).holds is True
    assert certify_sopsp(net, w, V, level / 10, mu2).holds is False


def test_find_sopsp_returns_a_certified_point():
    from proofcheck.second_order import find_sopsp
    rng = np.random.default_rng(3)
    X, F, y = rng.normal(size=(6, 2)), np.tanh(rng.normal(size=(6, 2))), rng.normal(size=6)
    net = ScalarResNet(X, y, F, SquaredLoss())
    mu2 = net.lipschitz_bounds(4.0).mu2
    res = find_sopsp(net, 0.1, mu2, w0=rng.normal(size=2), V0=rng.normal(size=(2, 2)))
    assert res.certificate.holds is True
    assert res.certificate.grad_norm <= 0.1


def test_exact_pd_test_on_mpf_and_refuses_asymmetry():
    import mpmath
    import pytest
    H = np.array([[mpmath.mpf(1), mpmath.mpf("0.5")], [mpmath.mpf("0.5"), mpmath.mpf(1)]],
                 dtype=object)
    assert is_positive_definite(H)
    assert not is_positive_definite(H - mpmath.mpf("0.5") * np.eye(2))   # singular: not PD
    with pytest.raises(ValueError):
        is_positive_definite(np.array([[1.0, 2.0], [0.0, 1.0]]))


def test_theorem3_derived_bound_holds_at_generated_sopsp_points():
    """The √2·b form of Theorem 3's bound (our reading of the δ = √ε substitution) holds at the
    catalogue's own ε-SOPSP instances, and is >= the printed √(2b) form exactly when b >= 1."""
    from hypothesis import given, settings
    from proofcheck.catalogue.shamir2018._terms import theorem3_instances, theorem3_terms

    @settings(max_examples=25, database=None, deadline=None)
    @given(theorem3_instances())
    def check(inst):
        q = theorem3_terms(inst)
        assert q.F <= q.F_lin + q.bound(sqrt_2b=False) + q.tol
        assert (q.bound(sqrt_2b=False) >= q.bound()) == (q.b >= 1) or \
            q.bound(sqrt_2b=False) == q.bound()

    check()


def test_positive_definite_keeps_the_sign_of_mpf_entries():
    """A negative mpf entry is negative (mpmath's man_exp drops the sign: it read diag(-1, 1)
    as the identity)."""
    import mpmath
    with mpmath.workdps(30):
        H = np.array([[mpmath.mpf(-1), mpmath.mpf(0)], [mpmath.mpf(0), mpmath.mpf(1)]],
                     dtype=object)
        assert not is_positive_definite(H)
        assert is_positive_definite(-H + 2 * mpmath.mpf(1) * np.eye(2, dtype=int).astype(object))
