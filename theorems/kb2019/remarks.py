"""Kawaguchi & Bengio (2019), Remarks 1 and 2 (§2.1): arbitrary fixed features and bias terms.

Remark 1. All results hold with x in any fixed feature space: x = φ(x_raw).
Remark 2. All results hold with or without bias terms: x = [x; 1], z(x, θ) = [z(x, θ); 1].

Both are checked by re-running Theorem 1's conclusion, at certified local minima, on data
transformed accordingly (φ(x) = [x, x^2, sin x] entrywise for Remark 1).
"""

from proofcheck import Mutant, MutantKind
from proofcheck.problems import (cases, instances_for, resnet_landscape,
                                 with_bias_columns, with_feature_map)

from . import printed_at
from ._declare import AT_CERTIFIED_POINT, at_resnet_minima, versus_linear



# --- Remark 2: bias terms ------------------------------------------------------------------------

def bias_instances(assumed):
    return instances_for(assumed, losses=("squared", "logistic")).map(with_bias_columns)


def feature_instances(assumed):
    return instances_for(assumed, losses=("squared", "logistic")).map(with_feature_map)


def theorem1_margin(inst, point, B, factor=1.0):
    return versus_linear("at_most", lambda v: (v.L, v.L_x - factor * (v.L_x - v.L_xz)))(
        inst, point, B)


half_of_L_x = versus_linear("at_most", lambda v: (v.L, v.L_x / 2), "x")
below_improvement = versus_linear("at_most", lambda v: (v.L, v.L_xz - v.L_x))


remark2 = at_resnet_minima("kb2019.remark2", printed_at("2.1", "Remark 2"),
    title="bias terms: the results hold with x -> [x; 1], z -> [z; 1]",
    statement="All results hold for the model with or without bias terms: set x = [x; 1] and "
              "z(x, θ) = [z(x, θ); 1]",
    conclusion=theorem1_margin,
    instances=bias_instances,
    landscape=resnet_landscape,
    cases=cases(("squared", "logistic"), ("full_rank",)),
    notes="Theorem 1's conclusion re-checked on data with constant-one features appended.",
    mutants=(
        Mutant.conclusion("doubled_improvement", MutantKind.PERTURBED_CONSTANT,
                          "L <= L*_x - 2 (L*_x - L*_{x,z})",
                          lambda i, p, B: theorem1_margin(i, p, B, factor=2.0)),
        Mutant.conclusion("half_of_L_x", MutantKind.PERTURBED_CONSTANT, "L <= L*_x / 2",
                          half_of_L_x),
        Mutant.conclusion("dropped_first_term", MutantKind.DROPPED_TERM,
                          "L <= -(L*_x - L*_{x,z})", below_improvement),
    ),
)


remark1 = remark2.replace(
    id="kb2019.remark1",
    title="arbitrary fixed features: the results hold with x = φ(x_raw)",
    source=printed_at("2.1", "Remark 1"),
    statement="All of our results hold true with x in any fixed feature space embedded in "
              "R^{d_x}: x = φ(x_raw) for any feature map φ",
    instances=feature_instances,
    notes="Theorem 1's conclusion re-checked on inputs x = φ(x_raw) = [x_raw, x_raw^2, "
          "sin x_raw]. " + AT_CERTIFIED_POINT,
)
