"""The search layer: where does a statement break?

:func:`explore` searches for instances of a claim (optionally with hypotheses dropped or a
mutant's conclusion) at which the margin is negative beyond its tolerance; :func:`shrink`
reduces a failing instance to small dimensions, few samples and simple numbers; witnesses are
saved as exact JSON files and replayed bit-for-bit (:mod:`proofcheck.search.witness`).

>>> from proofcheck.search import Budget, explore            # doctest: +SKIP
>>> ex = explore(claim, drop=("A2",), budget=Budget(instances=200), seed=0)  # doctest: +SKIP
>>> ex.found, ex.best_margin, ex.summary                      # doctest: +SKIP

Modules
-------
``explore``   :func:`explore`, :class:`Budget`, :class:`Exploration`, :class:`Counterexample`
``edges``     strategies that push drawn instances towards edge cases (zeros, exact rank
              deficiency, repeated rows, kinks)
``shrink``    :func:`shrink`: greedy passes over any :class:`~proofcheck.claims.Instance`
``witness``   :func:`save_witness`, :func:`load_witness`, :func:`replay` (JSON, exact floats)

Contract with the certification / necessity / tightness layer (helper H7)
------------------------------------------------------------------------
This contract is kept stable; additions only.

* ``proofcheck/search/certify.py`` (H7) defines
  ``certify(claim, witness) -> Certificate`` where ``Certificate`` has the attributes
  ``status`` (one of ``"certified-exact"``, ``"certified-interval"``, ``"uncertified"``),
  ``method`` (str) and ``detail`` (str). ``claim`` is the claim *as explored* (mutant applied,
  hypotheses dropped: ``Counterexample.claim``), ``witness`` is a :class:`Counterexample`.
  :func:`explore` imports it lazily and calls it on every shrunk witness when the module
  exists; until then (or when it raises) ``Counterexample.status`` is
  ``"float64 witness, uncertified"``.
* :class:`Counterexample` (one witness) has: ``instance`` (an Instance), ``point`` (the
  certified point for local-minimum / critical-point claims, else None), ``margin`` and
  ``tolerance`` (float64; it fails when ``margin < -tolerance``), ``precision`` (str),
  ``status`` (str, see above), ``certificate`` (the Certificate or None), ``claim`` (the explored
  claim), ``shrunk_from`` (sizes before shrinking), ``sizes``, ``lhs`` / ``rhs``, ``detail``,
  ``kind`` ("instance" or "identity": an identity claim's witness is a size of its sweep with
  exact symbol values, certified exactly by the identity checker itself).
* :func:`explore(claim, *, drop=(), mutate=None, budget=Budget(), seed=0, progress=None,
  certify=True, shrink=True, starts=4, digits=40)` (``starts`` / ``digits``: the point finder's
  starts and certification precision for point claims) returns an :class:`Exploration` with
  ``claim_id``, ``dropped``,
  ``mutant``, ``seed``, ``budget`` (asked), ``instances`` (evaluated), ``seconds``,
  ``best_margin``, ``best_normalised`` (margin / scale of the two sides, for tightness),
  ``witnesses`` (list of Counterexample, most negative first), ``found`` (bool: a witness fails
  beyond its tolerance), ``refuted`` (bool: found and certified), ``summary`` (plain language),
  ``to_dict()`` (deterministic part only) and ``timings`` (seconds; not in the deterministic
  part). ``Budget(seconds=None, instances=None)``; ``Budget.parse("30s" | "500")``.
* Exploration statuses (``Exploration.outcome``): ``"counterexample"``, ``"none-within-budget"``,
  ``"vacuous"`` (no certified point / no instance to evaluate), ``"generator-cannot-violate"``
  (the claim's generator produced no instance violating a dropped hypothesis), ``"identity"``
  (identities only: they hold at every size of their sweep), ``"undecided"`` (an identity the
  exact checker could neither prove nor refute at some size) and ``"error"``.
* :class:`Evaluator(claim, seed=, starts=, digits=)` evaluates one instance as explore does
  (``evaluate(inst) -> Evaluation | None``: ``margin``, ``tolerance``, ``scale``,
  ``normalised``, ``point``; None when a point claim has no certified point there);
  :func:`admissible(claim, inst)` checks kept and dropped hypotheses.
* ``proofcheck report`` (H7) is added to ``proofcheck/cli.py`` as a new command only.
"""

from .explore import Budget, Counterexample, Exploration, explore
from .shrink import shrink

__all__ = ["Budget", "Counterexample", "Exploration", "explore", "shrink"]
