"""Certification of witnesses: is a failing margin a *proof* that the statement fails?

A float64 witness says "the margin came out negative". :func:`certify` re-evaluates the claim's
own conclusion in arithmetic whose answer is a proof:

1. **exact** (:class:`~proofcheck.exact_backends.ExactBackend`): the instance's floats are
   the exact rationals they denote; products, solves, pseudo-inverses and projections are exact.
   A margin that is an exact negative rational is ``certified-exact``.
2. **ball** (:class:`~proofcheck.exact_backends.ArbBackend`): every quantity is a ball that
   contains the exact value; a margin ball lying strictly below 0 is ``certified-interval``.

In both, the **admissibility** of the instance is part of the certificate: every hypothesis the
explored claim still assumes is evaluated on the instance (on its exact form when the
predicate accepts it), and a failing one makes the witness ``uncertified``.

For claims **at local minima / critical points**, the point is certified first
(:func:`certify_point`): Newton refinement at high precision, then the Krawczyk operator in ball
arithmetic on a small box around it proves that the box contains exactly one critical point,
and an interval Cholesky factorisation of the Hessian enclosure over the whole box proves it is
a strict local minimum (Rump, *Verification methods*, Acta Numerica 2010, §10 and §13.1). The
conclusion is then evaluated with the box as the point. A catalogue conclusion that computes
through float64 (the convex solver, ``float(...)``) has no ball evaluation: its margin is then
reported at high precision, and the witness stays ``uncertified`` however solid the point is.

Anything else is labelled ``"float64 witness, uncertified"`` with its margin and precision.
Nothing uncertified is called a refutation.

>>> from hypothesis import strategies as st
>>> from proofcheck import Claim, Instance, Margin, Source
>>> c = Claim(id="demo.lemma1", title="t", source=Source("demo", "1", "Lemma 1"),
...           statement="x^2 >= x", instances=lambda a: st.just(Instance(x=0.5)),
...           conclusion=lambda inst, point, B: Margin.at_least(inst.x * inst.x, inst.x, B))
>>> cert = certify(c, Instance(x=0.5))
>>> cert.status, cert.margin_enclosure
('certified-exact', ('-1/4', '-1/4'))
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import numpy as np

from ..claims import Claim, Instance, PointKind
from ..errors import NotApplicable
from ..exact_backends import ArbBackend, Ball, ExactBackend, NotCertifiable, Rational, to_arb
from ..exact_eval import (_LossProxy, _Quantities, _admissibility, _as_exact,  # noqa: F401
                          _ball_enclosure, _ball_margin, _convert, _exact_margin, _fmt,
                          _substituted, exact_instance)
from ..judge import RungOutcome, ball_outcome

__all__ = ["Certificate", "PointCertificate", "certify", "certify_point", "exact_instance",
           "STATUSES", "UNCERTIFIED_LABEL"]

STATUSES = ("certified-exact", "certified-interval", "uncertified")
UNCERTIFIED_LABEL = "float64 witness, uncertified"


@dataclass
class PointCertificate:
    """What is proven about the point of a local-minimum / critical-point witness."""

    kind: str                      # "local_min", "critical", or "uncertified"
    method: str
    detail: str
    radius: float | None = None    # half-width of the box containing the critical point
    center: list[float] | None = None
    box: Any = field(default=None, repr=False)          # the arb parameter box
    center_mp: Any = field(default=None, repr=False)    # mpf centre
    digits: int = 0
    box_value: Any = field(default=None, repr=False)    # enclosure of L over the box
    box_zD: Any = field(default=None, repr=False)       # enclosures of E[zD], E[xD]
    box_xD: Any = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "method": self.method, "detail": self.detail,
                "radius": self.radius, "center": self.center, "digits": self.digits}


@dataclass
class Certificate:
    """The outcome of :func:`certify`.

    ``status`` is one of :data:`STATUSES`; ``method`` says which arithmetic decided it;
    ``margin_enclosure`` is ``(lower, upper)`` as decimal strings (equal for an exact margin,
    a rational written ``p/q``), or None; ``admissibility`` lists each assumed hypothesis with
    whether it holds and how it was evaluated.
    """

    status: str
    method: str
    detail: str
    margin_enclosure: tuple[str, str] | None = None
    margin: float | None = None
    precision: str = ""
    admissibility: list[dict[str, Any]] = field(default_factory=list)
    point: PointCertificate | None = None
    seconds: float = 0.0

    @property
    def certified(self) -> bool:
        return self.status != "uncertified"

    @property
    def label(self) -> str:
        return self.status if self.certified else UNCERTIFIED_LABEL

    def to_dict(self) -> dict[str, Any]:
        # explicit (asdict would deep-copy the point's ball arrays, which cannot be copied)
        d = {k: getattr(self, k) for k in ("status", "method", "detail", "margin",
                                           "precision")}
        d["admissibility"] = [dict(a) for a in self.admissibility]
        d["margin_enclosure"] = list(self.margin_enclosure) if self.margin_enclosure else None
        d["point"] = self.point.to_dict() if self.point else None
        return d

    def __str__(self) -> str:
        enc = (f" margin in [{self.margin_enclosure[0]}, {self.margin_enclosure[1]}]"
               if self.margin_enclosure else "")
        return f"{self.label} ({self.method}){enc}: {self.detail}"


# ---------------------------------------------------------------------------------------------
# witness unpacking and instance conversion

def _unpack(witness) -> tuple[Instance | None, Any, dict]:
    """(instance, point, extra) from an Instance, a search Counterexample, an engine Witness or
    a dict with an ``instance``."""
    if isinstance(witness, Instance):
        return witness, None, {}
    if isinstance(witness, dict):
        inst = witness.get("instance")
        return (inst if isinstance(inst, Instance) else None), witness.get("point"), witness
    inst = getattr(witness, "instance", None)
    extra = {"kind": getattr(witness, "kind", "instance"),
             "identity": getattr(witness, "identity", None),
             "margin": getattr(witness, "margin", None),
             "tolerance": getattr(witness, "tolerance", None),
             "precision": getattr(witness, "precision", "float64")}
    return (inst if isinstance(inst, Instance) else None), getattr(witness, "point", None), extra



# ---------------------------------------------------------------------------------------------
# points: Newton refinement, Krawczyk existence, interval Cholesky

def _arb_derivatives(land, p, A, want_extras=False):
    """(value, gradient, Hessian) of a ResNet landscape with ball entries, by the same formulas
    as :meth:`proofcheck.models.Landscape._evaluate` (h is polynomial in the parameters; the
    loss's own numpy formulas are applied to ball arrays)."""
    from .. import models
    pb = land.problem
    with A._ctx():
        X, Y = A.asarray(pb.X), A.asarray(pb.Y)
        m = X.shape[0]
        if pb.uniform:
            w = np.array([to_arb(1) / m] * m, dtype=object)
        else:
            w = A.asarray(pb.weights)
        W, V, theta = land.split(p)
        if pb.residual is not None:
            th = theta if land.n_theta else A.asarray(theta)
            Z = pb.residual.z(X, th)
        else:
            Z = A.asarray(pb.Z)
        U, H = models._outputs(X, Z, W, V)
        loss = pb.loss
        vals = np.asarray(loss._value(H, Y), dtype=object)
        D = np.asarray(loss._grad(H, Y), dtype=object)
        Hl = np.asarray(loss._hess(H, Y), dtype=object)
        value = (w * vals).sum()
        Jz = pb.residual.jacobian(X, theta) if land.n_theta else None
        J = models._jacobian(U, Z, W, V, Jz)
        wD = w[:, None] * D
        g = np.einsum("ik,ikn->n", wD, J)
        Hz = pb.residual.hessian(X, theta) if land.n_theta else None
        HJ = np.einsum("ikl,iln->ikn", Hl, J)
        gn = np.einsum("i,ikn,ikq->nq", w, J, HJ)
        hess = gn + models._second_order_term(wD, Z, W, V, Jz, Hz)
        extras = {"zD": Z.T @ wD, "xD": X.T @ wD}
    if not all(isinstance(x, Ball) for x in np.asarray(hess, dtype=object).flat):
        raise NotCertifiable("the loss's formulas do not evaluate in ball arithmetic")
    if want_extras:
        return value, g, hess, extras
    return value, g, hess


def _newton_refine(land, p0, digits, steps=40):
    """Newton's method on the gradient at ``digits`` digits (mpmath); None if it stalls."""
    import mpmath
    with mpmath.workdps(digits):
        p = np.array([mpmath.mpf(x) for x in np.asarray(p0, dtype=object).flat], dtype=object)
        for _ in range(steps):
            _, g, H = land.derivatives_mp(p, digits, 2)
            gn = mpmath.sqrt(mpmath.fsum(x * x for x in g))
            if gn < mpmath.mpf(10) ** (-(digits - 8)):
                return p
            try:
                step = mpmath.lu_solve(mpmath.matrix(H.tolist()), mpmath.matrix(list(g)))
            except ZeroDivisionError:
                return None
            p = p - np.array([step[i] for i in range(len(p))], dtype=object)
        _, g, _ = land.derivatives_mp(p, digits, 1)
        gn = mpmath.sqrt(mpmath.fsum(x * x for x in g))
        return p if gn < mpmath.mpf(10) ** (-(digits // 2)) else None


def _interval_cholesky(Hm, A) -> tuple[bool, str]:
    """Cholesky of a symmetric ball matrix; success proves every symmetric matrix in it is
    positive definite (all pivots provably positive)."""
    n = Hm.shape[0]
    L = np.empty((n, n), dtype=object)
    L.fill(to_arb(0))
    with A._ctx():
        for j in range(n):
            s = Hm[j, j] - sum((L[j, k] * L[j, k] for k in range(j)), to_arb(0))
            if not s > 0:
                return False, f"pivot {j} not provably positive ({s})"
            L[j, j] = s.sqrt()
            for i in range(j + 1, n):
                t = Hm[i, j] - sum((L[i, k] * L[j, k] for k in range(j)), to_arb(0))
                L[i, j] = t / L[j, j]
    return True, f"interval Cholesky of the {n}x{n} Hessian enclosure succeeded"


def certify_point(claim: Claim, inst: Instance, point, *, digits: int = 60,
                  prec: int = 256) -> PointCertificate:
    """Prove that a box around ``point`` contains a critical point of the claim's landscape (and
    a strict local minimum for local-minimum claims).

    Newton refines the point at ``digits`` digits; the box has radius ``r`` = 10^(-digits/3)
    times (1 + |p|); the Krawczyk operator K(X) = c - Y g(c) + (I - Y H(X))(X - c), with Y an
    approximate inverse of H(c), lies in the interior of X, so X holds exactly one zero of the
    gradient; an interval Cholesky of H(X) proves positive definiteness over the whole box."""
    fail = lambda why: PointCertificate("uncertified", "Krawczyk + interval Cholesky", why)
    if point is None:
        return fail("the witness has no point")
    try:
        assert claim.landscape is not None   # a point claim has one (Claim.__post_init__)
        land = claim.landscape(inst)
        if not hasattr(land, "derivatives_mp") or not hasattr(land, "problem"):
            return fail(f"the landscape ({type(land).__name__}) has no ball evaluation here "
                        "(only the ResNet landscapes of proofcheck.models)")
    except Exception as exc:
        return fail(f"the landscape could not be built: {type(exc).__name__}: {exc}")
    p_obj = getattr(point, "point", point)
    try:
        if getattr(point, "params_mp", None) is not None:
            p0 = point.params_mp
        else:
            p0 = land.flatten(p_obj)
    except Exception as exc:
        return fail(f"the point does not fit the landscape: {exc}")
    c = _newton_refine(land, p0, digits)
    if c is None:
        return fail(f"Newton's method on the gradient does not converge at {digits} digits "
                    "(a degenerate critical point, e.g. a flat valley: the Hessian is singular)")
    A = ArbBackend(prec)
    n = len(c)
    with A._ctx():
        scale = 1 + max(abs(float(x)) for x in c)
        r = Rational(1, 10 ** (digits // 3)) * Rational(scale)
        r_arb = to_arb(r)
        centre = np.array([to_arb(x) for x in c], dtype=object)
        box = np.array([to_arb(x, r) for x in c], dtype=object)
        try:
            _, g_c, H_c = _arb_derivatives(land, centre, A)
            L_X, _, H_X, extras = _arb_derivatives(land, box, A, want_extras=True)
        except NotCertifiable as exc:
            return fail(str(exc))
        except Exception as exc:
            return fail(f"the landscape does not evaluate in ball arithmetic: "
                        f"{type(exc).__name__}: {exc}")
        Hmid = np.array([[x.mid() for x in row] for row in H_c], dtype=float)
        try:
            Yf = np.linalg.inv(Hmid)
        except np.linalg.LinAlgError:
            return fail("the Hessian at the point is singular in float64")
        Y = A.asarray(Yf)
        I = A.eye(n)
        K = centre - Y @ g_c + (I - Y @ H_X) @ (box - centre)
        inside = all((K[i] - centre[i]).abs_upper() < r_arb.a for i in range(n))
        if not inside:
            worst = max(float((K[i] - centre[i]).abs_upper()) for i in range(n))
            return fail(f"Krawczyk test failed: |K(X) - c| <= {worst:.3g} not below the box "
                        f"radius {r.as_float():.3g} (ill-conditioned or degenerate critical point)")
    pc = PointCertificate("critical", "Krawczyk operator in ball arithmetic "
                          f"({prec} bits)", f"a unique critical point lies in the box of radius "
                          f"{r.as_float():.3g} around the Newton-refined point",
                          radius=r.as_float(),
                          center=[float(x) for x in c], box=box, center_mp=c, digits=digits,
                          box_value=L_X, box_zD=extras["zD"], box_xD=extras["xD"])
    if claim.point_kind is PointKind.LOCAL_MIN:
        ok, why = _interval_cholesky(H_X, A)
        if not ok:
            pc.kind = "uncertified"
            pc.detail += f"; but positive definiteness is not proven: {why}"
            return pc
        pc.kind = "local_min"
        pc.method += " + interval Cholesky of the Hessian over the box"
        pc.detail += f"; {why}, so it is a strict local minimum"
    return pc


def _box_point(pc: PointCertificate, land, like, A):
    """A point object for conclusions: the box as ball arrays (``point.W`` / ``.V`` /
    ``.theta``) plus the mpf centre as ``params_mp`` with ``tau_grad`` = the box radius."""
    W, V, theta = land.split(pc.box)
    inner = SimpleNamespace(W=W, V=V, theta=theta)
    fields = {k: getattr(like, k) for k in ("branch", "rank_W", "singular_values_W", "notes")
              if hasattr(like, k)}
    return SimpleNamespace(point=inner, W=W, V=V, theta=theta, params_mp=pc.center_mp,
                           digits=pc.digits, tau_grad=pc.radius, tau_hess=0.0,
                           kind=pc.kind, value=pc.box_value, box_value=pc.box_value,
                           box_zD=pc.box_zD, box_xD=pc.box_xD, **fields)


def _mp_point(pc: PointCertificate, land, like):
    """The certified centre as a CertifiedPoint-like object at the refinement precision."""
    from ..models import ResNetPoint
    W, V, theta = land.split(np.asarray([float(x) for x in pc.center_mp]))
    fields = {k: getattr(like, k) for k in ("branch", "rank_W", "singular_values_W", "notes",
                                            "min_hess_eig", "grad_norm", "value", "tau_hess")
              if hasattr(like, k)}
    fields.setdefault("branch", None)
    return SimpleNamespace(point=ResNetPoint(W=W, V=V, theta=theta), params_mp=pc.center_mp,
                           digits=pc.digits, tau_grad=pc.radius, kind=pc.kind, **fields)


# ---------------------------------------------------------------------------------------------
# an exact argument: a global minimum of a squared-loss ResNet

def exact_global_minimum(inst: Instance, point, land) -> tuple[Any, str] | None:
    """An exact rational point that is a *global* minimum of the squared-loss ResNet objective
    of ``inst`` near the witness ``point``, or None.

    The argument: h = R(W, V) phi with R = [W, W V], so
    L(W, V) = L^R(R(W, V)) >= inf_R L^R = L*_{x,z} for every (W, V). Take the least-squares
    solution R closest to the witness's R_w: R = R* + (R_w - R*)(I - Phi^+ Phi) (exact), then
    W = R_1 and V = W^+ R_2; if W V = R_2 holds exactly, L(W, V) = L*_{x,z}: a global minimum,
    hence a local minimum and a critical point. Returns ``(point namespace, explanation)``."""
    from ..losses import SquaredLoss
    pb = land.problem
    if not isinstance(pb.loss, SquaredLoss) or pb.residual is not None or not pb.uniform \
            or land.n_theta or inst.fields().get("weights") is not None:
        return None
    p = getattr(point, "point", point)
    if getattr(p, "W", None) is None or getattr(p, "V", None) is None:
        return None
    E = ExactBackend()
    X, Z, Y = _as_exact(pb.X), _as_exact(pb.Z), _as_exact(pb.Y)
    m, d_x = X.shape
    Phi = np.hstack([X, Z])
    Pp = E.pinv(Phi)
    Bstar = E.matmul(Pp, Y)                         # (d_x + d_z) x d_y
    Rstar = E.T(Bstar)
    Ww, Vw = _as_exact(np.asarray(p.W, dtype=float)), _as_exact(np.asarray(p.V, dtype=float))
    Rw = np.hstack([Ww, E.matmul(Ww, Vw)])
    N = E.eye(Phi.shape[1]) - E.matmul(Pp, Phi)
    R = Rstar + E.matmul(Rw - Rstar, N)
    W, R2 = R[:, :d_x], R[:, d_x:]
    V = E.matmul(E.pinv(W), R2)
    Lxz = E.fro2(E.null_project(Phi, Y)) / m
    how = ("(W, V) with W = R_1, V = W^+ R_2 realises a least-squares predictor R on [x, z], "
           "so L(W, V) = L*_{x,z}")
    if not all(a == b for a, b in zip(E.matmul(W, V).flat, R2.flat)):
        # R_2 is not in the range of W (e.g. d_y > d_x): keep the witness's V and take the
        # least-squares W for it; a global minimum if L meets the rank-constrained bound
        V = Vw
        U = X + E.matmul(Z, E.T(V))
        W = E.T(E.matmul(E.pinv(U), Y))
        how = "W = argmin_W L(W, V) at the witness's V (exact least squares)"
    U = X + E.matmul(Z, E.T(V))
    Hres = E.matmul(U, E.T(W)) - Y
    L = E.fro2(Hres) / m
    lb, lb_how = _rank_constrained_bound(E, Phi, Y, min(W.shape), Lxz)
    if lb is None or not L == lb:
        return None
    D = 2 * Hres / m
    inner = SimpleNamespace(W=W, V=V, theta=None)
    cp = SimpleNamespace(point=inner, W=W, V=V, theta=None, box_value=L,
                         box_zD=E.matmul(E.T(Z), D), box_xD=E.matmul(E.T(X), D),
                         value=L, kind="local_min", digits=0, tau_grad=0, tau_hess=0,
                         params_mp=None, branch=getattr(point, "branch", None),
                         rank_W=E.numerical_rank(W))
    why = (f"exact: {how}; L(W, V) = {_fmt(L)} equals the lower bound {lb_how} that every "
           "(W, V) satisfies: a global, hence local, minimum")
    return cp, why


def _rank_constrained_bound(E, Phi, Y, k, Lxz):
    """An exact lower bound of L over all (W, V), or (None, why).

    R = [W, W V] = W [I, V] has rank <= k = min(d_y, d_x), so L(W, V) = (1/m)||Y - Phi R^T||^2
    >= (1/m)(||P_N[Phi] Y||^2 + sum of the d_y - k smallest eigenvalues of (P[Phi]Y)^T P[Phi]Y)
    (Eckart-Young on the fitted values P[Phi] Y: reduced-rank regression). With k >= d_y this
    is L*_{x,z}. Exact only when those eigenvalues are rational."""
    m, d_y = Y.shape
    if k >= d_y:
        return Lxz, "L*_{x,z} (L = L^R([W, WV]) >= L*_{x,z}: the predictor is linear in [x; z])"
    import sympy as sp
    PY = E.project(Phi, Y)
    G = E.matmul(E.T(PY), PY)
    Gs = sp.Matrix(G.shape[0], G.shape[1], [sp.Rational(int(x.q.p), int(x.q.q)) for x in G.flat])
    eig = []
    for val, mult in Gs.eigenvals().items():
        if not val.is_rational:
            return None, "irrational eigenvalues"
        eig += [Rational(int(val.p), int(val.q))] * int(mult)
    eig.sort(key=lambda r: r.as_float())
    tail = sum(eig[:d_y - k], Rational(0))
    lb = Lxz + tail / m
    return lb, (f"L*_{{x,z}} + (1/m)(sum of the {d_y - k} smallest eigenvalues of "
                f"(P[Phi]Y)^T P[Phi]Y) = {_fmt(lb)} (R = [W, WV] has rank <= {k}: "
                "reduced-rank regression, Eckart-Young)")


# ---------------------------------------------------------------------------------------------
# the entry point

def certify(claim: Claim, witness, *, prec: int = 256, digits: int = 60) -> Certificate:
    """Certify a witness against ``claim`` (the claim *as explored*: mutant applied, hypotheses
    dropped). ``witness`` is an :class:`~proofcheck.claims.Instance`, a search
    ``Counterexample`` or a dict with ``instance`` (and ``point``).

    ``prec`` is the ball precision in bits; ``digits`` the Newton refinement precision of a
    witness point."""
    t0 = time.perf_counter()
    inst, point, extra = _unpack(witness)
    try:
        cert = _certify(claim, inst, point, extra, prec, digits)
    except Exception as exc:     # a certifier that cannot run certifies nothing; say why
        cert = Certificate("uncertified", "none", f"{UNCERTIFIED_LABEL}: the certifier could not "
                           f"run on this witness ({type(exc).__name__}: {exc})",
                           margin=extra.get("margin"))
    if not cert.certified and inst is not None and claim.conclusion is not None \
            and cert.method != "admissibility" and extra.get("kind") != "identity":
        cert = _other_rungs(claim, inst, point, cert, prec, digits)
    cert.seconds = time.perf_counter() - t0
    return cert


def _other_rungs(claim, inst, point, cert: Certificate, prec: int, digits: int) -> Certificate:
    """The judge's other certifying rungs (plugins such as the exact stratum point), so that
    a witness ``explore`` calls certified is one ``check`` and ``replay`` call certified too
    (the exact, ball and certified-point rungs are what :func:`_certify` already ran)."""
    from ..judge import default_rungs, judge
    done = ("float64", "mpmath", "exact", "ball", PointRung.name)
    rungs = [r for r in default_rungs(digits=digits, prec=prec)
             if r.grade in ("certified", "proven") and r.name not in done]
    if not rungs:
        return cert
    try:
        j = judge(claim, inst, point, rungs=rungs)
    except Exception:       # a rung that cannot run certifies nothing
        return cert
    if j.fails is not True:
        return cert
    exact = j.enclosure is not None and j.enclosure[0] == j.enclosure[1]
    return Certificate("certified-exact" if exact else "certified-interval", f"judge rung "
                       f"{j.rung}", j.certification, j.enclosure, j.margin, j.precision,
                       cert.admissibility, cert.point)



def _certify(claim, inst, point, extra, prec, digits) -> Certificate:
    if extra.get("kind") == "identity":
        return _certify_identity(claim, extra.get("identity") or {})
    if inst is None:
        return Certificate("uncertified", "none", "the witness carries no instance")
    if claim.conclusion is None:
        return Certificate("uncertified", "none", f"{claim.id} has no conclusion to evaluate")
    adm = _admissibility(claim, inst)
    bad = [a["hypothesis"] for a in adm if not a.get("dropped") and not a["holds"]]
    fmargin = extra.get("margin")
    if bad:
        return Certificate("uncertified", "admissibility", "the instance violates assumed "
                           f"hypothesis {', '.join(bad)}: it is no counterexample to the claim "
                           "as explored", margin=fmargin, admissibility=adm,
                           precision=str(extra.get("precision", "float64")))
    if claim.point_kind is PointKind.ANY:
        return _certify_any(claim, inst, adm, fmargin, extra, prec)
    return _certify_at_point(claim, inst, point, adm, fmargin, extra, prec, digits)


def _certify_identity(claim, ident) -> Certificate:
    """Re-run the exact identity checker at the witness's sizes (and seed, for exact-random
    identities): a refutation there is exact (sympy expansion, or exact rationals)."""
    from ..symbolic import prove_identity
    found = [i for i in claim.identities if i.name == ident.get("name")]
    sizes = ident.get("sizes")
    if not found or not sizes:
        return Certificate("uncertified", "none", f"{UNCERTIFIED_LABEL}: identity "
                           f"{ident.get('name')!r} at sizes {sizes} not found on {claim.id}")
    identity = found[0]
    res = prove_identity(identity.build, [dict(sizes)], method=identity.method,
                         name=identity.name, seed=int(ident.get("seed") or 0))
    if res.holds:
        return Certificate("uncertified", "exact identity check",
                           f"{UNCERTIFIED_LABEL}: re-run at sizes {sizes}, the identity holds")
    how = res.reason or f"lhs - rhs = {res.residual}"
    what = ("sympy expansion" if identity.method == "symbolic" else
            "exact rationals at the seeded random point")
    return Certificate("certified-exact", f"exact identity check re-run ({what})",
                       f"the two sides differ exactly at sizes {dict(sizes)}: {how}",
                       precision="exact")


def _certify_any(claim, inst, adm, fmargin, extra, prec) -> Certificate:
    """The judge's exact and ball rungs at an any-point witness."""
    from ..judge import BallRung, ExactRung, judge
    j = judge(claim, inst, None, rungs=[ExactRung(), BallRung(prec)])
    reasons = [t for t in j.trail]
    if j.fails is True:
        status = "certified-exact" if j.rung == "exact" else "certified-interval"
        method = ("exact rational arithmetic (python-flint fmpq)" if j.rung == "exact"
                  else f"ball arithmetic (python-flint arb, {prec} bits)")
        assert j.enclosure is not None     # a decided failure carries its enclosure
        detail = (f"the conclusion's margin is exactly {j.enclosure[0]} < 0 at this instance"
                  if j.rung == "exact" else f"the margin's enclosure [{j.enclosure[0]}, "
                  f"{j.enclosure[1]}] lies below 0")
        return Certificate(status, method, detail, j.enclosure, j.margin, j.precision, adm)
    if j.rung == "exact":       # an exact margin >= 0: the float64 failure was rounding
        return Certificate("uncertified", "exact rational arithmetic",
                           f"{UNCERTIFIED_LABEL}: {j.outcomes['exact'].text}", j.enclosure,
                           j.margin, "exact", adm)
    prec_text = str(extra.get("precision") or "float64")
    return Certificate("uncertified", "none applicable",
                       f"{UNCERTIFIED_LABEL} (margin {fmargin!r}, precision {prec_text}); "
                       + "; ".join(reasons), None, fmargin, prec_text, adm)


def _certify_at_point(claim, inst, point, adm, fmargin, extra, prec, digits) -> Certificate:
    exact_note = ""
    try:
        snapped = exact_global_minimum(inst, point, claim.landscape(inst))
    except Exception as exc:     # not a ResNet landscape, or no exact point: try the next way
        snapped, exact_note = None, f"exact global-minimum argument: {type(exc).__name__}: {exc}"
    if snapped is not None:
        cp, why = snapped
        pce = PointCertificate("local_min", "exact global minimum (least-squares lower bound)",
                               why, radius=0.0,
                               center=[x.as_float() for x in np.concatenate(
                                   [cp.W.ravel(order="F"), cp.V.ravel(order="F")])])
        try:
            v, m = _exact_margin(claim, inst, cp, ExactBackend())
            s = _fmt(v)
            if v < 0:
                return Certificate("certified-exact", "exact rational arithmetic at an exact "
                                   "global minimum", f"{why}; there the conclusion's margin is "
                                   f"exactly {s} < 0", (s, s), v.as_float(), "exact", adm, pce)
            exact_note = (f"at the exact global minimum the margin is {s} >= 0 (the failure "
                          "is elsewhere)")
        except Exception as exc:
            exact_note = f"margin at the exact global minimum: {type(exc).__name__}: {exc}"
    pc = certify_point(claim, inst, point, digits=digits, prec=prec)
    if exact_note:
        pc.detail += f" [{exact_note}]"
    wanted = "local_min" if claim.point_kind is PointKind.LOCAL_MIN else "critical"
    point_ok = pc.kind == wanted or (wanted == "critical" and pc.kind == "local_min")
    prec_text = str(extra.get("precision") or "float64")
    if not point_ok:
        return Certificate("uncertified", pc.method,
                           f"{UNCERTIFIED_LABEL} (margin {fmargin!r}); the point is not certified "
                           f"as a {claim.point_kind.value}: {pc.detail}", None, fmargin,
                           prec_text, adm, pc)
    land = claim.landscape(inst)
    A = ArbBackend(prec)
    reasons = []
    try:
        b, m = _ball_margin(claim, inst, _box_point(pc, land, point, A), A)
        enc = _ball_enclosure(b)
        if ball_outcome(b, "", "").fails is True:
            return Certificate("certified-interval", f"{pc.method}; margin in ball arithmetic",
                               f"{pc.detail}; the margin over the whole box lies in "
                               f"[{enc[0]}, {enc[1]}] < 0", enc, b.mid(),
                               f"arb {prec} bits", adm, pc)
        reasons.append(f"margin enclosure [{enc[0]}, {enc[1]}] does not lie below 0")
    except Exception as exc:
        reasons.append(f"the margin has no ball evaluation ({type(exc).__name__}: {exc})")
    # the conclusion computes in float64 / mpmath: report its margin at the certified centre
    try:
        from ..backends import get_backend
        m = claim.conclusion(inst, _mp_point(pc, land, point), get_backend("mpmath", digits))
        v = float(np.min(np.asarray(m.value, dtype=float)))
        t = float(np.max(np.asarray(m.tol, dtype=float)))
        reasons.append(f"at the certified point the claim's own conclusion gives margin "
                       f"{v:.6g} (tolerance {t:.2g}, mpmath {digits} digits, not "
                       "interval-enclosed)")
        fmargin = v
    except Exception as exc:
        reasons.append(f"re-evaluation at the certified point failed: {type(exc).__name__}")
    return Certificate("uncertified", pc.method, f"{UNCERTIFIED_LABEL}: the point IS certified "
                       f"({pc.detail}); " + "; ".join(reasons), None, fmargin, prec_text, adm, pc)


# ---------------------------------------------------------------------------------------------
# the judge's rung for point claims

class PointRung:
    """The judge's rung at a local-minimum / critical-point witness: the point is certified
    (an exact global-minimum argument, or Krawczyk + interval Cholesky on a box) and the
    conclusion is evaluated exactly there or in balls over the box."""

    name, grade = "certified point", "certified"

    def __init__(self, digits: int = 60, prec: int = 256):
        self.digits, self.prec = max(int(digits), 60), int(prec)

    def run(self, claim: Claim, inst: Instance, point: Any) -> RungOutcome:
        if claim.point_kind is PointKind.ANY or point is None:
            raise NotApplicable("not a point witness")
        if not claim.high_precision:
            raise NotApplicable("the conclusion computes in float64 only")
        assert claim.landscape is not None   # a point claim has one (Claim.__post_init__)
        if not hasattr(claim.landscape(inst), "derivatives_mp"):
            raise NotApplicable("the landscape has no certified evaluation here")
        adm = _admissibility(claim, inst)
        cert = _certify_at_point(claim, inst, point, adm, None, {}, self.prec, self.digits)
        if not cert.certified:
            raise NotApplicable(cert.detail[:400])
        lo, hi = cert.margin_enclosure or (None, None)
        # a certified failure carries its margin or its enclosure
        assert cert.margin is not None or lo is not None
        return RungOutcome(True, float(cert.margin) if cert.margin is not None else float(lo or 0),
                           0.0, f"{cert.status}: {cert.method}: {cert.detail}",
                           cert.margin_enclosure, cert.precision,
                           extra={"point": cert.point.to_dict() if cert.point else None})


def judge_rungs(*, digits: int = 60, prec: int = 256) -> list[PointRung]:
    """This module's rungs for :func:`proofcheck.judge.default_rungs`."""
    return [PointRung(digits, prec)]
