"""A user's conjecture: KB2019 Theorem 2 with a sharper constant.

Kawaguchi & Bengio (2019), Theorem 2: with the squared loss and A1 (d_y <= min(d_x, d_z)),
every local minimum of L(W, V) = (1/m) sum_i ||W(x_i + V z_i) - y_i||^2 satisfies

    L(W, V) <= L*_{x} - (L*_{x} - L*_{x,z})        (the improvement counted once).

Conjecture (false, as `proofcheck explore` shows): the improvement counts twice,

    L(W, V) <= L*_{x} - 2 (L*_{x} - L*_{x,z}).

This module is written as a user would: it lives outside the package, draws its data with
``proofcheck.strategies``, builds the landscape with ``proofcheck.models`` (through
``proofcheck.problems.resnet_landscape``) and reads L and L* with
``proofcheck.problems.values_at_point``, the quantity function the catalogue uses (and which the
certifier replaces by certified enclosures).

Square W (d_y = d_x) makes the local minima non-degenerate, so they can be certified by interval
arithmetic (Krawczyk + interval Cholesky).
"""

from functools import partial

from hypothesis import strategies as st

from proofcheck import Claim, Hypothesis, Instance, Margin, Mutant, MutantKind, PointKind, Source
from proofcheck.losses import SquaredLoss
from proofcheck.problems import resnet_landscape, values_at_point
from proofcheck.strategies import datasets

A1 = Hypothesis("A1", "d_y <= min(d_x, d_z)",
                lambda inst: inst.d_y <= min(inst.d_x, inst.d_z))


def instances(assumed):
    """Regression data with d_y = d_x = d_z = d (A1 holds) or d_y = d + 1 (A1 dropped)."""
    @st.composite
    def draw(draw):
        d = draw(st.integers(1, 2))
        d_y = d if assumed["A1"] else d + 1
        m = draw(st.integers(2 * d + 2, 2 * d + 4))      # more samples than features
        data = draw(datasets(m, d, d_y, d, elements="int", bound=3, rank_X=d, rank_Z=d))
        return Instance(loss=SquaredLoss(), loss_name="squared", residual="data",
                        d_x=d, d_y=d_y, d_z=d, **data)
    return draw()


def bound(times):
    def conclusion(inst, point, B):
        L, L_x, L_xz, tol, source = values_at_point(inst, point, "x", "x,z")
        return Margin.at_most(L, L_x - times * (L_x - L_xz), tol=tol, tol_source=source)
    return conclusion


#: What both statements share: A1, the instances and the certified local minima of the ResNet.
at_resnet_minima = partial(Claim, hypotheses=(A1,), instances=instances,
                           point_kind=PointKind.LOCAL_MIN, landscape=resnet_landscape)

published = at_resnet_minima(
    id="user.theorem2",
    title="KB2019 Theorem 2 as published, on the same instances (for comparison)",
    source=Source("kb2019", "3.2", "Theorem 2", "(6)"),
    statement="If A1 holds, every local minimum satisfies L <= L*_x - (L*_x - L*_{x,z})",
    conclusion=bound(1),
    mutants=(Mutant.conclusion("doubled", MutantKind.PERTURBED_CONSTANT,
                               "the improvement counted twice (the conjecture)", bound(2)),
             Mutant.drop("A1", "d_y = d_x + 1 > min(d_x, d_z)")),
)

sharper = at_resnet_minima(
    id="user.conjecture1",
    title="Theorem 2 of KB2019 with the improvement counted twice",
    source=Source("user", "1", "Conjecture 1"),
    statement="If A1 holds, every local minimum satisfies L <= L*_x - 2 (L*_x - L*_{x,z})",
    conclusion=bound(2),
)
