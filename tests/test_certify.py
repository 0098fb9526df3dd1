"""Certification of witnesses: exact rationals, balls, admissibility, points (proofcheck.search.certify)."""

import mpmath
import numpy as np
import pytest
from hypothesis import strategies as st

from proofcheck import Claim, Hypothesis, Instance, Margin, PointKind, Source
from proofcheck.exact_backends import (ArbBackend, Ball, ExactBackend, NotCertifiable, NotExact,
                                       Rational)
from proofcheck.losses import SquaredLoss
from proofcheck.problems import resnet_landscape, values_at_point
from proofcheck.search.certify import certify, certify_point, exact_global_minimum

SRC = Source("demo", "1", "Lemma 1")


def claim(conclusion, hypotheses=(), **kw):
    return Claim(id="demo.lemma1", title="t", source=SRC, statement="s", hypotheses=hypotheses,
                 conclusion=conclusion, instances=lambda a: st.just(Instance(x=0.5)), **kw)


# --- the backends ---------------------------------------------------------------------------

def test_exact_backend_projection_of_rank_deficient_matrix_is_exact():
    E = ExactBackend()
    X = E.asarray(np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]]))      # rank 1
    P = E.projection(X)
    assert E.numerical_rank(X) == 1
    assert [str(v) for v in P[0]] == ["1/5", "2/5", "0"]
    assert all(a == b for a, b in zip(E.matmul(P, P).flat, P.flat))      # idempotent, exactly


def test_exact_and_ball_values_refuse_float():
    # a rounded value re-entering exact or ball arithmetic would look certified: refused
    with pytest.raises(NotExact):
        float(Rational(1, 3))
    with pytest.raises(NotCertifiable):
        float(Ball(1) / 3)


def test_ball_encloses_the_exact_value():
    A = ArbBackend(prec=200)
    b = A.sum(A.exp(A.asarray([1.0])))
    with mpmath.workdps(50):
        e = mpmath.e
        assert b.lower() <= float(e) <= b.upper()
        assert float(b.a.rad()) < 1e-55          # 200 bits: the ball is far tighter than float64
        assert abs(b.a.mid() - float(e)) < 1e-15


# --- any-point claims -----------------------------------------------------------------------

def test_exact_certificate_of_a_failing_margin():
    c = claim(lambda inst, p, B: Margin.at_least(inst.x * inst.x, inst.x, B))   # x^2 >= x
    cert = certify(c, Instance(x=0.5))
    assert cert.status == "certified-exact"
    assert cert.margin_enclosure == ("-1/4", "-1/4")        # 1/4 - 1/2, exactly


def test_interval_certificate_when_the_margin_is_irrational():
    # exp(x) <= 1 + x + x^2/2 fails at x = 1 by e - 5/2; exp has no exact rational value
    c = claim(lambda inst, p, B: Margin.at_most(B.exp(B.asarray(inst.x)),
                                                1 + inst.x + inst.x * inst.x / 2, B))
    cert = certify(c, Instance(x=1.0))
    assert cert.status == "certified-interval"
    lo, hi = map(float, cert.margin_enclosure)
    with mpmath.workdps(40):
        true = float(mpmath.mpf(2.5) - mpmath.e)       # (2.5 - math.e would round math.e first)
    assert lo <= true <= hi and lo < hi < 0


def test_rounding_artefact_is_not_certified():
    # (a + 1) - a - 1 is -1 in float64 for a = 1e16 but exactly 0: not a counterexample
    c = claim(lambda inst, p, B: Margin.at_least((inst.a + 1) - inst.a - 1, 0, B))
    inst = Instance(a=1e16)
    assert (inst.a + 1) - inst.a - 1 == -1.0
    cert = certify(c, inst)
    assert cert.status == "uncertified"
    assert cert.margin_enclosure == ("0", "0")
    assert "rounding artefact" in cert.detail


def test_float64_only_conclusion_is_labelled_uncertified():
    def through_lapack(inst, p, B):
        s = np.linalg.svd(np.asarray(inst.X, dtype=float), compute_uv=False)
        return Margin.at_least(s[-1], 1.0, B)
    cert = certify(claim(through_lapack), Instance(X=np.array([[0.5, 0.0], [0.0, 0.25]])))
    assert cert.status == "uncertified"
    assert cert.label == "float64 witness, uncertified"
    assert not cert.certified


def test_admissibility_is_part_of_the_certificate():
    small = Hypothesis("small", "x <= 1/4", lambda inst: inst.x <= 0.25)
    c = claim(lambda inst, p, B: Margin.at_least(inst.x * inst.x, inst.x, B), (small,))
    cert = certify(c, Instance(x=0.5))                  # fails, but violates 'small'
    assert cert.status == "uncertified"
    assert cert.admissibility[0]["holds"] is False
    cert = certify(c.dropping("small"), Instance(x=0.5))
    assert cert.status == "certified-exact"
    assert cert.admissibility[0]["dropped"] is True


# --- local minima ---------------------------------------------------------------------------

def resnet_instance(X, Y, Z):
    X, Y, Z = (np.asarray(a, dtype=float) for a in (X, Y, Z))
    return Instance(loss=SquaredLoss(), loss_name="squared", residual="data", X=X, Y=Y, Z=Z,
                    d_x=X.shape[1], d_y=Y.shape[1], d_z=Z.shape[1])


def minimum(inst):
    from proofcheck.optimize.local_min import find_local_minima
    found = find_local_minima(resnet_landscape(inst), rng=np.random.default_rng(0), starts=4,
                              digits=40)
    return next(p for p in found if p.kind == "local_min")


def sharper_bound(times):
    # values_at_point is imported at module level, as theorem modules do: the certifier binds
    # that name to certified enclosures while it evaluates the conclusion
    def conclusion(inst, point, B):
        L, L_x, L_xz, tol, src = values_at_point(inst, point, "x", "x,z")
        return Margin.at_most(L, L_x - times * (L_x - L_xz), tol=tol, tol_source=src)
    return Claim(id="demo.theorem1", title="t", source=SRC, statement="s",
                 conclusion=conclusion, instances=lambda a: st.nothing(),
                 point_kind=PointKind.LOCAL_MIN, landscape=resnet_landscape)


GENERIC = resnet_instance([[1.0], [2.0], [0.0], [-1.0]], [[1.0], [0.5], [2.0], [0.0]],
                          [[0.0], [1.0], [1.0], [2.0]])


def test_krawczyk_and_interval_cholesky_certify_a_strict_local_minimum():
    c = sharper_bound(2)
    pc = certify_point(c, GENERIC, minimum(GENERIC))
    assert pc.kind == "local_min"
    assert 0 < pc.radius < 1e-15
    L = resnet_landscape(GENERIC)
    # the certified box contains the float64 minimiser's neighbourhood: gradient ~ 0 there
    assert np.linalg.norm(L.grad(np.array(pc.center))) < 1e-12


def test_degenerate_minimum_is_not_certified_by_krawczyk():
    # m = 1, X = 0: L = (W V - 1)^2 has a curve of minima, the Hessian is singular
    inst = resnet_instance([[0.0]], [[1.0]], [[1.0]])
    pc = certify_point(sharper_bound(2), inst, minimum(inst))
    assert pc.kind == "uncertified"


def test_exact_global_minimum_certifies_the_strengthened_theorem_exactly():
    inst = resnet_instance([[0.0]], [[1.0]], [[1.0]])
    p = minimum(inst)
    snapped = exact_global_minimum(inst, p, resnet_landscape(inst))
    assert snapped is not None
    cp, why = snapped
    assert cp.box_value == 0                                   # L = L*_{x,z} = 0 exactly
    cert = certify(sharper_bound(2), {"instance": inst, "point": p})
    assert cert.status == "certified-exact"
    # L*_x = 1, L*_{x,z} = 0: the bound 1 - 2 (1 - 0) = -1 < L = 0
    assert cert.margin_enclosure == ("-1", "-1")


def test_published_constant_is_not_refuted_at_the_same_point():
    inst = resnet_instance([[0.0]], [[1.0]], [[1.0]])
    cert = certify(sharper_bound(1), {"instance": inst, "point": minimum(inst)})
    assert cert.status == "uncertified"                        # margin exactly 0: it holds
    assert "0 >= 0" in cert.detail or "does not lie below 0" in cert.detail or \
        "margin" in cert.detail


def test_interval_margin_over_the_krawczyk_box():
    # the conclusion evaluated on the certified box (L enclosed over it, L* exact) is a ball
    # that lies below 0, and it contains the float64 margin at the box's centre
    from proofcheck.search import certify as mod
    c = sharper_bound(2)
    p = minimum(GENERIC)
    pc = certify_point(c, GENERIC, p)
    A = ArbBackend(256)
    b, _ = mod._ball_margin(c, GENERIC, mod._box_point(pc, resnet_landscape(GENERIC), p, A), A)
    from proofcheck.problems import linear_value
    L = resnet_landscape(GENERIC).value(np.array(pc.center))
    L_x, L_xz = (float(linear_value(GENERIC, basis=k).value) for k in ("x", "x,z"))
    float_margin = L_x - 2 * (L_x - L_xz) - L
    assert b.upper() < 0
    assert abs(b.mid() - float_margin) < 1e-9 * (1 + abs(float_margin))


def test_rank_constrained_global_minimum_refutes_theorem_2_without_A1():
    # d_y = 2 > d_x = 1: R = [W, WV] has rank 1, so inf L = L*_{x,z} + (smallest eigenvalue of
    # (P Y)^T P Y) / m = 0 + 1/2, attained on a whole valley of (W, V): a degenerate minimum
    # that Krawczyk cannot certify, but the exact lower bound can
    inst = resnet_instance([[1.0], [0.0]], [[1.0, 0.0], [0.0, 1.0]], [[0.0], [-1.0]])
    p = minimum(inst)
    assert certify_point(sharper_bound(1), inst, p).kind == "uncertified"
    cert = certify(sharper_bound(1), {"instance": inst, "point": p})
    assert cert.status == "certified-exact"
    assert cert.margin_enclosure == ("-1/2", "-1/2")        # L*_{x,z} - L = 0 - 1/2
    assert "reduced-rank regression" in cert.point.detail


def test_vanishing_margin_in_exact_arithmetic():
    E = ExactBackend()
    m = Margin.vanishes(E.asarray([[0.0, 0.25]]), E.asarray([0.5]), tol=0, tol_source="exact")
    assert m.value == Rational(-1, 2)


def test_identity_witness_is_re_verified_exactly():
    from proofcheck import Identity
    from proofcheck.symbolic import SizeSweep, symbol_matrix
    sweep = SizeSweep(n=(1, 2))
    A = lambda s: symbol_matrix("A", s["n"], s["n"])
    wrong = Claim(id="demo.lemma5", title="t", source=SRC, statement="A = A^T",
                  identities=(Identity("sym", "A = A^T", lambda s: (A(s), A(s).T), sweep),))
    w = {"kind": "identity", "identity": {"name": "sym", "sizes": {"n": 2}, "seed": 0}}
    from proofcheck.search.certify import _certify_identity
    assert _certify_identity(wrong, w["identity"]).status == "certified-exact"
    # at n = 1 the identity holds: re-running there does not certify anything
    assert _certify_identity(wrong, {"name": "sym", "sizes": {"n": 1}}).status == "uncertified"


def test_get_backend_finds_the_certification_backends():
    from proofcheck.backends import get_backend
    assert isinstance(get_backend("exact"), ExactBackend)
    assert get_backend("arb", digits=30).prec == 100
