r"""Certified maxima of an open (dissipative) charging run over a stated window.

For a Lindblad evolution there is no spectrum of sinusoids to bound, but every derivative of
the battery energy is an expectation value,

.. math::

    E_B^{(k)}(t) = \mathrm{tr}\big[\big((\mathcal L^\dagger)^k H_B\big)\rho(t)\big],
    \qquad |E_B^{(3)}(t)| \le M_3 = \big\|(\mathcal L^\dagger)^3 H_B\big\|,

because :math:`\rho(t)` is a density matrix at every time. The block solver gives
:math:`E_B, E_B', E_B''` at any time from one Chebyshev sweep (dense output) and the bound
:math:`M_3` from the blocks of the permutation-invariant operator
(:meth:`~qutip_centralspin.solvers.blocks.BlockSolver.energy_derivatives`). On a grid
interval of width :math:`\delta`, Taylor's theorem from either end bounds :math:`\Delta E_B`
by a cubic; :math:`P_B = \Delta E_B/t` is bounded through it (and near :math:`t = 0` by
:math:`E_B'(0) + E_B''(0)t/2 + M_3t^2/6`). Intervals whose bound exceeds the best value
found by more than the tolerance are bisected until none does.

The result is a :class:`~qutip_centralspin.results.Maximum` whose bracket holds on the window
``[0, horizon]`` only (dissipation makes no promise about later times); ``psi0`` is the state
at :math:`t = 0`. Round-off is part of the statement: every evaluation carries an allowance of
``64 * n_terms * eps * |B| N_B / 2`` (``n_terms`` Chebyshev terms).
"""

from __future__ import annotations

import numpy as np

from .. import _checks
from ..observables.ergotropy import DEFAULT_BATTERY, Battery, diagonal_ergotropy
from ..results import Maximum
from ..solvers.blocks import BlockSolver
from ..solvers.engines import open_solver
from .certified import certified_window_maximum

__all__ = ["open_max_energy", "open_max_ergotropy", "open_max_power", "OPEN_RTOL"]

#: Default relative width of the certified bracket.
OPEN_RTOL = 1e-8
_MAX_POINTS = 2_000_000
_INITIAL_POINTS = 257
#: Initial grid of :func:`open_max_ergotropy`: samples per period of the generator's
#: largest frequency (at most ``_ERGOTROPY_GRID`` points in all).
_ERGOTROPY_SAMPLES = 8
_ERGOTROPY_GRID = 200_000


def _cubic_max(a, b, c, d, width):
    """max over s in [0, width] of a + b s + c s^2 + d s^3 (elementwise, d >= 0)."""
    best = np.maximum(a, a + b * width + c * width**2 + d * width**3)
    # interior critical points: b + 2 c s + 3 d s^2 = 0
    for sign in (-1.0, 1.0):
        with np.errstate(invalid="ignore", divide="ignore"):
            disc = c * c - 3.0 * d * b
            root = np.where(
                d > 0,
                (-c + sign * np.sqrt(np.maximum(disc, 0.0))) / (3.0 * d),
                np.where(c != 0, -b / (2.0 * c), 0.0),
            )
        ok = (disc >= 0) & (root > 0) & (root < width)
        s = np.where(ok, root, 0.0)
        best = np.maximum(best, np.where(ok, a + b * s + c * s**2 + d * s**3, best))
    return best


class _Search:
    """Grid, values and interval bounds of one certified search."""

    def __init__(self, dense, bound, noise, horizon, power: bool):
        self.dense, self.m3, self.noise, self.power = dense, bound, noise, power
        self.times = np.linspace(0.0, horizon, _INITIAL_POINTS)
        vals = dense(self.times)
        self.e0 = float(vals[0, 0])
        self.vals = vals
        self.vals[0] -= self.e0  # Delta E_B

    def values(self) -> np.ndarray:
        d = self.vals[0]
        if not self.power:
            return d
        out = np.empty_like(d)
        out[0] = self.vals[1, 0]  # P(0) = E'(0)
        out[1:] = d[1:] / self.times[1:]
        return out

    def noise_at(self) -> np.ndarray:
        if not self.power:
            return np.full(self.times.size, self.noise)
        out = np.full(self.times.size, self.noise)
        out[1:] /= self.times[1:]
        return out

    def interval_bounds(self) -> np.ndarray:
        t, (e, e1, e2) = self.times, self.vals
        width = np.diff(t)
        d = self.m3 / 6.0
        left = _cubic_max(e[:-1], e1[:-1], e2[:-1] / 2, d, width)
        right = _cubic_max(e[1:], -e1[1:], e2[1:] / 2, d, width)
        upper = np.minimum(left, right) + self.noise
        if not self.power:
            return upper
        a, b = t[:-1], t[1:]
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(upper >= 0, upper / a, upper / b)
        # first interval: P(s) <= E'(0) + E''(0) s / 2 + M3 s^2 / 6 (+ noise / s is not needed:
        # the derivatives at 0 carry their own round-off, far below the tolerance floor)
        p[0] = max(e1[0], e1[0] + e2[0] * b[0] / 2 + d * b[0] ** 2) + self.noise / max(
            b[0], 1e-300
        )
        return p

    def refine(self, split: np.ndarray) -> None:
        mids = 0.5 * (self.times[:-1][split] + self.times[1:][split])
        new = self.dense(mids)
        new[0] -= self.e0
        times = np.concatenate([self.times, mids])
        order = np.argsort(times, kind="stable")
        self.times = times[order]
        self.vals = np.concatenate([self.vals, new], axis=1)[:, order]


def _polish(search: _Search, i: int):
    """Newton on E' = 0 (energy) or t E' - Delta E = 0 (power) from grid point ``i``."""
    t = float(search.times[i])
    lo = float(search.times[max(i - 1, 0)])
    hi = float(search.times[min(i + 1, search.times.size - 1)])
    best_t, best = t, float(search.values()[i])
    for _ in range(30):
        e, e1, e2 = search.dense(np.array([t]))[:, 0]
        e -= search.e0
        if search.power:
            g, dg = t * e1 - e, t * e2
        else:
            g, dg = e1, e2
        if dg >= 0 or t <= 0:
            break
        t_new = min(max(t - g / dg, lo), hi)
        e_new = float(search.dense(np.array([t_new]))[0, 0] - search.e0)
        value = e_new / t_new if search.power and t_new > 0 else e_new
        if value > best:
            best_t, best = t_new, value
        if abs(t_new - t) <= 1e-15 * max(1.0, abs(t)):
            break
        t = t_new
    return best_t, best


def _solver(model, processes) -> BlockSolver:
    """The model's exact open solver (a ``ValueError`` where it has none)."""
    return open_solver(model, processes)


def _initial(model, psi0):
    """``psi0`` as the open solver takes it: a label ``(m, c)`` becomes the product state."""
    psi0 = model.as_state(psi0)
    return model.label_state(*psi0) if isinstance(psi0, tuple) else psi0


def _certify(model, psi0, processes, horizon, rtol, options, power: bool) -> Maximum:
    horizon = _checks.positive_real("horizon", horizon)
    rtol = _checks.positive_real("rtol", rtol)
    solver = _solver(model, processes)
    psi0 = _initial(model, psi0)
    dense, m3, n_terms = solver.energy_derivatives(psi0, horizon, order=2, options=options)
    scale = model.battery_spread / 2
    noise = 64.0 * n_terms * np.finfo(float).eps * max(scale, 1e-300)
    search = _Search(dense, m3, noise, horizon, power)
    reason = ""
    while True:
        values = search.values()
        i = int(np.argmax(values))
        best, t_best = float(values[i]), float(search.times[i])
        bounds = search.interval_bounds()
        floor = float(search.noise_at()[i])
        tol = max(rtol * abs(best), 4 * floor)
        upper = float(bounds.max())
        if upper - best <= tol:
            break
        split = bounds > best + tol
        if search.times.size + int(split.sum()) > _MAX_POINTS:
            reason = f"grid limit of {_MAX_POINTS} points reached"
            break
        search.refine(split)
    t_pol, v_pol = _polish(search, i)
    if v_pol > best:
        best, t_best = v_pol, t_pol
    upper = max(upper, best)
    converged = not reason
    bounds = search.interval_bounds()
    live = np.nonzero(bounds >= best)[0]  # the maximiser has f >= best: only these hold it
    bracket = None
    if converged and live.size:
        lo, hi = float(search.times[live[0]]), float(search.times[live[-1] + 1])
        if np.all(np.diff(live) == 1):  # one connected region holds every candidate
            bracket = (lo, hi)
    return Maximum(
        value=float(best),
        time=float(t_best),
        upper_bound=upper,
        window=(0.0, float(horizon)),
        converged=converged,
        time_bracket=bracket,
        horizon=float(horizon),
        tolerance=tol,
        reason=reason,
    )


def open_max_power(
    model, psi0, processes, horizon: float, *, rtol: float = OPEN_RTOL, options=None
) -> Maximum:
    r"""Certified :math:`\max_{0 < t \le T} \Delta E_B(t)/t` of an open run (block solver).

    Parameters
    ----------
    model : BatteryModel
        A model with an exact open solver (spin or cavity charger).
    psi0 : Qobj
        Initial state (block-diagonal in :math:`K`, as for the block solver) at :math:`t = 0`;
        for a cavity charger also a ``CavityState`` or a Fock label ``(m, k)``.
    processes : Process or list of Process
    horizon : float
        :math:`T > 0`: the bracket holds on :math:`[0, T]`.
    rtol : float, default :data:`OPEN_RTOL`
        Relative width of the bracket (not below the round-off floor).
    options : dict, optional
        Block-solver options (``num_cpus``, ``progress_bar``, ...).

    Returns
    -------
    Maximum
        ``value`` attained at ``time``; ``upper_bound`` rigorous over ``[0, horizon]``.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, decay, dicke_state
    >>> from qutip_centralspin.maxima.open import open_max_power
    >>> model = CentralSpinModel(n_battery=2, n_charger=4)
    >>> res = open_max_power(model, dicke_state(model, 0, 4), decay(0.1), horizon=2.0)
    >>> res.converged, res.value <= res.upper_bound
    (True, True)
    """
    return _certify(model, psi0, processes, horizon, rtol, options, power=True)


def open_max_energy(
    model, psi0, processes, horizon: float, *, rtol: float = OPEN_RTOL, options=None
) -> Maximum:
    r"""Certified :math:`\max_{0 \le t \le T} \Delta E_B(t)` of an open run (block solver).

    Same parameters as :func:`open_max_power`.
    """
    return _certify(model, psi0, processes, horizon, rtol, options, power=False)


def open_max_ergotropy(
    model,
    psi0,
    processes,
    horizon: float,
    *,
    battery: Battery = DEFAULT_BATTERY,
    storage_time: float = 0.0,
    rtol: float = OPEN_RTOL,
    options=None,
) -> Maximum:
    r"""Certified :math:`\max_{0 \le t \le T} W(\rho_B(t))` of an open run (block solver).

    With ``storage_time`` :math:`T_s > 0`: the ergotropy left after charging for :math:`t`,
    switching the coupling off and storing for :math:`T_s` (the processes acting), maximised
    over the switch-off time :math:`t`: ``time`` is the certified :math:`\tau^*`
    (compare the estimate :func:`~qutip_centralspin.studies.cycle.best_switch_off`).

    Parameters
    ----------
    model, psi0, processes, horizon, options :
        As for :func:`open_max_power`.
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        As for :func:`~qutip_centralspin.maxima.ergotropy.max_ergotropy`: collective unitaries only
        (each total spin :math:`j` made passive on its own), or any unitary on the
        :math:`2^{N_B}` levels (:func:`~qutip_centralspin.observables.ergotropy.block_ergotropy`). Local
        processes spread the battery over every :math:`j`, so the two differ even for a
        battery that starts symmetric.
    storage_time : float, default 0
        :math:`T_s \ge 0` (see above).
    rtol : float, default :data:`OPEN_RTOL`
        Width of the bracket: ``max(rtol |W_max|, rtol |B| N_B, round-off)``.

    Returns
    -------
    Maximum
        ``value`` (attained at ``time``) and a rigorous ``upper_bound`` of :math:`W` over
        ``[0, horizon]``; ``converged`` when they are within ``tolerance``.

    Notes
    -----
    The certificate is the one of :func:`~qutip_centralspin.maxima.ergotropy.max_ergotropy` with the
    open system's own constants. :math:`\rho_B(t)` is diagonal in :math:`(j, k)` (the block
    solver's states are block diagonal in :math:`K`) and :math:`W = \max_\sigma g_\sigma` over
    the finitely many passive orderings :math:`\sigma`, each :math:`g_\sigma(t) =
    \mathrm{tr}[(H_B - \sigma^\dagger H_B\sigma)\rho_B(t)]` linear in the state, so

    .. math::

        |g_\sigma''(t)| \le |B|N_B\,\|\rho''(t)\|_1 \le |B|N_B\,\|\mathcal L^2\rho(0)\|_1,

    because :math:`e^{s\mathcal L}` is positive and trace preserving, hence contracts the
    trace norm of the Hermitian :math:`\mathcal L^2\rho(t)` (and partial traces and the
    storage map :math:`e^{T_s\mathcal L_0}` do too);
    likewise :math:`W` is Lipschitz with :math:`|B|N_B\|\mathcal L\rho(0)\|_1`. Both norms
    are exact on the full :math:`2^{N_B+N}` space
    (:meth:`~qutip_centralspin.solvers.blocks.BlockSolver.battery_populations`). A grid cell
    :math:`[a, b]` then holds :math:`W \le \max(W(a), W(b)) + C(b-a)^2/8`, kinks included,
    and :func:`~qutip_centralspin.maxima.certified.certified_window_maximum` refines the cells that could
    beat the best value. Every evaluation is allowed a round-off of
    ``64 * n_terms * eps * |B| N_B`` (``n_terms`` Chebyshev terms), as for the energy.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, decay, dicke_state
    >>> from qutip_centralspin.maxima.open import open_max_ergotropy
    >>> model = CentralSpinModel(n_battery=2, n_charger=4)
    >>> res = open_max_ergotropy(model, dicke_state(model, 0, 4), decay(0.1), horizon=2.0)
    >>> res.converged, 0 < res.value <= res.upper_bound
    (True, True)
    """
    horizon = _checks.positive_real("horizon", horizon)
    rtol = _checks.positive_real("rtol", rtol)
    solver = _solver(model, processes)
    psi0 = _initial(model, psi0)
    pops = solver.battery_populations(psi0, horizon, storage_time=storage_time, options=options)
    nb, B = model.n_battery, float(model.B)
    spread = abs(B) * nb

    def w_of(t):
        return diagonal_ergotropy(pops(t), pops.q, pops.k, n_battery=nb, B=B, battery=battery)

    w0 = float(w_of(0.0)[0])
    if pops.dense is None or spread == 0:  # rho_B does not move (or H_B = 0): W is constant
        return Maximum(w0, 0.0, w0, (0.0, horizon), True, horizon=horizon)
    noise = 64.0 * pops.n_terms * np.finfo(float).eps * spread
    omega = max(pops.dense.scale, 1.0 / horizon)
    count = min(_ERGOTROPY_GRID, max(_INITIAL_POINTS, int(_ERGOTROPY_SAMPLES * omega * horizon)))
    return certified_window_maximum(
        w_of,
        horizon,
        step=horizon / count,
        curvature=spread * pops.curvature,
        lipschitz=spread * pops.speed,
        roundoff=lambda t: np.full(np.shape(t), noise),
        rtol=rtol,
        atol=rtol * spread,
    )
