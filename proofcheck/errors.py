"""One exception hierarchy for proofcheck.

Every error proofcheck raises on purpose derives from :class:`ProofcheckError`, so a caller can
catch them all with one ``except``; each also keeps the builtin base it had before (``ValueError``
for bad input, ``RuntimeError`` for broken claim code) so existing ``except ValueError`` code
keeps working. The old names stay importable from their old modules (``proofcheck.engine.
ClaimError``, ``proofcheck.search.explore.ExploreError``, ...): they are these classes.

>>> issubclass(GeneratorError, ClaimError) and issubclass(ClaimError, ProofcheckError)
True
>>> issubclass(ExploreError, ValueError) and issubclass(ExploreError, UsageError)
True
"""

from __future__ import annotations

import os
import traceback

__all__ = ["ProofcheckError", "ClaimError", "GeneratorError", "UsageError", "ExploreError",
           "WitnessFileError", "CertificationError", "NotApplicable", "describe"]


class ProofcheckError(Exception):
    """The root of every error proofcheck raises on purpose."""


class ClaimError(ProofcheckError, RuntimeError):
    """Something in a claim's own code or data is broken; the message names the claim."""


class GeneratorError(ClaimError):
    """A claim's instance generator produced instances outside its stated hypotheses."""


class UsageError(ProofcheckError, ValueError):
    """A caller passed something invalid (an unknown name, a bad budget, a bad option)."""


class ExploreError(UsageError):
    """Bad input to :func:`proofcheck.search.explore.explore`: an unknown hypothesis or mutant
    name, a bad budget or seed."""


class WitnessFileError(UsageError):
    """A witness file is malformed or does not match the claim it names."""


class CertificationError(ProofcheckError):
    """A certifying evaluation (exact rationals, balls, a decision procedure) cannot decide."""


class NotApplicable(CertificationError):
    """A rung of the judge does not apply to this claim / witness (the reason is the message)."""


def describe(exc: BaseException) -> str:
    """``Type: message (at file:line)`` of an exception raised by a claim's own code: the
    innermost frame outside Hypothesis, its path relative to the working directory when it
    lies below it (so a report reads the same on every machine).

    >>> try:
    ...     {}["x"]
    ... except KeyError as e:
    ...     print(describe(e).split(" (at ")[0])
    KeyError: 'x'
    """
    tb = traceback.extract_tb(exc.__traceback__)
    frames = [f for f in tb if "/hypothesis/" not in f.filename]
    if not frames:
        return f"{type(exc).__name__}: {exc}"
    path = frames[-1].filename
    try:
        rel = os.path.relpath(path)
    except ValueError:          # another drive (Windows)
        rel = path
    return f"{type(exc).__name__}: {exc} (at {path if rel.startswith('..') else rel}:" \
           f"{frames[-1].lineno})"
