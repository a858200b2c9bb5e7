"""Certified maxima of the ergotropy :math:`W(\rho_B(t))` of a closed run.

:func:`max_ergotropy` (the sibling of :func:`~qutip_centralspin.max_power`) and
:func:`certified_max_ergotropy` on a prepared evolution: the largest :math:`W` over a window,
or its first peak, with a rigorous bracket (module notes of
:mod:`qutip_centralspin.observables.ergotropy` for the two battery pictures).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _checks
from ..models.basis import battery_dims
from ..observables.ergotropy import (
    DEFAULT_BATTERY,
    EPS,
    ERGOTROPY_CHUNK,
    Battery,
    battery_blocks,
    battery_kind,
    battery_params,
    ergotropy_blocks,
    is_j_resolved,
    multiplicity_table,
)
from ..results import Maximum
from .certified import (
    MAX_WINDOW_DOUBLINGS,
    PEAKS,
    ROUNDOFF_ULPS,
    Peak,
    certified_first_maximum,
    certified_window_maximum,
    default_window,
    evolution_of,
    with_caveat,
)

__all__ = [
    "ERGOTROPY_SAMPLES_PER_PERIOD",
    "ERGOTROPY_MAX_POINTS",
    "ERGOTROPY_RTOL",
    "max_ergotropy",
    "certified_max_ergotropy",
]


#: Initial grid of :func:`max_ergotropy`: samples per period of the fastest frequency of rho_B.
ERGOTROPY_SAMPLES_PER_PERIOD = 32


#: Largest initial grid a single :func:`max_ergotropy` may take.
ERGOTROPY_MAX_POINTS = 400_000


#: Default relative width of the certified W_max bracket (also times :math:`|B| N_B`, absolute).
ERGOTROPY_RTOL = 1e-8


def _reduced_frequency(evo) -> float:
    """Largest frequency in the matrix elements of rho_B(t) (intra- and inter-sector)."""
    secs = evo.occupied_sectors
    if not secs:
        return 0.0
    lo = np.array([s.energies[0] for s in secs])
    hi = np.array([s.energies[-1] for s in secs])
    ks = np.array([s.k for s in secs])
    coherent = evo.has_sector_coherences
    if not coherent:
        return float(np.max(hi - lo))
    near = np.abs(ks[:, None] - ks[None, :]) <= evo.model.n_battery
    spread = np.maximum(hi[:, None] - lo[None, :], hi[None, :] - lo[:, None])
    return float(np.max(spread[near]))


def max_ergotropy(
    model,
    psi0,
    *,
    battery: Battery = DEFAULT_BATTERY,
    window: float | None = None,
    samples_per_period: int = ERGOTROPY_SAMPLES_PER_PERIOD,
    rtol: float = ERGOTROPY_RTOL,
    peak: Peak = "window",
    engine=None,
) -> Maximum:
    r"""Certified largest ergotropy :math:`\max_{0\le t\le T_w} W(\rho_B(t))` of a closed run.

    The sibling of :func:`~qutip_centralspin.max_power` and
    :func:`~qutip_centralspin.max_energy`: the same ``(model, psi0)`` for every battery model
    (spin, cavity or Dicke charger) and every state form; see
    :func:`certified_max_ergotropy` for the method and the parameters.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, max_ergotropy
    >>> best = max_ergotropy(CentralSpinModel(n_battery=1, n_charger=1), (0, 1))
    >>> round(best.value, 8), best.converged    # one spin fully charged: W = B
    (1.0, True)
    """
    evo = evolution_of(model, psi0, engine)
    result = certified_max_ergotropy(
        evo,
        battery=battery,
        window=window,
        samples_per_period=samples_per_period,
        rtol=rtol,
        peak=peak,
    )
    return with_caveat(model, evo, result)


def certified_max_ergotropy(
    evo,
    *,
    battery: Battery = DEFAULT_BATTERY,
    window: float | None = None,
    samples_per_period: int = ERGOTROPY_SAMPLES_PER_PERIOD,
    rtol: float = ERGOTROPY_RTOL,
    peak: Peak = "window",
) -> Maximum:
    r"""Certified largest ergotropy :math:`\max_{0\le t\le T_w} W(\rho_B(t))` and its time.

    Parameters
    ----------
    evo : SectorEvolution or MixtureEvolution
        Exact evolution (:meth:`SectorEngine.evolve`, :meth:`CavityEngine.evolve`, the
        :meth:`~qutip_centralspin.models.thermal.ThermalMixture.evolution` of a Gibbs state of
        physical spins).
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        The battery picture (module notes; for a mixture over :math:`j_B`: collective
        unitaries block by block, or any unitary on the :math:`2^{N_B}` qubit levels).
    window : float, optional
        :math:`T_w`; default :math:`2\pi/g_{min}`, as for :func:`~qutip_centralspin.max_energy`
        (one period of the slowest neighbouring-level beat).
    samples_per_period : int, default 32
        Initial grid: samples per period :math:`2\pi/\omega_{max}` of the fastest frequency
        present in :math:`\rho_B(t)` (inter-sector coherences included).
    rtol : float, default 1e-8
        Width of the certified bracket: ``max(rtol |W_max|, rtol |B| N_B, 2 round-off)``.
    peak : {"window", "first"}, default "window"
        ``"window"``: the maximum over the window. ``"first"``: the first local maximum of
        :math:`W(t)`, :math:`t > 0`, above :math:`\theta = 4\max(\mathrm{rtol}|B|N_B,`
        round-off :math:`)` (a passive stretch, :math:`W = 0`, is not a peak), found within
        the window (default :math:`2^8` times the one above):
        :func:`~qutip_centralspin.maxima.certified.certified_first_maximum` proves :math:`W` increasing
        before it and decreasing after it from the convexity of :math:`W + Ct^2/2` (notes).

    Returns
    -------
    Maximum
        ``value`` (:math:`W_{max}`, attained at ``time``) and a rigorous ``upper_bound`` of
        :math:`W` on :math:`[0, T_w]` (``horizon = T_w``); ``converged`` when they are within
        ``tolerance``, else ``reason`` says why (the bracket still holds).

    Notes
    -----
    The certificate. :math:`W(\rho) = \max_U \mathrm{tr}[(H_B - U^\dagger H_B U)\rho]` is a
    maximum of functions linear in :math:`\rho`; :math:`W(t)` has kinks where the passive
    ordering changes, but every :math:`g_U(t) = \mathrm{tr}[(H_B - U^\dagger H_BU)\rho_B(t)]`
    is smooth with

    .. math::

        |g_U''| \le \|H_B - U^\dagger H_B U\|\,\|\ddot\rho_B\|_1
        \le |B| N_B\,\|[H, [H, \rho]]\|_1 =: C,

    (partial trace and unitary conjugation do not increase the trace norm; the spread of
    :math:`H_B` is :math:`|B|N_B` in both battery pictures), and likewise :math:`W` is
    Lipschitz with :math:`L = |B|N_B\|[H, \rho]\|_1`. Both norms are bounded once from the
    initial state (:meth:`SectorEvolution.state_derivative_bound`). So on a grid cell
    :math:`[a, b]`, :math:`W \le \max(W(a), W(b)) + C(b-a)^2/8`, kinks included: a higher
    lobe between samples cannot hide. The branch and bound of
    :func:`~qutip_centralspin.maxima.certified.certified_window_maximum` splits the cells that could
    beat the best value. A state without coherences between sectors has a diagonal
    :math:`\rho_B(t)`; it is passive while its populations decrease with energy (in the Dicke
    picture within each ladder; in the qubits picture over all :math:`2^{N_B}` levels, a
    copy of ladder :math:`j` holding :math:`\rho_j/d_j` and an empty ladder 0), and a cell
    whose end margins :math:`m_a, m_b` (the smallest drop :math:`p_a - p_b` over the levels
    :math:`\varepsilon_a < \varepsilon_b`) satisfy :math:`m_a + m_b > (b - a)\|\dot\rho\|_1`
    stays passive throughout (each population moves at most that fast), so flat stretches of
    :math:`W = 0` are settled without resolving the curvature bound. Each evaluation is allowed a round-off of
    :math:`|B|N_B\epsilon(64(N_B+1) + 4\Lambda t)` (:math:`\Lambda` the largest level
    :math:`|\lambda_a|`; measured errors against 40-digit arithmetic are 5-100 times smaller).
    """
    battery = battery_kind(battery)
    if peak not in PEAKS:
        raise ValueError(f"peak must be one of {', '.join(map(repr, PEAKS))}; got {peak!r}")
    samples_per_period = _checks.positive_int("samples_per_period", samples_per_period)
    rtol = _checks.positive_real("rtol", rtol)
    n_battery, B = battery_params(evo.model)
    if window is None:
        window = default_window(evo)
        if peak == "first":
            window = math.ldexp(window, MAX_WINDOW_DOUBLINGS)
    else:
        window = _checks.positive_real("window", window)
    omega = _reduced_frequency(evo)

    # a diagonal rho_B(t) whose populations decrease with energy is passive: W = 0 (in the
    # Dicke picture ladder by ladder, in the qubits picture over all 2^N_B levels); record by
    # how much they decrease (the margin) at every time evaluated
    diagonal = evo.battery_diagonal
    margins: dict[float, float] = {}

    def w_of(t):
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.empty(t.size)
        for start in range(0, t.size, ERGOTROPY_CHUNK):
            stop = start + ERGOTROPY_CHUNK
            blocks = battery_blocks(evo, t[start:stop])
            out[start:stop] = ergotropy_blocks(blocks, n_battery, B, battery)
            if diagonal:
                values = _passive_margin(blocks, n_battery, B, battery).tolist()
                margins.update(zip(t[start:stop].tolist(), values, strict=True))
        return out

    spread = abs(B) * n_battery  # of H_B, in both battery pictures
    if omega == 0 or window == 0:  # rho_B(t) does not move
        w0 = float(w_of(0.0)[0])
        return Maximum(w0, 0.0, w0, (0.0, float(window)), True, horizon=math.inf)
    dt = 2 * math.pi / (samples_per_period * omega)
    count = int(math.ceil(window / dt))
    if count > ERGOTROPY_MAX_POINTS and peak == "window":  # the first peak: searched lazily
        raise ValueError(
            f"window must need at most {ERGOTROPY_MAX_POINTS} grid points at "
            f"{samples_per_period} samples per period; window={window:.3g} needs {count}"
        )
    size = battery_dims(n_battery) if is_j_resolved(evo) else 0
    levels = max(size, n_battery + 1)  # the populations that enter one evaluation
    floor = ROUNDOFF_ULPS * levels * EPS * spread
    slope = 4 * EPS * spread * evo.max_level()
    speed = evo.state_derivative_bound(1)
    extra = None
    if diagonal:
        # |d/dt (p_i - p_j)| <= sum_k |p_k'| = ||rho_B'||_1 <= ||rho'||_1 = speed: if the
        # margins at a and b satisfy m_a + m_b > speed (b - a), every margin stays > 0 on
        # [a, b] and W = 0 there
        slack = ROUNDOFF_ULPS * levels * EPS  # round-off of the margins

        def extra(a, b):
            m_a = np.array([margins.get(x, -math.inf) for x in a.tolist()])
            m_b = np.array([margins.get(x, -math.inf) for x in b.tolist()])
            zero = (m_a > slack) & (m_b > slack) & (m_a + m_b - 2 * slack > speed * (b - a))
            return np.where(zero, 0.0, math.inf)

    search = certified_first_maximum if peak == "first" else certified_window_maximum
    return search(
        w_of,
        window,
        step=window / count,
        curvature=spread * evo.state_derivative_bound(2),
        lipschitz=spread * speed,
        roundoff=lambda t: floor + slope * np.asarray(t, dtype=float),
        rtol=rtol,
        atol=rtol * spread,
        extra_bound=extra,
    )


def _passive_margin(blocks: dict, n_battery: int, B: float, battery: str) -> np.ndarray:
    """The smallest drop ``p_a - p_b`` over pairs of levels with ``e_a < e_b`` of diagonal
    battery states (``> 0``: passive, ``W = 0``), from their ladder blocks (``jmat`` index
    ``i`` of ladder ``j`` has energy ``B (j - i)``).

    ``"dicke"``: the pairs within each ladder (a one-level ladder, ``j = 0``, is passive
    whatever its population). ``"qubits"``: all pairs of the ``2^N_B`` levels, a copy of
    ladder ``j`` holding ``rho_j / d_j`` and a ladder not in ``blocks`` holding 0. Each
    ``p_a`` is one diagonal element of the physical ``rho_B``, so every drop moves at most
    as fast as ``||d rho_B / dt||_1``.
    """
    size = next(iter(blocks.values())).shape[0]
    if battery == "dicke":
        margins = []
        for block in blocks.values():
            if block.shape[-1] < 2:
                continue
            pops = np.real(np.diagonal(block, axis1=1, axis2=2))
            q = pops[:, ::-1] if B > 0 else pops  # ascending energy
            margins.append(np.min(q[:, :-1] - q[:, 1:], axis=1))
        return np.min(margins, axis=0) if margins else np.full(size, np.inf)
    # per flipped-spin number m (energy B (m - N_B/2)): the lowest and highest population of
    # its levels over the ladders q <= min(m, N_B - m) that hold it
    mult = multiplicity_table(n_battery)
    lo = np.full((size, n_battery + 1), np.inf)
    hi = np.full((size, n_battery + 1), -np.inf)
    for q in range(n_battery // 2 + 1):
        m = np.arange(n_battery - q, q - 1, -1)  # jmat order: m_z = j - i, m = m_z + N_B/2
        if q in blocks:
            pops = np.real(np.diagonal(blocks[q], axis1=1, axis2=2)) / mult[q]
        else:
            pops = np.zeros((size, m.size))
        lo[:, m] = np.minimum(lo[:, m], pops)
        hi[:, m] = np.maximum(hi[:, m], pops)
    if B == 0:  # one level: every state is passive
        return np.full(size, np.inf)
    if B < 0:  # ascending energy: m ascending for B > 0, descending for B < 0
        lo, hi = lo[:, ::-1], hi[:, ::-1]
    below = np.minimum.accumulate(lo, axis=1)[:, :-1]  # lowest population at or below level k
    above = np.maximum.accumulate(hi[:, ::-1], axis=1)[:, ::-1][:, 1:]  # highest above k
    return np.min(below - above, axis=1)
