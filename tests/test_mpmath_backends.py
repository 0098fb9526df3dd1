"""mpmath runs on gmpy2 when it is installed (a dependency: several times faster at 50
digits) and on pure Python integers otherwise (``MPMATH_NOGMPY=1``, or a machine without
gmpy2). Every place where the engine takes an ``mpf`` apart (mantissa and exponent, handed to
python-flint or to the point store) must give the same values on both: with gmpy2 the
mantissa is a ``gmpy2.mpz``, which python-flint's ``fmpz`` refuses (a certified local minimum
once crashed on it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_PROBE = r"""
import json
import mpmath
import numpy as np
from mpmath.libmp import BACKEND
from proofcheck import models, pointcache, second_order
from proofcheck.exact_backends import mpf_to_fmpq

out = {"backend": BACKEND}
with mpmath.workdps(50):
    x = mpmath.mpf(1) / 3
    out["arb"] = models._mp_to_arb(-x).str(60, radius=True)
    out["fmpq"] = str(mpf_to_fmpq(x))
    out["second_order"] = str(second_order._fmpq(-x))
    out["stored"] = pointcache.encode(x)
    A = models.to_mp(np.array([[1.0, 2.0], [3.0, 4.0]])) * x
    out["gram"] = [str(v) for v in models._mp_gram(A, A).ravel()]
    out["posdef"] = bool(second_order.is_positive_definite(np.array([[2.0, 1.0], [1.0, 2.0]])))
print(json.dumps(out))
"""


def _probe(nogmpy: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    env.pop("MPMATH_NOGMPY", None)
    if nogmpy:
        env["MPMATH_NOGMPY"] = "1"
    proc = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def test_the_engine_gives_the_same_values_on_either_mpmath_backend():
    pytest.importorskip("gmpy2")
    on_gmpy, on_python = _probe(nogmpy=False), _probe(nogmpy=True)
    assert on_gmpy.pop("backend") == "gmpy" and on_python.pop("backend") == "python"
    assert on_gmpy == on_python
