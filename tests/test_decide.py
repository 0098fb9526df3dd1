"""The decision procedure (proofcheck.decide): proofs, exact counterexamples, honest unknowns."""

import pytest
import sympy as sp

pytest.importorskip("z3")

from proofcheck import decide as D  # noqa: E402
from proofcheck.decide import (Decidable, TranslationError, decide, decide_claim,  # noqa: E402
                               decide_dropped)
from proofcheck.results import EvidenceKind  # noqa: E402

a, b, x, y = sp.symbols("a b x y", real=True)


def test_am_gm_two_variables_is_proven():
    r = decide([a, b], [a >= 0, b >= 0], (a + b) / 2 >= sp.sqrt(a * b), name="AM-GM")
    assert r.status == "proven" and r.grade == "proven" and isinstance(r, D.Proven)
    assert r.runs[0].solver == "z3" and r.runs[0].answer == "unsat"
    assert any("a*b >= 0" in d for d in r.domain)       # sqrt's radicand, read where defined
    assert "PROVEN" in r.describe()


def test_false_inequality_has_an_exactly_revalidated_rational_counterexample():
    r = decide([x], [x > 0], x**2 > x)
    assert r.status == "counterexample" and r.grade == "certified"
    v = r.witness[x]
    assert v.is_Rational and 0 < v <= 1                  # checked here again, exactly


def test_irrational_counterexample_is_an_algebraic_number():
    r = decide([x], [], sp.Ne(x**2, 2))                  # false exactly at x = ±sqrt(2)
    assert r.status == "counterexample"
    v = r.witness[x]
    assert isinstance(v, sp.CRootOf) and sp.minimal_polynomial(v, y) == y**2 - 2


def test_second_opinion_is_recorded(monkeypatch):
    r = decide([x], [x > 1], x**3 > x)
    solvers = [run.solver for run in r.runs]
    assert solvers[0] == "z3" and "cvc5" in solvers
    # after z3's proof cvc5 is not asked by default (its answer would depend on the load) ...
    assert [run.answer for run in r.runs] in (["unsat", "not run"], ["unsat", "not installed"])
    monkeypatch.setenv("PROOFCHECK_SECOND_OPINION", "always")
    r = decide([x], [x > 1], x**3 > x)
    # ... and is when asked for
    assert {run.answer for run in r.runs} <= {"unsat", "not installed"}


def test_unknown_on_timeout_is_reported_honestly():
    vs = sp.symbols("a0:7", real=True)
    f = ((vs[0] * vs[1] * vs[2] - vs[3] * vs[4] * vs[5] + vs[6]) ** 2
         + (vs[0] ** 2 * vs[3] - vs[1] * vs[6] ** 2 + vs[2] * vs[4] * vs[5] - 1) ** 2)
    r = decide(vs, [sp.And(*[v >= 0 for v in vs]), sum(v**2 for v in vs) <= 3],
               f * (vs[0] + vs[1]) >= sp.Rational(1, 1000) * vs[2] * vs[5] * vs[6],
               timeout=0.3, second_opinion=False)
    assert r.status == "unknown" and r.grade is None and r.holds is None
    assert "time limit" in r.reason


def test_a_model_that_fails_revalidation_is_not_trusted(monkeypatch):
    # Corrupt every value read from the solvers: the model no longer satisfies the formula.
    monkeypatch.setattr(D, "_from_z3", lambda v: sp.Integer(5))
    monkeypatch.setattr(D, "_from_cvc5", lambda v: sp.Integer(5))
    r = decide([x], [x > 0], x**2 > x)                   # true counterexample x = 1/2 exists
    assert r.status == "unknown" and r.witness is None
    assert "failed exact re-validation" in r.reason


def test_uninterpreted_function_counterexample_has_a_consistent_table():
    l = sp.Function("l")
    t = sp.Symbol("t")
    dl = sp.Subs(sp.Derivative(l(t), t), t, x * y)
    r = decide([x, y], [], sp.Eq(x * dl - y * dl, 0))
    assert r.status == "counterexample"
    (name, rows), = r.function_table.items()
    assert name == "l__d1" and len(rows) == 1
    assert r.evaluate(x * dl - y * dl) != 0


def test_outside_the_fragment_is_a_clear_error():
    with pytest.raises(TranslationError, match="exp"):
        decide([x], [], sp.exp(x) > x)


def test_decidable_dropping_and_necessity():
    form = Decidable([a, b], {"a_nonneg": a >= 0, "b_nonneg": b >= 0},
                     (a + b) ** 2 >= 4 * a * b, size={"n": 2}, name="squares")

    class C:
        id = "demo.claim"
        decidable = (form,)

    assert decide_dropped(C, "a_nonneg")["status"] == "unnecessary"
    assert decide_dropped(C, "a_nonneg")["text"].startswith("a_nonneg: unnecessary at size n=2")
    sq = Decidable([a, b], {"a_nonneg": a >= 0}, a + b >= 2 * sp.sqrt(a * b), name="amgm")
    C.decidable = (sq,)
    # b >= 0 is not stated but sqrt(a b) needs a b >= 0: with a >= 0 dropped, a = b = -1 works
    assert decide_dropped(C, "a_nonneg")["status"] == "necessary"
    assert decide_dropped(C, "missing")["status"] == "not decidable"


# --- the catalogue ----------------------------------------------------------------------------

def test_the_four_undecided_identities_of_shamir_eq7_to_eq10_are_decided():
    from proofcheck.engine import check_claim
    from proofcheck.catalogue.shamir2018.theorem2 import derivatives
    res = check_claim(derivatives, profile="quick")
    by_name = {m.name: m for m in res.mutants}
    for name in ("dropped_Vf", "transposed", "doubled", "row_major"):
        m = by_name[name]
        assert m.caught and "decision procedure" in m.caught_by and "UNDECIDED" not in m.caught_by
        assert m.witness is not None and m.witness.certified
        assert any(k.startswith("l^(1)(") for k in m.witness.instance["values"])


@pytest.mark.parametrize("module, attr", [("shamir2018.theorem2", "lemma2_corrected"),
                                          ("shamir2018.example1", "stationary_point"),
                                          ("shamir2018.example1", "corrected_stationary"),
                                          ("shamir2018.theorem1", "lemma1"),
                                          ("shamir2018.setting", "footnote2"),
                                          ("kb2019.lemma2", "perturbation_family")])
def test_decidable_catalogue_claims_are_proven_and_their_mutants_caught(module, attr):
    import importlib
    import proofcheck.papers  # noqa: F401  (registers the catalogue in a source tree)
    mod = importlib.import_module("proofcheck.catalogue." + module)
    claim = getattr(mod, attr)
    rec = decide_claim(claim)
    assert rec.kind is EvidenceKind.DECISION_PROCEDURE and rec.passed is True, rec.summary
    assert rec.sizes
    changed = [m for m in claim.mutants if m.apply(claim).decidable is not claim.decidable]
    assert changed, "no mutant of the decidable form"
    for m in changed:
        mrec = decide_claim(m.apply(claim))
        assert mrec.passed is False, (m.name, mrec.summary)
        assert mrec.witness is not None and mrec.witness.certified


def test_dropping_convexity_from_lemma1_is_caught_and_w_nonzero_is_implied():
    from proofcheck.catalogue.shamir2018.theorem1 import lemma1
    rec = decide_claim(lemma1.dropping("A1"))
    assert rec.passed is False and "functions:" in rec.summary
    dropped = decide_dropped(lemma1, "w_nonzero")
    assert dropped["status"] == "implied"            # 1/||w||^2 as printed needs w != 0


def test_printed_erratum_forms_are_refuted_exactly():
    from proofcheck.catalogue.shamir2018.example1 import stationary_points
    from proofcheck.catalogue.shamir2018.theorem2 import lemma2
    for claim in (lemma2, stationary_points):
        rec = decide_claim(claim)
        assert rec.passed is False and rec.witness.certified, rec.summary


def test_necessity_map_uses_the_decision_procedure_before_searching():
    from proofcheck.search.necessity import necessity
    from proofcheck.catalogue.shamir2018.theorem1 import lemma1

    def no_search(*args, **kwargs):
        raise AssertionError("a decided row must not search")

    entry = necessity(lemma1, "A1", explore_fn=no_search)
    assert entry.verdict == "necessary"
    assert entry.certificate["method"].startswith("decision procedure")
    assert "necessary at size d_x=1, d_z=1, m=1" in entry.summary
