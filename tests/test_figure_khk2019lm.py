"""The KHK2019LM geometry figure: its quantities are right and it renders PNG and SVG."""

import numpy as np
import pytest

from proofcheck.figures import available, render
from proofcheck.catalogue.khk2019lm.figures import f_X, geometry, jacobian


def test_quantities_match_the_paper_picture():
    g = geometry()
    assert g["rank_T_regular"] == 2          # a tangent plane at a regular point
    assert g["rank_T_singular"] == 1         # a line at the singular point (Figure 4, left)
    assert g["rank_perturbable"] == 3        # the perturbable span is R^3 (Figure 4, right)
    assert g["membership_deviation"] == 0.0  # the perturbations keep f_X exactly (theta_2 = 0)
    # eq. (3.1): f_X(theta) lies in T at the regular point
    J = g["T_regular"]
    coef, *_ = np.linalg.lstsq(J, g["f_regular"], rcond=None)
    assert np.allclose(J @ coef, g["f_regular"], atol=1e-14)


def test_jacobian_is_the_derivative():
    theta, h = np.array([0.7, -0.4]), 1e-6
    fd = np.stack([(f_X(theta + h * e) - f_X(theta - h * e)) / (2 * h) for e in np.eye(2)], 1)
    assert np.abs(fd - jacobian(theta)).max() < 1e-8


def test_registered_and_renders(tmp_path):
    pytest.importorskip("matplotlib")
    assert "khk2019lm.figure_geometry" in available()
    paths = render("khk2019lm.figure_geometry", tmp_path)
    assert {p.suffix for p in paths} == {".png", ".svg"}
    assert all(p.stat().st_size > 1000 for p in paths)
