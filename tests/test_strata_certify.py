"""The judge's exact-stratum-point rung (proofcheck.search.certify_piecewise): at a point
certified exactly on a stratum, the conclusion's margin is evaluated in exact rationals; a
negative exact margin is a certified failure, a margin >= 0 is not."""

import numpy as np
import pytest

from proofcheck import Instance
from proofcheck.judge import RUNG_PLUGINS, judge
from proofcheck.optimize.piecewise import certify_exactly, value_at_point
from proofcheck.optimize.strata import exact_point, is_exact_point

from proofcheck.catalogue.khk2019dw import theorem1 as T
from proofcheck.catalogue.khk2019dw.assumptions import network_of

RUNG = "exact stratum point"


def _witness():
    # the erratum's witness of khk2019dw.theorem1: d = (2, 1, 1) ReLU, theta = ((1, 0), 1)
    X = np.array([[0, 1], [0, -1], [1, 0], [1, 1]], float)
    Y = np.array([[1], [-1], [2], [0]], float)
    theta = np.array([1.0, 0.0, 1.0])
    inst = Instance(widths=(2, 1, 1), acts="relu", X=X, Y=Y, case="stratum", start=theta)
    return inst, certify_exactly(network_of(inst), X, Y, theta)


def _smooth():
    # a stratum local minimum whose outputs are differentiable too: there L = J exactly
    X = np.array([[-1.0, -1.5], [1.0, 1.5], [1.0, 0.5], [1.0, 2.0], [2.0, 2.0], [1.5, 1.0],
                  [2.0, -2.0], [-2.0, 1.5], [-0.5, 1.0], [0.0, 2.0], [-2.0, 1.0],
                  [-2.0, -1.5], [1.5, -1.0], [2.0, -0.5]])
    Y = np.array([-1.40625, -2.96875, -1.90625, -6.125, -5.4375, -2.5625, 0.46875, -6.8125,
                  -4.3125, -7.1875, -5.625, 0.1875, 0.0, -0.1875]).reshape(-1, 1)
    theta = np.array([-0.5, 2.0, 1.5, -1.0, -1.75, 0.0])
    inst = Instance(widths=(2, 2, 1), acts="relu", X=X, Y=Y, case="stratum", start=theta)
    return inst, certify_exactly(network_of(inst), X, Y, theta)


def test_registered():
    assert "proofcheck.search.certify_piecewise" in RUNG_PLUGINS


def test_exact_values_at_the_witness():
    inst, p = _witness()
    assert p.kind == "local_min" and p.level == "exact" and p.stratum.differentiable
    xp = exact_point(p)
    assert is_exact_point(xp) and not is_exact_point(p)
    net = network_of(inst)
    v = value_at_point(net, inst.X, inst.Y, xp)
    assert (str(v.L), str(v.value), v.tol) == ("2", "1", 0.0)     # L = 2, J = 1 (Lambda = 0)


@pytest.mark.parametrize("claim", [T.theorem1, T.proposition1, T.lemma5, T.normal_equations],
                         ids=lambda c: c.id)
def test_failure_certified_exactly(claim):
    inst, p = _witness()
    j = judge(claim, inst, p)
    assert j.fails is True and j.certified and j.rung == RUNG
    assert j.enclosure == ("-1", "-1")          # |L - J| = 1, ||D^T r|| = 1, exactly
    assert "exactly -1 < 0" in j.certification


def test_margin_at_or_above_zero_not_certified():
    inst, p = _smooth()
    assert p.kind == "local_min" and p.stratum.outputs_all_differentiable
    j = judge(T.theorem1, inst, p)
    assert j.fails is False and not j.certified and j.rung == RUNG
    assert j.enclosure == ("0", "0")


def test_not_applicable_without_exact_certificate():
    inst, p = _witness()
    import dataclasses
    j = judge(T.theorem1, inst, dataclasses.replace(p, stratum=None))
    assert j.rung != RUNG
    assert any(t.startswith(f"{RUNG}: not applicable") for t in j.trail)


def test_float_rounding_conclusion_not_certified():
    # a mutant whose margin is rounded to float64 at the exact point: the rung does not apply
    inst, p = _witness()
    mutant = T.theorem1.replace(conclusion=T._j_halved_sum)
    j = judge(mutant, inst, p)
    assert j.rung != RUNG and not j.certified


def test_lemma1_loss_reading_certified_exactly():
    # an any-point claim: the kernel's exact rung evaluates it on the exact instance
    from proofcheck.catalogue.khk2019dw.lemma1 import lemma1_derivative_loss_reading as C
    inst, _ = _witness()
    f = inst.fields()
    f["theta"] = f.pop("start")
    j = judge(C, Instance(**f))
    assert j.fails is True and j.certified and j.rung == "exact"
