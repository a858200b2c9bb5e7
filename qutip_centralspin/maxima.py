r"""Certified maxima of the stored energy and of the charging power.

:math:`P_{max} = \max_{t>0} \Delta E_B(t)/t` and :math:`E_{max} = \max_t \Delta E_B(t)` are
found *globally* on the exact engine (:mod:`qutip_centralspin.solvers.sector`), with a
rigorous bracket rather than a grid guess:

1. **Where to look.** Each excitation sector keeps its population, so
   :math:`\Delta E_B(t) \le D` (:meth:`SectorEvolution.energy_ceiling`); once a power
   :math:`P_{best}` is seen, no :math:`t > D/P_{best}` can beat it.
2. **How fine.** :math:`E_B(t) = \sum_{ab} M_{ab}e^{-i\omega_{ab}t}`, so
   :math:`|E_B^{(k)}| \le \sum|M_{ab}||\omega_{ab}|^k =: M_k`. On an interval of width
   :math:`w` a function with :math:`|f''| \le M` exceeds the larger end value by at most
   :math:`w^2 M/8`. For :math:`P = \Delta E_B/t = \int_0^1 \Delta E_B'(ut)\,du`,
   :math:`|P^{(k)}| \le M_{k+1}/(k+1)`. The scan samples
   :data:`SAMPLES_PER_SCAN_PERIOD` points per period :math:`2\pi M_3/M_4` (the scale on which
   the derivatives of :math:`E_B` act, far slower than the largest, nearly empty Bohr
   frequency for large sectors); the step only sets the cost, the margins keep it rigorous.
3. **The peak.** The best sample is refined by Halley/Newton steps on :math:`P'` from the
   parabola through its neighbours. At the refined :math:`t^*`, Taylor's theorem with
   :math:`|P'''| \le M_4/4` bounds :math:`P` on a whole neighbourhood
   :math:`|t - t^*| \le 3a/(M_4/4)`, :math:`a = -P''(t^*)/2`, by
   :math:`P(t^*) + P'(t^*)^2/(2a)` (+ a round-off allowance, :data:`ROUNDOFF_ULPS`).
4. **Branch and bound.** Scan intervals inside that neighbourhood are settled; of the others,
   those whose bound cannot reach the best value are dropped and the rest are split in
   :data:`SPLIT` until bound and best value agree to ``rtol`` (default 1e-10 relative). For
   the paper's states nothing is left to split after step 3.

:math:`E_{max}` of a quasi-periodic signal depends on the time window: the default window is
:math:`T_w = 2\pi/g_{min}`, one period of the slowest beat between neighbouring levels of the
occupied sectors (one full Rabi cycle for :math:`N_B = 1`); ``converged`` reports whether
doubling the window changes :math:`E_{max}` by less than 1e-6 relative.

For results sampled on a grid (``sesolve`` / ``mesolve``), :func:`grid_maximum` returns the
best sample with the grid error estimated from second differences, :math:`w^2|f''|/8`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import qutip

from . import _checks
from .results import Maximum
from .solvers.sector import SectorEngine, SectorEvolution
from .states import check_state

__all__ = ["max_power", "max_energy"]

#: Default relative accuracy of certified maxima (the issue's target is 1e-10).
CERTIFIED_RTOL = 1e-10
#: Doubling the E_max window must change it by less than this (relative) to count as converged.
WINDOW_CONVERGENCE_RTOL = 1e-6
#: E_max scan resolution: samples per period of the fastest Bohr frequency.
SAMPLES_PER_FASTEST_PERIOD = 8
#: P_max scan resolution: samples per period :math:`2\pi M_3/M_4` of the derivative scale.
SAMPLES_PER_SCAN_PERIOD = 10
#: Largest number of samples a single scan may take before it gives up (memory guard).
MAX_SCAN_POINTS = 20_000_000
_CHUNK = 16
_EPS, _TINY = float(np.finfo(float).eps), float(np.finfo(float).tiny)
_MAX_CHUNK = 4096
#: Energy changes below this fraction of the state's energy scale are round-off.
NOISE_RTOL = 1e-12
#: Samples scanned for a first gain above round-off before P_max is reported as 0.
NO_GAIN_SCAN_POINTS = 200_000
#: How many times the P_max scan may halve its step to resolve a lobe hidden by the grid.
MAX_HALVINGS = 8
#: Branch and bound splits each live interval into this many parts per level.
SPLIT = 16
#: Newton refinement of the best P sample: at most this many steps ...
NEWTON_STEPS = 30
#: ... until its possible gain P'^2/(2a) is below this fraction of the requested accuracy.
NEWTON_GAIN_FRACTION = 0.1
#: Round-off allowance of the Newton bound: P(t*) sums terms of total size sum|M_ab|/t, each
#: rounded to about one ulp; this many ulps of that size are added to the bound.
ROUNDOFF_ULPS = 64


def _evolution(model, psi0, engine) -> SectorEvolution:
    if isinstance(psi0, qutip.Qobj):
        check_state(model, psi0, "psi0")
    if engine is None:
        engine = SectorEngine(model)
    elif engine.model != model:
        raise ValueError("engine was built for a different model")
    return engine.evolve(psi0)


def max_power(model, psi0, *, rtol: float = CERTIFIED_RTOL, engine=None) -> Maximum:
    r"""Certified global :math:`P_{max} = \max_{t>0}\Delta E_B(t)/t` and its time :math:`\tau`.

    Parameters
    ----------
    model : CentralSpinModel
    psi0 : Qobj, tuple or dict
        Initial state, as accepted by :meth:`SectorEngine.evolve` (``(m, n)`` for
        :math:`|m,n\rangle`).
    rtol : float, default 1e-10
        Relative width of the certified bracket ``[value, upper_bound]``.
    engine : SectorEngine, optional
        Reuse the diagonalised sectors of an engine built for ``model``.

    Returns
    -------
    Maximum
        ``value`` is :math:`P_{max}`, ``time`` is :math:`\tau`. A state that cannot gain energy
        gives ``value = 0`` and ``time = inf`` (supremum approached as :math:`t\to\infty`).

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, max_power
    >>> res = max_power(CentralSpinModel(n_battery=1, n_charger=4), (0, 2))
    >>> round(res.value, 10)  # c* sqrt(b_{4,2}) = c* sqrt(6)
    1.7749280786
    """
    rtol = _checks.positive_real("rtol", rtol)
    return certified_max_power(_evolution(model, psi0, engine), rtol=rtol)


def certified_max_power(evo: SectorEvolution, *, rtol: float = CERTIFIED_RTOL) -> Maximum:
    """:func:`max_power` for an already prepared :class:`SectorEvolution`.

    Energies within :data:`NOISE_RTOL` of the state's energy scale count as round-off: a
    stationary state (an eigenstate, a mixture of them) gives ``value = 0``, ``time = inf``.
    The scan step is halved (at most :data:`MAX_HALVINGS` times) until its curvature margin is
    below the best sample, so a narrow lobe cannot hide between samples. If no gain above
    round-off is resolved within :data:`NO_GAIN_SCAN_POINTS` samples per pass, the result says
    so with ``converged=False`` and a rigorous bracket ``[value, upper_bound]`` (grid values
    plus margin up to the scanned time, :math:`D/t_{scan}` beyond it).
    """
    ceiling = evo.energy_ceiling()
    omega = evo.max_frequency()
    rate0 = evo.initial_rate()
    noise = NOISE_RTOL * evo.energy_scale()
    if omega == 0 or ceiling <= noise or evo.oscillation_amplitude() <= noise:
        value = rate0 if rate0 > noise * omega else 0.0
        return Maximum(value, 0.0 if value > 0 else math.inf, value, (0.0, math.inf))
    curvature = evo.derivative_bound(3) / 3
    # the scan step follows the derivative scale M_4/M_3 <= omega of E_B, not the fastest
    # (often nearly empty) Bohr frequency; the margins below keep the result rigorous anyway
    scale = min(omega, evo.derivative_bound(4) / evo.derivative_bound(3))
    dt = 2 * math.pi / (SAMPLES_PER_SCAN_PERIOD * scale)
    for _ in range(MAX_HALVINGS + 1):
        scan = _scan_power(evo, dt, ceiling, noise, curvature)
        if scan.resolved:
            t, p = scan.times, scan.values
            keep = t <= scan.stop + dt
            t, p = t[keep], p[keep]
            peak = _newton_peak(evo, t, p, rtol)
            return _branch_and_bound(evo.power, t, p, curvature, rtol, (0.0, scan.stop), peak=peak)
        dt /= 2  # the grid could hide a lobe taller than the best sample: look closer
    # Not resolved: report the rigorous bracket of the finest scan.
    margin = dt * dt * curvature * 2  # (2 dt)^2 curvature / 8 for the last scan's step
    found = scan.best if scan.best > 0 else 0.0
    upper = max(float(scan.values.max()) + margin, ceiling / scan.times[-1], found)
    time = scan.best_time if scan.best > 0 else math.inf
    return Maximum(found, time, upper, (0.0, float(scan.times[-1])), converged=False)


class _Peak(NamedTuple):
    """A local maximum ``value`` at ``time``; ``f <= upper_bound`` on ``[lo, hi]``."""

    time: float
    value: float
    upper_bound: float
    lo: float
    hi: float


def _newton_peak(evo, times, values, rtol: float) -> _Peak | None:
    r"""Refine the best sample of P by Newton's method on :math:`P'`; certify a neighbourhood.

    At any :math:`t^*` with :math:`a = -P''(t^*)/2 > 0`, Taylor's theorem with
    :math:`|P'''| \le K = M_4/4` gives for :math:`|s| \le R = 3a/K`

    .. math::

        P(t^*+s) \le P^* + |P'||s| - a s^2 + K|s|^3/6 \le P^* + |P'||s| - a s^2/2
        \le P^* + P'^2/(2a),

    one rigorous bound on all of :math:`[t^*-R, t^*+R]` (plus a round-off allowance,
    :data:`ROUNDOFF_ULPS`). Newton steps on :math:`P'`, from the vertex of the parabola through
    the best sample and its neighbours, shrink :math:`P'^2/(2a)` until it is negligible against
    ``rtol``. The interval usually covers the peak's scan intervals, so branch and bound has
    nothing left to split there. Returns ``None`` (branch and bound alone decides) if Newton
    leaves the neighbouring samples, meets :math:`P'' \ge 0` or does not converge.
    """
    i = int(np.argmax(values))
    if not 0 < i < values.size - 1:
        return None
    lo, hi = float(times[i - 1]), float(times[i + 1])
    f_lo, f_mid, f_hi = float(values[i - 1]), float(values[i]), float(values[i + 1])
    bend = f_lo - 2 * f_mid + f_hi
    t = float(times[i])
    if bend < 0:
        t += (hi - lo) / 4 * (f_lo - f_hi) / bend
    for _ in range(NEWTON_STEPS):
        if not lo < t < hi:
            return None
        p, p1, p2, p3 = evo.power_derivatives(t)
        if not p2 < 0:
            return None
        gain = -p1 * p1 / p2  # P'^2 / (2a)
        if gain <= NEWTON_GAIN_FRACTION * rtol * abs(p):
            radius = -1.5 * p2 / (evo.derivative_bound(4) / 4)  # 3a/K
            roundoff = ROUNDOFF_ULPS * _EPS * evo.derivative_bound(0) / t
            return _Peak(t, p, p + gain + roundoff, t - radius, t + radius)
        # Halley's step on P' = 0 (cubic convergence); Newton's if the correction misbehaves
        denominator = 2 * p2 * p2 - p1 * p3
        t -= 2 * p1 * p2 / denominator if denominator > 0 else p1 / p2
    return None


@dataclass(frozen=True)
class _PowerScan:
    times: np.ndarray
    values: np.ndarray
    best: float
    best_time: float
    stop: float
    resolved: bool


def _scan_power(evo, dt, ceiling, noise, curvature) -> _PowerScan:
    """Sample P on a uniform grid from t = 0 until no later time can win (t > ceiling/best).

    The scan is *resolved* when it reached that stop and the grid's curvature margin
    dt^2 |P''|/8 is below the best sample (no unseen lobe can be taller than twice the best).
    It gives up, unresolved, after :data:`NO_GAIN_SCAN_POINTS` samples without that.
    """
    margin = dt * dt * curvature / 8
    times, values = [np.zeros(1)], [np.array([evo.initial_rate()])]  # the limit at t = 0
    best, best_time, count, chunk, stop = -math.inf, math.inf, 0, _CHUNK, math.inf
    while True:
        t = dt * np.arange(count + 1, count + chunk + 1)  # exact multiples of dt
        p = evo.power(t)
        times.append(t)
        values.append(p)
        count += chunk
        i = int(np.argmax(p))
        if p[i] > best and p[i] * t[i] > noise:  # a gain above round-off
            best, best_time = float(p[i]), float(t[i])
            stop = ceiling / best
        if t[-1] > stop:
            break
        if not margin <= best and count >= min(NO_GAIN_SCAN_POINTS, MAX_SCAN_POINTS):
            break  # unresolved: the caller halves the step
        if count > MAX_SCAN_POINTS:
            raise RuntimeError(
                f"P_max search exceeded {MAX_SCAN_POINTS} samples before t = D/P = {stop:.3g}"
            )
        # double the chunk, but never sample past the current stop (it only shrinks)
        left = min((stop - float(t[-1])) / dt, _MAX_CHUNK)  # stop may still be inf
        chunk = min(2 * chunk, _MAX_CHUNK, int(left) + 1)
    resolved = float(t[-1]) > stop and margin <= best
    return _PowerScan(
        np.concatenate(times), np.concatenate(values), best, best_time, stop, resolved
    )


def max_energy(
    model, psi0, *, window: float | None = None, rtol: float = CERTIFIED_RTOL, engine=None
) -> Maximum:
    r"""Certified :math:`E_{max} = \max_{0\le t\le T_w}\Delta E_B(t)` over a time window.

    Parameters
    ----------
    window : float, optional
        :math:`T_w`. Default: :math:`2\pi/g_{min}`, one period of the slowest beat between
        neighbouring levels of the occupied sectors (see module notes).
    rtol : float, default 1e-10
        Relative width of the certified bracket.

    Returns
    -------
    Maximum
        ``converged`` is ``True`` when :math:`E_{max}` over :math:`2T_w` differs by less than
        1e-6 relative from that over :math:`T_w`.
    """
    rtol = _checks.positive_real("rtol", rtol)
    evo = _evolution(model, psi0, engine)
    if window is not None:
        window = _checks.positive_real("window", window)
    return certified_max_energy(evo, window=window, rtol=rtol)


def default_window(evo: SectorEvolution) -> float:
    """:math:`2\\pi/g_{min}`: slowest neighbouring-level beat of the occupied sectors."""
    gaps = [
        float(np.min(np.diff(sec.energies)))
        for sec in evo.occupied_sectors
        if sec.energies.size > 1
    ]
    positive = [g for g in gaps if g > 0]
    if not positive:
        return 0.0
    return 2 * math.pi / min(positive)


def certified_max_energy(
    evo: SectorEvolution, *, window: float | None = None, rtol: float = CERTIFIED_RTOL
) -> Maximum:
    """:func:`max_energy` for an already prepared :class:`SectorEvolution`."""
    omega = evo.max_frequency()
    if window is None:
        window = default_window(evo)
    if omega == 0 or window == 0:
        return Maximum(0.0, 0.0, 0.0, (0.0, window or 0.0))
    return window_converged_maximum(
        lambda w: _max_energy_window(evo, w, omega, rtol),
        window,
        floor=abs(evo.energy_ceiling()),
        rtol=WINDOW_CONVERGENCE_RTOL,
    )


def window_converged_maximum(max_on, window: float, *, floor: float, rtol: float) -> Maximum:
    """Maximum over ``[0, window]`` flagged ``converged`` if ``[0, 2 window]`` agrees to ``rtol``.

    ``max_on(w)`` returns the :class:`Maximum` over ``[0, w]``; ``floor`` sets the absolute
    scale below which differences do not count (relative to ``max(|value|, floor)``).
    """
    first, second = max_on(window), max_on(2 * window)
    scale = max(abs(second.value), floor, np.finfo(float).tiny)
    converged = abs(second.value - first.value) <= rtol * scale
    return Maximum(first.value, first.time, first.upper_bound, first.window, converged)


def _max_energy_window(evo, window, omega, rtol) -> Maximum:
    dt = 2 * math.pi / (SAMPLES_PER_FASTEST_PERIOD * omega)
    count = int(math.ceil(window / dt))
    if count > MAX_SCAN_POINTS:
        raise RuntimeError(
            f"E_max window {window:.3g} needs {count} samples (> {MAX_SCAN_POINTS}); "
            "pass a shorter window"
        )
    t = np.linspace(0.0, window, count + 1)
    values = np.concatenate(
        [evo.delta_energy(c) for c in np.array_split(t, max(1, count // 4096))]
    )
    return _branch_and_bound(
        evo.delta_energy, t, values, evo.derivative_bound(2), rtol, (0.0, window)
    )


def _branch_and_bound(f, t, values, curvature, rtol, window, *, peak=None) -> Maximum:
    """Maximise ``f`` given samples on a uniform grid and a bound ``|f''| <= curvature``.

    ``peak`` (a :class:`_Peak`) is a certified local maximum: grid intervals inside its
    neighbourhood are bounded by ``peak.upper_bound`` and never split.
    """
    i = int(np.argmax(values))
    best, t_best = float(values[i]), float(t[i])
    a, b = t[:-1], t[1:]
    fa, fb = values[:-1], values[1:]
    covered = -math.inf
    if peak is not None and peak.value > best:
        best, t_best = peak.value, peak.time
    width = float(t[1] - t[0]) if t.size > 1 else 0.0
    for level in range(60):
        upper = np.maximum(fa, fb) + width**2 * curvature / 8
        if level == 0 and peak is not None:
            inside = (a >= peak.lo) & (b <= peak.hi)
            if inside.any():
                covered = peak.upper_bound
                upper[inside] = -math.inf  # bounded by the peak: never split
        # intervals whose bound is below the best sample cannot hold the maximum
        bound = max(float(upper.max()) if upper.size else -math.inf, best, covered)
        if bound - best <= rtol * max(abs(best), _TINY) or width == 0:
            return Maximum(best, t_best, bound, window)
        alive = upper >= best
        if not alive.any():  # the bracket is the peak's (its round-off allowance included)
            return Maximum(best, t_best, bound, window)
        a, b, fa, fb = a[alive], b[alive], fa[alive], fb[alive]
        # split every live interval in SPLIT parts
        frac = np.arange(1, SPLIT) / SPLIT
        inner = a[:, None] + (b - a)[:, None] * frac[None, :]
        f_inner = f(inner.ravel()).reshape(inner.shape)
        j = int(np.argmax(f_inner))
        if f_inner.flat[j] > best:
            best, t_best = float(f_inner.flat[j]), float(inner.flat[j])
        pts = np.concatenate([a[:, None], inner, b[:, None]], axis=1)
        vals = np.concatenate([fa[:, None], f_inner, fb[:, None]], axis=1)
        a, b = pts[:, :-1].ravel(), pts[:, 1:].ravel()
        fa, fb = vals[:, :-1].ravel(), vals[:, 1:].ravel()
        width /= SPLIT
    return Maximum(best, t_best, max(bound, best), window)
