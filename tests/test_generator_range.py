r"""The spectral bounds of the block solver's packed generator really enclose its range.

:meth:`BlockSolver.generator` returns ``re_low``, ``re_high`` and ``omega``, and the Chebyshev
propagation relies on the claim (module notes and ``AssembledGenerator``) that the *numerical
range* of :math:`\mathcal L` in the physical (Hilbert-Schmidt) norm lies in the rectangle
:math:`[\mathrm{re\_low}, \mathrm{re\_high}] \times i[-\omega, \omega]`. The bounds are the
Gershgorin discs of the dissipator plus the Bohr width of :math:`H`.

The packed vector holds, per block :math:`X_{jlK}`, :math:`\mathrm{Re}\,X_{ab}` (:math:`a\le
b`) and :math:`\mathrm{Im}\,X_{ab}` (:math:`a<b`); the full state is :math:`\rho =
\bigoplus X_{jl}\otimes\mathbb 1/d_j\otimes\mathbb 1/d_l`, so

.. math::

    \|\rho\|_{HS}^2 = \sum_{\rm entries} g_i^2 v_i^2, \qquad
    g_i = \frac{1}{\sqrt{d_j d_l}} \times \begin{cases} 1 & \text{diagonal } X_{aa} \\
    \sqrt2 & \text{off-diagonal (real or imaginary part)} \end{cases}

(``gen.weights`` is the :math:`1/\sqrt{d_jd_l}` factor, ``gen.pop_rows`` the diagonal
entries). With :math:`N = G M G^{-1}` (:math:`G = \mathrm{diag}\,g`) the packed generator is an
isometric copy of :math:`\mathcal L` (restricted to the parity-invariant half in the chiral
case), and the complexified numerical range of the real matrix :math:`N` has its real part
between the extreme eigenvalues of :math:`(N + N^T)/2` and its imaginary part within the
spectrum of :math:`(N - N^T)/2i`. These are the exact extremes of the range, much closer to the
Gershgorin bounds than the spectrum of :math:`M`.

Mutation check (scratch copy of ``blocks.py``): with the Gershgorin radius of
``Assembler.dissipator_bounds`` halved, :func:`test_numerical_range_inside_bounds` fails on
every case with a dissipator jump term; halving only the ``re_low`` or the ``re_high`` margin
fails most cases; halving only the dissipator margin of ``omega`` fails the collective pumping,
collective decay and Hamiltonian-free cases. The spectrum alone
(:func:`test_spectrum_inside_bounds`) notices the halved radius only for local charger
dephasing without Hamiltonian (eigenvalue :math:`-8\gamma` below the halved ``re_low``).
"""

import numpy as np
import pytest

from qutip_centralspin import CentralSpinModel
from qutip_centralspin.models.processes import decay, dephasing, pumping
from qutip_centralspin.solvers.blocks import BlockSolver

#: Relative slack (in units of ``gen.scale``) for rounding in the dense eigenvalue problems.
RANGE_RTOL = 1e-9
#: Exact (anti)symmetry of the weighted generator, relative to its largest entry (rounding).
SYMMETRY_ATOL = 1e-12
#: Smallest acceptable best reach (range extreme / bound) per side, see
#: :func:`test_bounds_are_attained_closely`.
MIN_REACH = {"re_low": 0.8, "re_high": 0.5, "omega (no Hamiltonian)": 0.6}

RESONANT = CentralSpinModel(3, 4, B=1.0, h=1.0, A=1.0, delta=0.0)
DETUNED = CentralSpinModel(3, 4, B=1.3, h=0.7, A=1.0, delta=0.4)
ISING = CentralSpinModel(2, 3, B=1.0, h=1.0, A=1.0, delta=2.0)
NO_HAMILTONIAN = CentralSpinModel(3, 4, B=0.0, h=0.0, A=0.0, delta=0.0)
WEAK_COUPLING = CentralSpinModel(2, 5, B=0.5, h=0.5, A=0.1, delta=0.0)

#: (model, processes, initial sectors K, chiral), each with an id. Rates of 3 are strong
#: dissipation against A = 1 (30 A for the weak-coupling model).
CASES = [
    pytest.param(RESONANT, [decay(3.0)], [3], True, id="chiral-local-battery-decay"),
    pytest.param(
        RESONANT,
        [pumping(3.0, "charger", "collective")],
        [3],
        True,
        id="chiral-collective-charger-pumping",
    ),
    pytest.param(
        RESONANT,
        [
            dephasing(2.0),
            decay(1.5, "charger", "collective"),
            pumping(0.7, "battery", "collective"),
        ],
        [3],
        True,
        id="chiral-mixed",
    ),
    pytest.param(
        RESONANT, [decay(3.0, "charger")], [2, 4], False, id="resonant-local-charger-decay"
    ),
    pytest.param(
        DETUNED, [dephasing(3.0, "charger")], [3], False, id="detuned-local-charger-dephasing"
    ),
    pytest.param(
        DETUNED,
        [pumping(3.0, "battery", "collective")],
        [3],
        False,
        id="detuned-collective-pumping",
    ),
    pytest.param(
        DETUNED,
        [dephasing(2.0), decay(1.5, "charger", "collective"), pumping(0.7), decay(2.5, "charger")],
        [3],
        False,
        id="detuned-mixed",
    ),
    pytest.param(ISING, [decay(3.0, "charger"), dephasing(1.0)], [2], False, id="ising-decay"),
    pytest.param(
        NO_HAMILTONIAN,
        [decay(3.0, "charger"), pumping(1.0)],
        [3],
        False,
        id="pure-dissipator-local",
    ),
    pytest.param(
        NO_HAMILTONIAN,
        [dephasing(3.0, "charger")],
        [3],
        False,
        id="pure-dissipator-local-dephasing",
    ),
    pytest.param(
        NO_HAMILTONIAN,
        [decay(3.0, "battery", "collective")],
        [3],
        False,
        id="pure-dissipator-collective",
    ),
    pytest.param(
        WEAK_COUPLING,
        [decay(3.0, "charger", "collective")],
        [3],
        False,
        id="weak-coupling-collective-decay",
    ),
    pytest.param(
        WEAK_COUPLING,
        [pumping(3.0), dephasing(0.5, "charger")],
        [3],
        False,
        id="weak-coupling-local",
    ),
    pytest.param(
        DETUNED,
        [dephasing(0.05), decay(0.05, "charger")],
        [3],
        False,
        id="weak-dissipation",
    ),
]


def _packed(model, processes, initial_sectors, chiral):
    """The generator of ``BlockSolver`` (as ``_run`` builds it) and its dense matrix ``M``."""
    solver = BlockSolver(model, processes)
    if chiral:
        assert solver.chiral_symmetric, "a chiral case needs B == h and delta == 0"
    gen = solver.generator(solver.sectors(initial_sectors), chiral)
    size = gen.Y2.shape[0]
    M = gen.apply(np.eye(size))
    return gen, np.asarray(M)


def _physical_weights(gen):
    """g_i: packed entry -> Hilbert-Schmidt norm of the full state (see the module notes)."""
    g = np.sqrt(2.0) * gen.weights
    g[gen.pop_rows] = gen.weights[gen.pop_rows]
    return g


def _weighted(gen, M):
    """N = G M G^{-1}: the packed generator in an orthonormal basis of the physical norm."""
    g = _physical_weights(gen)
    return g[:, None] * M / g[None, :]


def _numerical_range_box(N):
    """Exact extremes of the numerical range of the complexified real matrix N."""
    herm = np.linalg.eigvalsh(0.5 * (N + N.T))
    anti = np.linalg.eigvalsh((N - N.T) / 2j)
    return herm[0], herm[-1], float(np.abs(anti).max())


def _bounds(gen):
    """(re_low, re_high, omega, tolerance) as plain floats, and their description."""
    re_low, re_high, omega = float(gen.re_low), float(gen.re_high), float(gen.omega)
    tol = RANGE_RTOL * max(float(gen.scale), 1.0)
    text = (
        f"stated bounds Re in [{re_low:.6g}, {re_high:.6g}], |Im| <= {omega:.6g} "
        f"(scale {gen.scale:.6g}, modified={gen.modified}, size {gen.Y2.shape[0]})"
    )
    return re_low, re_high, omega, tol, text


@pytest.mark.parametrize(("model", "processes", "sectors", "chiral"), CASES)
def test_numerical_range_inside_bounds(model, processes, sectors, chiral):
    """Re and Im of the numerical range (physical norm) lie inside the stated rectangle."""
    gen, M = _packed(model, processes, sectors, chiral)
    lo, hi, im = _numerical_range_box(_weighted(gen, M))
    re_low, re_high, omega, tol, text = _bounds(gen)
    assert lo >= re_low - tol, f"smallest Re of the numerical range is {lo:.6g}; {text}"
    assert hi <= re_high + tol, f"largest Re of the numerical range is {hi:.6g}; {text}"
    assert im <= omega + tol, f"largest |Im| of the numerical range is {im:.6g}; {text}"


@pytest.mark.parametrize(("model", "processes", "sectors", "chiral"), CASES)
def test_spectrum_inside_bounds(model, processes, sectors, chiral):
    """The eigenvalues of M (independent of any inner product) lie inside the rectangle."""
    gen, M = _packed(model, processes, sectors, chiral)
    ev = np.linalg.eigvals(M)
    lo, hi, im = float(ev.real.min()), float(ev.real.max()), float(np.abs(ev.imag).max())
    re_low, re_high, omega, tol, text = _bounds(gen)
    assert lo >= re_low - tol, f"an eigenvalue of M has Re {lo:.6g}; {text}"
    assert hi <= re_high + tol, f"an eigenvalue of M has Re {hi:.6g}; {text}"
    assert im <= omega + tol, f"an eigenvalue of M has |Im| {im:.6g}; {text}"


def test_bounds_are_attained_closely():
    """The cases come close to every side of the rectangle, so the containment test has teeth.

    ``reach`` is the best ratio (numerical-range extreme) / (bound) over :data:`CASES`. For
    ``omega`` only the cases without Hamiltonian count: there the Bohr width is 0 and ``omega``
    is the Gershgorin radius itself, so a reach above 1/2 means that halving the radius must
    break :func:`test_numerical_range_inside_bounds`. The thresholds of the real sides are set
    below the observed reach (about 0.92 and 0.58); they fail if the cases are weakened or the
    bounds become much looser.
    """
    reach = {"re_low": 0.0, "re_high": 0.0, "omega (no Hamiltonian)": 0.0}
    for case in CASES:
        model, processes, sectors, chiral = case.values
        gen, M = _packed(model, processes, sectors, chiral)
        lo, hi, im = _numerical_range_box(_weighted(gen, M))
        if gen.re_low < 0:
            reach["re_low"] = max(reach["re_low"], lo / gen.re_low)
        if gen.re_high > 0:
            reach["re_high"] = max(reach["re_high"], hi / gen.re_high)
        if model is NO_HAMILTONIAN and gen.omega > 0:
            reach["omega (no Hamiltonian)"] = max(reach["omega (no Hamiltonian)"], im / gen.omega)
    for side, fraction in reach.items():
        assert fraction >= MIN_REACH[side], (
            f"no case brings the numerical range close to {side}: best reach {fraction:.3f} < "
            f"{MIN_REACH[side]}; the containment test would miss a much weaker bound"
        )


@pytest.mark.parametrize(
    ("model", "processes", "sectors", "vanishing"),
    [
        # -i[H, .] is anti-Hermitian in the HS norm: checks the sqrt(2) of the off-diagonals
        pytest.param(
            DETUNED, [dephasing(0.0)], [3], "symmetric", id="hamiltonian-is-antisymmetric"
        ),
        # local dephasing (Hermitian jumps) is self-adjoint: checks the multiplicity weights
        pytest.param(
            CentralSpinModel(4, 4, B=0.0, h=0.0, A=0.0),
            [dephasing(1.0), dephasing(0.7, "charger")],
            [4],
            "antisymmetric",
            id="local-dephasing-is-symmetric",
        ),
    ],
)
def test_packed_inner_product_is_physical(model, processes, sectors, vanishing):
    """The weights used above make N = G M G^-1 an isometric copy of L (HS norm).

    A Hamiltonian generator must be exactly antisymmetric, a self-adjoint dissipator exactly
    symmetric; either fails with a wrong weight (without the sqrt(2), resp. without the
    multiplicities, the vanishing part is of order 1).
    """
    gen, M = _packed(model, processes, sectors, False)
    N = _weighted(gen, M)
    part = 0.5 * (N + N.T) if vanishing == "symmetric" else 0.5 * (N - N.T)
    size = float(np.abs(N).max())
    worst = float(np.abs(part).max())
    assert size > 0, "the test generator is zero"
    assert worst <= SYMMETRY_ATOL * size, (
        f"the {vanishing} part of the weighted generator is {worst:.3g} (entries up to "
        f"{size:.3g}), not zero: the packed weights are not the Hilbert-Schmidt ones"
    )
