"""Public strategies of every model family (proofcheck/strategies/) and the worked user
conjectures of examples/conjectures/ (one module per model family, a true and a false
conjecture each; the verdicts asserted are the ones the engine computes)."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from proofcheck import networks as N
from proofcheck.catalog import load_claims
from proofcheck.strategies import (induced_problems, pl_problems, resnet_parameters,
                                   scalar_resnets)

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(pl_problems(stratum="kink"))
def test_kink_stratum_is_an_exact_zero(P):
    l, k, i = P["unit"]
    G = N.forward(P["net"], P["Ws"], P["X"]).G[l - 1]
    assert G[i, k] == 0.0
    unit = P["net"].activations[l - 1][k]
    if not unit.is_linear:          # the paper's convention: derivative 0 at a kink
        assert P["pattern"][l - 1][i, k] == 0.0


@SETTINGS
@given(pl_problems(stratum="dead"))
def test_dead_unit_outputs_zero(P):
    l, k, _ = P["unit"]
    assert not np.any(N.forward(P["net"], P["Ws"], P["X"]).Phi[l][:, k])


@SETTINGS
@given(pl_problems(stratum="zero_out"))
def test_zero_outgoing_weights(P):
    l, k, _ = P["unit"]
    assert not np.any(P["Ws"][l][k, :])


def test_unknown_stratum_is_refused():
    with pytest.raises(ValueError, match="unknown stratum"):
        pl_problems(stratum="saddle")


@SETTINGS
@given(induced_problems())
def test_induced_problems(P):
    model, J = P["model"], P["J"]
    assert J.shape == (P["X"].shape[0], model.dims[-1], model.n_params)
    assert np.all(P["weights"] > 0) and np.all(np.isfinite(J))


@SETTINGS
@given(scalar_resnets(w="zero"))
def test_scalar_resnets_at_zero(R):
    gw, gV = R["net"].gradient(R["w"], R["V"])
    assert not np.any(R["w"]) and not np.any(gV)


def test_old_import_paths_still_work():
    from proofcheck.strategies import A1, Relation, dimensions  # noqa: F401
    from proofcheck.strategies.core import resnet_parameters as same
    assert same is resnet_parameters


FOLDER = Path(__file__).resolve().parents[1] / "examples" / "conjectures"
EXPECTED = {
    "user.plnet.euler": "verified", "user.plnet.differentiable": "refuted",
    "user.induced.span": "verified", "user.induced.span_offset": "refuted",
    "user.scalar.flat_in_V": "verified", "user.scalar.critical_at_zero": "refuted",
}


@pytest.fixture(scope="module")
def conjectures(check_quick):
    """The examples' conjectures at the quick profile, seed 0, through the test run's shared
    result cache (tests/conftest.py): the documented ``check --path examples/conjectures``
    commands check the same claims."""
    reg = load_claims([FOLDER])
    assert not reg.errors, reg.errors
    return check_quick(reg.select(sorted(EXPECTED)), reg.origins)


def test_each_family_has_a_true_and_a_false_conjecture(conjectures):
    got = {r.claim_id: r.verdict.value for r in conjectures.claims}
    assert got == EXPECTED
    for r in conjectures.claims:
        numeric = [c for c in r.checks if c.name == "conclusion"]
        assert numeric and numeric[0].instances > 0          # decided on instances
        if r.verdict.value == "refuted":
            assert numeric[0].witness is not None and numeric[0].witness.margin < 0



def test_docs_strategies_page_examples():
    import doctest
    page = Path(__file__).resolve().parents[1] / "docs" / "strategies.md"
    result = doctest.testfile(str(page), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10 and result.failed == 0
