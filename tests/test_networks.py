"""Tests of proofcheck.networks: the KHK (2019) fully connected networks, D^(l), J(theta)."""

import doctest
import itertools

import numpy as np
import pytest

import proofcheck.networks as nw
from proofcheck.networks import (ABS, IDENTITY, RELU, Network, backprop_coefficients, d_block_list, d_blocks, forward,
                                 gradient, hessian_in_pattern, J_gram_schmidt, J_mpmath,
                                 J_projection, jacobian, leaky_relu, loss, vec)

EPS = np.finfo(float).eps


def test_doctests():
    assert doctest.testmod(nw).failed == 0


def _setup(widths=(3, 4, 3, 2), acts=(RELU, leaky_relu(0.2)), m=6, seed=0):
    rng = np.random.default_rng(seed)
    net = Network(widths, list(acts))
    return net, net.random_weights(rng), rng.normal(size=(m, widths[0])), \
        rng.normal(size=(m, widths[-1]))


def test_activation_kink_convention():
    u = np.array([-2.0, 0.0, 3.0])
    assert RELU.derivative(u).tolist() == [0.0, 0.0, 1.0]
    assert ABS.derivative(u).tolist() == [-1.0, 0.0, 1.0]
    assert leaky_relu(0.3).derivative(u).tolist() == [0.3, 0.0, 1.0]
    assert IDENTITY.derivative(u).tolist() == [1.0, 1.0, 1.0]     # linear: exists at 0
    assert leaky_relu(1.0).is_linear and leaky_relu(1.0).kinks == ()
    assert RELU.kinks == (0.0,)
    assert ABS.value(u).tolist() == [2.0, 0.0, 3.0]


def test_flatten_is_stacked_column_major_vecs():
    net = Network((2, 3, 1), RELU)
    Ws = [np.arange(6.0).reshape(2, 3), np.array([[10.0], [11.0], [12.0]])]
    assert net.flatten(Ws).tolist() == [0, 3, 1, 4, 2, 5, 10, 11, 12]
    back = net.unflatten(net.flatten(Ws))
    assert all(np.array_equal(a, b) for a, b in zip(back, Ws))


@pytest.mark.parametrize("acts", [(RELU, leaky_relu(0.2)), (ABS, RELU), (IDENTITY, IDENTITY)])
def test_jacobian_matches_central_differences(acts):
    net, Ws, X, _ = _setup(acts=acts)
    th = net.flatten(Ws)
    assert nw.pre_activation_margin(net, Ws, X) > 1e-3      # differentiable here
    h = 1e-6
    fd = np.array([(vec(forward(net, net.unflatten(th + h * e), X).Yhat)
                    - vec(forward(net, net.unflatten(th - h * e), X).Yhat)) / (2 * h)
                   for e in np.eye(th.size)]).T
    # central difference error O(h^2 f''') plus rounding eps |f| / h: both < 1e-8 here
    assert np.max(np.abs(jacobian(net, Ws, X) - fd)) < 1e-8


def test_path_sum_form_equals_per_sample_form():
    """D^(l)_k as printed (sum over paths of (W...W)^T (x) Lambda...Lambda Phi) equals the
    per-sample form used in the code, and D^(l) = F^(H+1) ... F^(l+1) (I (x) Phi^(l-1))."""
    net, Ws, X, _ = _setup(widths=(2, 3, 2, 2), acts=(RELU, ABS), m=5)
    f = forward(net, Ws, X)
    Lam = [np.diag(l) for l in ()]  # noqa: F841 (clarity)
    m, H = X.shape[0], net.H
    blocks = d_block_list(net, Ws, X)
    idx = 0
    for l in range(1, H + 1):
        for k in range(net.widths[l]):
            total = 0
            for path in itertools.product(*[range(net.widths[j]) for j in range(l + 1, H + 1)]):
                ks = (k,) + path
                w = np.ones(1)
                coef = np.eye(m) @ np.diag(f.Lam[l - 1][:, k])
                row = np.eye(1)
                for j, kk in enumerate(path):          # W^(l+1+j)_{ks[j], kk}
                    row = row * Ws[l + j][ks[j], kk]
                    coef = coef @ np.diag(f.Lam[l + j][:, kk])
                wvec = row[0, 0] * Ws[H][ks[-1], :]     # W^(H+1)_{k_H, .}
                total = total + np.kron(wvec[:, None], coef @ f.Phi[l - 1])
                del w
            assert np.allclose(blocks[idx], total, rtol=0, atol=1e-13)
            idx += 1
    # the F-product form
    for l in range(1, H + 1):
        prod = np.kron(np.eye(net.widths[l]), f.Phi[l - 1])
        for j in range(l + 1, H + 2):
            F = np.hstack([np.kron(Ws[j - 1][kk, :][:, None], np.diag(f.Lam[j - 2][:, kk]))
                           for kk in range(net.widths[j - 1])])
            prod = F @ prod
        assert np.allclose(d_blocks(net, Ws, X)[l - 1], prod, rtol=0, atol=1e-13)


def test_lemma1_identity_at_kinks_and_dead_units():
    net, Ws, X, _ = _setup(acts=(RELU, ABS))
    Ws[0][:, 0] = 0.0                 # unit (1,1): pre-activation exactly 0 on every sample
    X = X.copy()
    X[0] = 0.0                        # sample 0: every pre-activation exactly 0
    f = forward(net, Ws, X)
    assert np.all(f.Lam[0][:, 0] == 0) and np.all(f.Lam[1][0] == 0)
    for l, D in enumerate(d_blocks(net, Ws, X), start=1):
        assert np.allclose(D @ vec(Ws[l - 1]), vec(f.Yhat), rtol=0, atol=1e-13)


def test_backprop_coefficients_shapes():
    net, Ws, X, _ = _setup()
    C = backprop_coefficients(net, Ws, X)
    assert [c.shape for c in C] == [(6, 2, 4), (6, 2, 3)]


def test_gradient_and_hessian_in_pattern():
    net, Ws, X, Y = _setup(acts=(ABS, leaky_relu(-0.5)))
    th = net.flatten(Ws)
    h = 1e-6
    L = lambda t: loss(net, net.unflatten(t), X, Y)
    g = gradient(net, Ws, X, Y)
    fd = np.array([(L(th + h * e) - L(th - h * e)) / (2 * h) for e in np.eye(th.size)])
    assert np.max(np.abs(g - fd)) < 1e-7
    Hs = hessian_in_pattern(net, Ws, X, Y)
    G = lambda t: gradient(net, net.unflatten(t), X, Y)
    Hfd = np.array([(G(th + h * e) - G(th - h * e)) / (2 * h) for e in np.eye(th.size)]).T
    assert np.max(np.abs(Hs - Hfd)) < 1e-7
    assert np.allclose(Hs, Hs.T)


@pytest.mark.parametrize("m", [4, 30])
def test_J_forms_agree(m):
    net, Ws, X, Y = _setup(acts=(RELU, ABS), m=m)
    a, b = J_gram_schmidt(net, Ws, X, Y), J_projection(net, Ws, X, Y)
    c = J_mpmath(net, Ws, X, Y, digits=30)
    assert a.rank == b.rank == c.rank
    scale = 0.5 * float(np.sum(Y * Y))
    # both are 1/2||y||^2 minus a projection: error ~ d_theta * eps * ||y||^2 (Higham ch. 19)
    tol = 16 * net.d_theta * EPS * scale
    assert abs(a.value - b.value) < tol and abs(float(c.value) - b.value) < tol
    assert a.value <= scale + tol


def test_J_vanishes_when_jacobian_has_full_row_rank():
    net, Ws, X, Y = _setup(widths=(3, 8, 1), acts=(ABS,), m=5)
    j = J_projection(net, Ws, X, Y)
    assert j.rank == 5 and abs(j.value) < 1e3 * EPS * float(np.sum(Y * Y))


def test_mpmath_forward_matches_float():
    import mpmath
    net, Ws, X, _ = _setup()
    Wm = [np.vectorize(mpmath.mpf, otypes=[object])(W) for W in Ws]
    Xm = np.vectorize(mpmath.mpf, otypes=[object])(X)
    assert np.allclose(np.array(forward(net, Wm, Xm).Yhat, float), forward(net, Ws, X).Yhat)


def test_bad_input():
    with pytest.raises(ValueError, match="at least d_x and d_y"):
        Network((2,))
    with pytest.raises(ValueError, match="skip must be"):
        Network((2, 3, 1), RELU, skip=(2,))
    with pytest.raises(ValueError, match="offset must be"):
        Network((2, 3, 1), RELU, offset=(1.0, 2.0))
    with pytest.raises(ValueError, match="one of"):
        Network((2, 3, 1), "sigmoid")
    with pytest.raises(ValueError, match="integer >= 1"):
        Network((2, 0, 1))
    with pytest.raises(ValueError, match="a <= 1"):
        leaky_relu(2.0)
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        Network((2, 3, 1), [RELU, RELU])
    net, Ws, X, Y = _setup()
    with pytest.raises(ValueError, match="shape"):
        forward(net, Ws, X[:, :2])
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        forward(net, Ws, bad)
    with pytest.raises(ValueError, match="W\\^\\(1\\)"):
        forward(net, [Ws[0].T] + Ws[1:], X)
    with pytest.raises(ValueError, match="Y must have shape"):
        loss(net, Ws, X, Y[:, :1])
    with pytest.raises(ValueError, match="theta"):
        net.unflatten(np.zeros(3))


def test_gram_schmidt_rank_decisions_match_the_svd_reference():
    """Regression: Phi^(2) of abs(rank-1) is exactly rank 1, so [D, D^(H+1)_1] is rank 3 up to
    rounding; a per-block cutoff amplified by the conditioning of earlier blocks counted 4."""
    net = Network((2, 1, 2, 2), [RELU, ABS])
    X = np.array([[0.18905338179353307, -0.5227484414807474],
                  [-0.41306354339189344, -2.4414673826398556]])
    Y = np.array([[1.799707382720902, 1.1441658720372287],
                  [-0.32542283686782436, 0.7738065867276614]])
    th = np.array([0.1988459715559288, -0.3916118832114155, 0.9775674511260357,
                   -0.31055654665915255, -0.2325136123756201, 0.3217039373299613,
                   -0.560132342409198, -0.07014361504985886])
    Ws = net.unflatten(th)
    a, b = J_gram_schmidt(net, Ws, X, Y, "press"), J_projection(net, Ws, X, Y, "press")
    assert a.rank == b.rank == 3
    assert abs(a.value - b.value) < 1e3 * EPS


def _brute_weak(net, Ws, X, n, t):
    """Definition 1 by enumerating every choice of sets (small widths)."""
    lin = nw.linear_acting_units(net, Ws, X)
    H = net.H
    layers = list(range(t + 1, H + 1))
    opts = [[set(c) for r in range(n, net.widths[l] + 1)
             for c in itertools.combinations([k for k in range(net.widths[l]) if lin[l - 1][k]], r)]
            for l in layers]
    for combo in itertools.product(*opts):
        sets = dict(zip(layers, combo))
        sets[H + 1] = set(range(net.d_y))
        if len(sets[H + 1]) < n:
            continue
        if all(Ws[l][k, j] == 0 for l in layers if l <= H - 1 for k in sets[l]
               for j in range(net.widths[l + 1]) if j not in sets[l + 1]):
            return True
    return False


def test_weak_membership_matches_brute_force():
    rng = np.random.default_rng(7)
    for trial in range(150):
        H = int(rng.integers(1, 4))
        widths = (int(rng.integers(1, 3)),) + tuple(int(rng.integers(1, 4)) for _ in range(H)) \
            + (int(rng.integers(1, 3)),)
        acts = [[[RELU, IDENTITY, ABS][int(rng.integers(3))] for _ in range(widths[l])]
                for l in range(1, H + 1)]
        net = Network(widths, acts)
        Ws = [np.where(rng.random(s) < 0.4, 0.0, rng.normal(size=s)) for s in net.shapes]
        X = rng.normal(size=(3, widths[0]))
        for t in range(H + 1):
            for n in (1, 2):
                got = nw.separated_linear_units(net, Ws, X, n, t) is not None
                assert got == _brute_weak(net, Ws, X, n, t), (widths, t, n)
                if nw.separated_linear_units(net, Ws, X, n, t, strong=True) is not None:
                    assert got        # strong implies weak


def test_directional_derivative_sides_differ_only_at_kinks():
    net, Ws, X, _ = _setup(acts=(RELU, ABS))
    dW = net.random_weights(np.random.default_rng(9))
    r = nw.directional_derivative(net, Ws, X, dW, 1)
    assert np.allclose(nw.vec(r), jacobian(net, Ws, X) @ net.flatten(dW), rtol=0, atol=1e-13)
    assert np.array_equal(r, nw.directional_derivative(net, Ws, X, dW, -1))
    Ws[0][:, 0] = 0.0                                   # unit (1,1) at its kink on every sample
    left = nw.directional_derivative(net, Ws, X, dW, -1)
    right = nw.directional_derivative(net, Ws, X, dW, 1)
    assert np.max(np.abs(left - right)) > 1e-3


@pytest.mark.parametrize("net, reason", [
    (Network((2, 3, 1), "tanh"), "not positively homogeneous"),
    (Network((2, 3, 3, 1), RELU, skip=(1, 2)), "skip connections"),
    (Network((2, 3, 1), RELU, offset=(0.5,)), "offset"),
])
def test_pattern_calculus_refuses_networks_that_are_not_homogeneous_chains(net, reason):
    from proofcheck.errors import UsageError
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    theta = rng.normal(size=net.n_params)
    for call in (lambda: forward(net, theta, X), lambda: d_blocks(net, theta, X),
                 lambda: J_projection(net, theta, X, Y),
                 lambda: nw.directional_derivative(net, theta, X, theta)):
        with pytest.raises(nw.NotHomogeneousError, match=reason) as err:
            call()
        assert isinstance(err.value, UsageError) and "net.outputs" in str(err.value)
    # the model interface covers it
    assert net.outputs(X, theta).shape == (4, 1)
    assert net.jacobian(X, theta).shape == (4, 1, net.n_params)


@pytest.mark.parametrize("widths, acts", [((3, 4, 2), RELU), ((2, 3, 2, 2), [ABS, IDENTITY]),
                                          ((3, 2, 2), [[RELU, ABS]])])
def test_model_interface_agrees_with_the_pattern_calculus(widths, acts):
    """For a homogeneous chain the model interface (outputs, batched jacobian) and the paper's
    D^(l) calculus (forward, jacobian) are the same maps in the same layout."""
    net = Network(widths, acts)
    rng = np.random.default_rng(3)
    X, theta = rng.normal(size=(5, widths[0])), rng.normal(size=net.n_params)
    f = forward(net, theta, X)
    assert np.allclose(net.outputs(X, theta), f.Yhat, rtol=1e-14, atol=1e-14)
    J = net.jacobian(X, theta)                                # (m, d_y, n)
    Jd = jacobian(net, theta, X)                              # (m d_y, n), rows vec Yhat
    assert np.allclose(np.transpose(J, (1, 0, 2)).reshape(-1, net.n_params), Jd,
                       rtol=1e-13, atol=1e-13)


def test_skip_network_jacobian_matches_central_differences_in_mpmath():
    import mpmath
    net = Network((2, 3, 2, 2), "tanh", skip=(0, 1, 2), offset=(0.5, -1.0))
    rng = np.random.default_rng(1)
    X, theta = rng.normal(size=(3, 2)), rng.normal(size=net.n_params)
    J = net.jacobian(X, theta)
    with mpmath.workdps(40):
        h = mpmath.mpf(10) ** -15
        Xm = np.vectorize(mpmath.mpf, otypes=[object])(X)
        th = np.array([mpmath.mpf(t) for t in theta], dtype=object)
        for k in range(net.n_params):
            e = np.array([mpmath.mpf(0)] * net.n_params, dtype=object)
            e[k] = h
            fd = (net.outputs(Xm, th + e) - net.outputs(Xm, th - e)) / (2 * h)
            assert np.allclose(np.array(fd, float), J[:, :, k], rtol=1e-12, atol=1e-12)


def test_transposed_layout_round_trip():
    net = Network((2, 3, 2), "tanh", skip=(0, 1))
    t = np.arange(float(net.n_params))
    theta = net.from_transposed(t)
    P = net.unpack(theta)
    # block W1 stored transposed in t: t's first 6 entries are vec of a (3, 2) matrix
    assert np.array_equal(P["W1"], t[:6].reshape(3, 2, order="F").T)
    assert np.array_equal(net.to_transposed(theta), t)
    assert np.array_equal(theta[net.transposed_order()], t)


@pytest.mark.parametrize("widths,acts", [((2, 3, 1), RELU), ((2, 2, 3, 2), [ABS, "relu"]),
                                         ((1, 2, 2), nw.leaky_relu(0.25))])
def test_fraction_fast_path_equals_the_numpy_object_path(monkeypatch, widths, acts):
    """The python-flint route behind object arrays of Fractions gives the same entries and
    the same entry types as numpy's object arithmetic (what callers and the point cache see)."""
    from fractions import Fraction as F
    rng = np.random.default_rng(3)
    net = Network(widths, acts)
    fr = np.vectorize(F, otypes=[object])
    Ws = [fr(rng.integers(-4, 5, size=s) / 4) for s in net.shapes]
    X = fr(rng.integers(-4, 5, size=(5, widths[0])) / 2)
    Y = fr(rng.integers(-4, 5, size=(5, widths[-1])) / 2)
    f0 = forward(net, [np.asarray(W, float) for W in Ws], np.asarray(X, float))
    pat = [fr(lam) for lam in f0.Lam]
    pat[0][0, 0] = F(1, 3)                       # any rational slope in a fixed pattern

    def run():
        f = forward(net, Ws, X, pattern=pat)
        return (f.G, f.Phi, f.Yhat, d_blocks(net, Ws, X, pattern=pat),
                nw.residual(net, Ws, X, Y, pattern=pat))
    fast = run()
    J, Jq = nw.jacobian_exact(net, Ws, X, pattern=pat)
    monkeypatch.setattr(nw, "_fraction_inputs", lambda *a: False)
    slow = run()
    flat = lambda t: [v for a in (t if isinstance(t, list) else [t]) for v in np.ravel(a)]
    for a, b in zip(fast, slow):
        assert [(type(u), u) for u in flat(a)] == [(type(v), v) for v in flat(b)]
    assert [F(int(q.p), int(q.q)) for q in Jq.entries()] == list(np.ravel(J))
    assert list(np.ravel(J)) == list(np.ravel(np.concatenate(slow[3], axis=1)))
