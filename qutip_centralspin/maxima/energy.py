"""The certified :math:`E_{max} = \\max_t \\Delta E_B(t)` of a sector evolution over a window
(the default window and its doublings, the global ceiling that ends the search)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..results import Maximum
from ..solvers.sector import SectorEvolution
from .bounds import RESOLVE_FACTOR, _Bounds
from .peak import _energy_peak
from .search import (
    _MAX_CHUNK,
    _PRUNE_EVERY,
    MAX_BRACKET_EVALUATIONS,
    MAX_SCAN_POINTS,
    SAMPLES_PER_SCAN_PERIOD,
    _branch_and_bound,
    _concat_kept,
    _finish,
    _late_peak,
    _Scan,
)

__all__ = ["default_window"]

#: E_max default window: doublings while no gain above round-off has been found.
MAX_WINDOW_DOUBLINGS = 8


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


def _energy_interval_bounds(bounds: _Bounds):
    curv = bounds.m[2] / 8
    gain = bounds.gain_bound

    def interval_bounds(a, b, fa, fb, threshold=None):
        w = b - a
        err = bounds.error(b)
        return np.minimum(np.maximum(fa, fb) + w * w * curv + err, gain), err

    return interval_bounds


def _scan_energy(evo, window: float, count: int, interval_bounds, noise) -> _Scan:
    """Delta E_B on ``window * k / count``, k = 0..count, streamed; keeps the intervals whose
    bound reaches the best sample (at least Delta E_B(0) = 0)."""
    best, t_best, k_best = 0.0, 0.0, 0
    kept, kept_size, next_prune = [], 0, _PRUNE_EVERY
    t_prev, e_prev = 0.0, 0.0
    samples = {}  # neighbours of the best sample: index -> (t, value)
    power_best = -math.inf
    start = 1
    while start <= count:
        stop = min(start + _MAX_CHUNK, count + 1)
        k = np.arange(start, stop)
        t = window * (k / count)
        e = evo.delta_energy(t)
        lower = e - noise(t)
        power_best = max(power_best, float(np.max(lower / t)))
        i = int(np.argmax(lower))
        if e[i] > best:
            best, t_best, k_best = float(e[i]), float(t[i]), int(k[i])
            samples = {int(k[i]): (best, t_best)}
            samples[int(k[i]) - 1] = (float(e[i - 1]), float(t[i - 1])) if i else (e_prev, t_prev)
            if i + 1 < e.size:
                samples[int(k[i]) + 1] = (float(e[i + 1]), float(t[i + 1]))
        elif k_best + 1 == start:
            samples[start] = (float(e[0]), float(t[0]))
        a = np.concatenate(([t_prev], t[:-1]))
        fa = np.concatenate(([e_prev], e[:-1]))
        up, _ = interval_bounds(a, t, fa, e)
        keep = up >= best
        kept.append((a[keep], t[keep], fa[keep], e[keep], up[keep]))
        kept_size += int(keep.sum())
        if kept_size > next_prune:
            kept = [_concat_kept(kept, best)]
            kept_size = kept[0][0].size
            next_prune = max(_PRUNE_EVERY, 2 * kept_size)
        t_prev, e_prev = float(t[-1]), float(e[-1])
        start = stop
    a, b, fa, fb, up = _concat_kept(kept, best)
    neighbours = None
    if all(j in samples for j in (k_best - 1, k_best, k_best + 1)) and 0 < k_best < count:
        trio = [samples[j] for j in (k_best - 1, k_best, k_best + 1)]
        neighbours = (tuple(x[1] for x in trio), tuple(x[0] for x in trio))
    return _Scan(
        (a, b, fa, fb), up, best, t_best, neighbours, window, "done", power_best=power_best
    )


def _max_energy(evo, window: float | None, rtol: float) -> Maximum:
    extend = window is None
    if window is None:
        window = default_window(evo)
    bounds = _Bounds(evo)
    decided = bounds.structural(False, window)
    if decided is not None:
        return decided
    if window == 0:  # no sector with two levels but E_B moves: cannot happen, be safe
        window = 2 * math.pi / bounds.omega
    m = bounds.m
    scale = min(bounds.omega, m[3] / m[2]) if m[2] > 0 else bounds.omega
    dt = 2 * math.pi / (SAMPLES_PER_SCAN_PERIOD * scale)
    interval_bounds = _energy_interval_bounds(bounds)
    scan = None
    for _ in range(MAX_WINDOW_DOUBLINGS + 1):
        count = max(2, int(math.ceil(window / dt)))
        if count > MAX_SCAN_POINTS:
            if scan is None:
                raise RuntimeError(
                    f"E_max window {window:.3g} needs {count} samples (> {MAX_SCAN_POINTS}); "
                    "pass a shorter window"
                )
            break
        scan = _scan_energy(evo, window, count, interval_bounds, bounds.energy_noise)
        if not extend or scan.best > RESOLVE_FACTOR * bounds.error(scan.t_best):
            break
        window *= 2
    window = scan.end
    if not extend or not scan.best > RESOLVE_FACTOR * bounds.error(scan.t_best):
        return _energy_on_window(evo, bounds, scan, dt, interval_bounds, rtol)
    reason = ""
    # P_B(t) = Delta E_B(t)/t <= D*/t: no time past D*/P_seen has the power P_max, so a window
    # reaching there holds the time tau of P_max, and E_max >= Delta E_B(tau) = P_max tau
    needed = bounds.gain_bound / scan.power_best
    if needed > window:
        count = int(math.ceil(needed / dt))
        if count > MAX_SCAN_POINTS:
            reason = (
                f"the default window stops at {window:.6g}, before D*/P = {needed:.6g}: the "
                "time of P_max may lie beyond it (a longer window needs more than "
                f"{MAX_SCAN_POINTS} samples)"
            )
        else:
            window = needed
            scan = _scan_energy(evo, window, count, interval_bounds, bounds.energy_noise)
    result = _energy_on_window(evo, bounds, scan, dt, interval_bounds, rtol)
    # a default window never ends on a rising edge: doubled while the maximum sits at its end
    for _ in range(MAX_WINDOW_DOUBLINGS):
        if not _rising_at_end(evo, bounds, result):
            break
        count = int(math.ceil(2 * window / dt))
        if count > MAX_SCAN_POINTS:
            break
        window *= 2
        scan = _scan_energy(evo, window, count, interval_bounds, bounds.energy_noise)
        result = _energy_on_window(evo, bounds, scan, dt, interval_bounds, rtol)
    if _rising_at_end(evo, bounds, result):
        reason = (
            f"Delta E_B still rises at the end of the default window t = {window:.6g}, where "
            "the maximum sits: a longer window holds a larger value"
        )
    if reason and result.converged:
        result = replace(result, converged=False, time_bracket=None, reason=reason)
    return result


def _rising_at_end(evo, bounds: _Bounds, result: Maximum) -> bool:
    r"""Whether the window's maximum can sit at its end while :math:`\Delta E_B` rises there
    (then a longer window holds a larger value)."""
    if result.horizon == math.inf or not result.value > 0:
        return False
    end = result.window[1]
    e, d1, _, _ = evo.energy_derivatives(end)
    near = e - evo.initial_energy + bounds.error(end) >= result.value - (result.tolerance or 0.0)
    return near and d1 > bounds.error(end, 1)


def _energy_on_window(evo, bounds: _Bounds, scan: _Scan, dt, interval_bounds, rtol) -> Maximum:
    """The certified maximum of Delta E_B on the window of a finished scan."""
    window = scan.end
    if not scan.best > RESOLVE_FACTOR * bounds.error(scan.t_best):
        # no gain above round-off: only a (cheap) bound of the window is left to state
        search = _branch_and_bound(
            evo.delta_energy,
            scan.intervals,
            interval_bounds,
            0.0,
            0.0,
            rtol,
            budget=MAX_BRACKET_EVALUATIONS,
            noise=bounds.energy_noise,
        )
        return Maximum(
            0.0,
            0.0,
            max(search.upper, 0.0),
            (0.0, window),
            converged=False,
            horizon=window,
            tolerance=None,
            reason=(
                f"no gain above the round-off floor of E_B on [0, {window:.6g}]: "
                f"0 <= E_max <= {max(search.upper, 0.0):.3g} there"
            ),
        )
    peak = None
    if scan.neighbours is not None:
        peak = _energy_peak(evo, bounds, *scan.neighbours, rtol)
    best, t_best = scan.best, scan.t_best
    if peak is not None and peak.value > best:
        best, t_best = peak.value, peak.time
    search = _branch_and_bound(
        evo.delta_energy,
        scan.intervals,
        interval_bounds,
        best,
        t_best,
        rtol,
        peak=peak,
        noise=bounds.energy_noise,
    )
    peak = _late_peak(
        evo.delta_energy, search, peak, dt, lambda t, v: _energy_peak(evo, bounds, t, v, rtol)
    )
    value, time, upper, tolerance, bracket, resolved = _finish(
        evo.delta_energy,
        interval_bounds,
        search,
        peak,
        rtol,
        resolved_at=bounds.error,
        noise=bounds.energy_noise,
        end=window,
    )
    horizon = window
    if not resolved:  # (branch and bound found a better value, still at round-off)
        return Maximum(
            0.0,
            0.0,
            upper,
            (0.0, window),
            converged=False,
            horizon=window,
            tolerance=None,
            reason=(
                f"no gain above the round-off floor of E_B on [0, {window:.6g}]: "
                f"0 <= E_max <= {upper:.3g} there"
            ),
        )
    if bounds.gain_bound - value <= tolerance:  # at the global ceiling: the maximum for all t
        horizon, upper = math.inf, max(bounds.gain_bound, value)
    reason = ""
    if search.exhausted:
        reason = "branch and bound reached its budget or the round-off floor before the tolerance"
    elif upper - value > tolerance:
        reason = f"bracket {upper - value:.3g} wider than the tolerance {tolerance:.3g}"
    converged = not reason
    return Maximum(
        value,
        time,
        upper,
        (0.0, window),
        converged,
        time_bracket=bracket if converged else None,
        horizon=horizon,
        tolerance=tolerance,
        reason=reason,
    )
