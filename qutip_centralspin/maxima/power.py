"""The certified :math:`P_{max} = \\max_{t>0} \\Delta E_B(t)/t` of a sector evolution over all
times: the streamed scan up to :math:`D^*/P_{best}`, the peak and the branch and bound."""

from __future__ import annotations

import math

import numpy as np

from ..results import Maximum
from .bounds import RESOLVE_FACTOR, _Bounds
from .peak import _newton_peak, _Peak
from .search import (
    _MAX_CHUNK,
    _PRUNE_EVERY,
    MAX_BRACKET_EVALUATIONS,
    MAX_BRANCH_EVALUATIONS,
    MAX_SCAN_POINTS,
    SAMPLES_PER_SCAN_PERIOD,
    _branch_and_bound,
    _built,
    _concat_kept,
    _finish,
    _late_peak,
    _Scan,
)

__all__: list[str] = []

#: P scan: samples without any gain above round-off before the search reports "no gain".
NO_GAIN_SCAN_POINTS = 200_000
#: A P scan longer than this many samples refines (coarsely, to REFINE_RTOL) what could beat
#: its best value so far, then again after 4x as many, ...: narrow lobes and a closer horizon.
REFINE_AFTER = 8192
REFINE_RTOL = 1e-3
_CLEAN_SAMPLE = 1e6  # a sample this far above its round-off is chosen by value alone
_CHUNK = 16


def _power_interval_bounds(bounds: _Bounds):
    """Rigorous bounds of P on intervals: the P curvature, the energy route max(Delta E)/a and
    the ceiling D*/a, and near t = 0 (t <= 1/omega_max, where Delta E_B / t loses its digits)
    the expansion P <= P(0) + P'(0) t + M_3 t^2/6; round-off included."""
    curv_p = bounds.power_derivative_bound(2) / 8
    curv_e = bounds.m[2] / 8
    floor, slope_err = bounds.floor, bounds.slope
    rate = bounds.rate0 + bounds.rate_error
    gain = bounds.gain_bound
    expansion = []  # P'(0) = E_B''(0)/2 and its round-off: one evaluation, made when needed
    reach = 1 / bounds.omega

    def near_zero(a, b):
        """P <= P(0) + P'(0) t + (M_3/3) t^2/2: the bound where P = Delta E_B/t is round-off."""
        if not expansion:
            expansion.extend((bounds.evo.energy_derivatives(0.0)[2] / 2, bounds.error(0.0, 2) / 2))
        slope, slope_error = expansion
        curvature = bounds.power_derivative_bound(2)
        return rate + np.maximum(slope * a, slope * b) + slope_error * b + curvature * b * b / 2

    @np.errstate(over="ignore")  # an overflowing bound is +inf: still a valid upper bound
    def interval_bounds(a, b, fa, fb, threshold=-math.inf):
        """Bounds and their round-off; the tighter routes only where the P-curvature bound
        reaches ``threshold`` (elsewhere the interval is dropped anyway)."""
        w = b - a
        pos = a > 0
        safe_a = np.where(pos, a, b)
        err = (floor + slope_err * b) / safe_a
        up = np.maximum(fa, fb) + w * w * curv_p + err
        tight = np.flatnonzero(up >= threshold)
        if tight.size == 0:
            return up, err
        a, b, fa, fb, w, pos, safe_a = (x[tight] for x in (a, b, fa, fb, w, pos, safe_a))
        ue = np.maximum(fa * a, fb * b) + w * w * curv_e
        up_e = np.where(ue >= 0, ue / safe_a, ue / b)
        up_e = np.where(pos, np.minimum(up_e, gain / safe_a), np.inf) + err[tight]
        up[tight] = np.minimum(up[tight], up_e)
        near = np.flatnonzero(b <= reach)
        if near.size:
            up0 = near_zero(a[near], b[near])
            at = tight[near]
            use0 = up0 < up[at]
            up[at] = np.where(use0, up0, up[at])
            err[at] = np.where(use0, bounds.rate_error, err[at])
        return up, err

    def scalar(a, b, fa, fb):
        """The same bound for one interval, in plain floats (a > 0)."""
        w2 = (b - a) * (b - a)
        err = (floor + slope_err * b) / a
        ue = max(fa * a, fb * b) + w2 * curv_e
        up = min(max(fa, fb) + w2 * curv_p, ue / a if ue >= 0 else ue / b, gain / a) + err
        return min(up, float(near_zero(a, b))) if b <= reach else up

    interval_bounds.scalar = scalar
    return interval_bounds


def _scan_power(evo, bounds: _Bounds, dt: float, interval_bounds) -> _Scan:
    """Sample P on ``dt k`` from t = 0 until no later time can win (t > D*/best), keeping only
    the intervals whose bound reaches the best resolved gain (or 0): samples are turned into
    bounded intervals and pruned every :data:`_PRUNE_EVERY` samples (bounded memory)."""
    best, t_best, stop = -math.inf, math.inf, math.inf
    neighbours, pending = None, None
    if bounds.rate0 > RESOLVE_FACTOR * bounds.rate_error:  # the limit t -> 0 is a gain
        best, t_best, stop = bounds.rate0, 0.0, bounds.gain_bound / bounds.rate0
    kept, raw_t, raw_p, raw_size = [], [np.zeros(1)], [np.array([bounds.rate0])], 0

    def flush(tight):
        """Turn the raw samples into intervals, keep those that can beat max(best, 0): by the
        P-curvature bound alone for a short scan, also by the tighter routes for a long one."""
        t_all, p_all = np.concatenate(raw_t), np.concatenate(raw_p)
        a, b, fa, fb = t_all[:-1], t_all[1:], p_all[:-1], p_all[1:]
        threshold = max(best, 0.0)
        up, _ = interval_bounds(a, b, fa, fb, threshold if tight else math.inf)
        keep = np.flatnonzero(up >= threshold)
        kept.append((a[keep], b[keep], fa[keep], fb[keep], up[keep]))
        raw_t[:], raw_p[:] = [t_all[-1:]], [p_all[-1:]]

    count, chunk, status, next_refine = 0, _CHUNK, "done", REFINE_AFTER
    while True:
        t = dt * np.arange(count + 1, count + chunk + 1)  # exact multiples of dt
        p = evo.power(t)
        count += chunk
        if pending is not None:  # the right neighbour of the best sample of the last chunk
            neighbours = (pending[0] + (float(t[0]),), pending[1] + (float(p[0]),))
            pending = None
        i = int(p.argmax())
        if p[i] > best:
            noise_i = bounds.error(float(t[i])) / float(t[i])
            if not p[i] > _CLEAN_SAMPLE * noise_i:  # round-off matters: choose by p - noise
                noise = bounds.error(t) / t
                resolved = p > RESOLVE_FACTOR * noise
                i = int(np.argmax(np.where(resolved, p - noise, -math.inf)))
            else:
                resolved = (True,) * t.size
            if resolved[i] and p[i] > best:
                best, t_best = float(p[i]), float(t[i])
                stop = bounds.gain_bound / best
                left = (
                    (float(t[i - 1]), float(p[i - 1]))
                    if i
                    else (
                        float(raw_t[-1][-1]),
                        float(raw_p[-1][-1]),
                    )
                )
                if i + 1 < t.size:
                    neighbours = (
                        (left[0], t_best, float(t[i + 1])),
                        (left[1], best, float(p[i + 1])),
                    )
                else:
                    neighbours, pending = None, ((left[0], t_best), (left[1], best))
        raw_t.append(t)
        raw_p.append(p)
        raw_size += t.size
        t_last = float(t[-1])
        out_of_budget = count >= MAX_SCAN_POINTS or (
            best == -math.inf and count >= NO_GAIN_SCAN_POINTS
        )
        refine = t_last <= stop and (count >= next_refine or out_of_budget)
        if raw_size > _PRUNE_EVERY or refine:
            flush(True)
            raw_size = 0
            kept[:] = [_concat_kept(kept, max(best, 0.0))]  # drop what best has beaten since
        if refine and kept[0][0].size:
            # a long scan: the grid may step over narrow lobes, and D*/best shrinks with every
            # better value, so split what could beat the best so far (coarsely) before going on
            next_refine *= 4
            search = _branch_and_bound(
                evo.power,
                kept[0][:4],
                interval_bounds,
                max(best, 0.0),
                t_best,
                REFINE_RTOL,
                budget=max(4 * count, MAX_BRACKET_EVALUATIONS),
                noise=bounds.power_noise,
            )
            gain = search.best * search.t_best
            if search.best > best and gain > RESOLVE_FACTOR * bounds.error(search.t_best):
                best, t_best = search.best, search.t_best
                stop = bounds.gain_bound / best
                neighbours, pending = None, None
        if t_last > stop:
            break
        if out_of_budget:
            status = "no gain" if best == -math.inf else "budget"
            break
        left_points = (stop - t_last) / dt if math.isfinite(stop) else math.inf
        chunk = int(min(2 * chunk, _MAX_CHUNK, left_points + 1, MAX_SCAN_POINTS - count))
        chunk = max(chunk, 1)
    if not kept:  # a short scan (the common case): intervals are built only if needed
        samples = (np.concatenate(raw_t), np.concatenate(raw_p))
        return _Scan(None, None, best, t_best, neighbours, t_last, status, samples)
    flush(True)
    a, b, fa, fb, up = _concat_kept(kept, max(best, 0.0))
    return _Scan((a, b, fa, fb), up, best, t_best, neighbours, t_last, status)


def _max_power(evo, rtol: float) -> Maximum:
    bounds = _Bounds(evo)
    decided = bounds.structural(True, math.inf)
    if decided is not None:
        return decided
    m = bounds.m
    cap = bounds.power_cap(bounds.gain_bound)
    # the scan step follows the derivative scale M_4/M_3 <= omega of E_B, not the fastest
    # (often nearly empty) Bohr frequency; the bounds keep the result rigorous anyway
    scale = min(bounds.omega, m[4] / m[3]) if m[3] > 0 else bounds.omega
    dt = 2 * math.pi / (SAMPLES_PER_SCAN_PERIOD * scale)
    interval_bounds = _power_interval_bounds(bounds)
    scan = _scan_power(evo, bounds, dt, interval_bounds)
    window = (0.0, scan.end)
    if scan.status == "no gain":
        scan = _built(scan, interval_bounds)
        a, b, fa, fb = scan.intervals
        up, _ = interval_bounds(a, b, fa, fb)
        upper = max(float(up.max()) if up.size else 0.0, bounds.gain_bound / scan.end, 0.0)
        return Maximum(
            0.0,
            math.inf,
            min(upper, cap),
            window,
            converged=False,
            horizon=math.inf,
            tolerance=None,
            reason=(
                f"no gain above round-off within {NO_GAIN_SCAN_POINTS} samples (t <= "
                f"{scan.end:.6g}); beyond, only P <= D*/t = {bounds.gain_bound:.3g}/t is proven"
            ),
        )
    peak = None
    if scan.neighbours is not None and len(scan.neighbours[0]) == 3:
        times, values = scan.neighbours
        peak = _newton_peak(evo, times, values, rtol, bounds)
    best, t_best = scan.best, scan.t_best
    if peak is not None and peak.value > best:
        best, t_best = peak.value, peak.time
    if scan.status == "done":
        settled = _settled_by_peak(evo.power, interval_bounds, scan, peak, best, bounds, rtol)
        if settled is not None:
            return settled
    budget = MAX_BRANCH_EVALUATIONS if scan.status == "done" else MAX_BRACKET_EVALUATIONS
    scan = _built(scan, interval_bounds)
    search = _branch_and_bound(
        evo.power,
        scan.intervals,
        interval_bounds,
        best,
        t_best,
        rtol,
        peak=peak,
        budget=budget,
        noise=bounds.power_noise,
    )
    peak = _late_peak(
        evo.power, search, peak, dt, lambda t, v: _newton_peak(evo, t, v, rtol, bounds)
    )
    value, time, upper, tolerance, bracket, resolved = _finish(
        evo.power,
        interval_bounds,
        search,
        peak,
        rtol,
        resolved_at=lambda t: float(bounds.power_noise(t)),
        noise=bounds.power_noise,
    )
    upper = max(value, min(upper, cap))
    reason = ""
    if scan.status == "budget":
        upper = max(upper, min(bounds.gain_bound / scan.end, cap))
        reason = (
            f"scan budget of {MAX_SCAN_POINTS} samples reached at t = {scan.end:.6g} before the "
            f"horizon D*/P = {bounds.gain_bound / value:.6g}; beyond it only P <= D*/t is proven"
        )
    elif search.exhausted:
        reason = "branch and bound reached its budget or the round-off floor before the tolerance"
    elif upper - value > tolerance:
        reason = f"bracket {upper - value:.3g} wider than the tolerance {tolerance:.3g}"
    elif not resolved:
        reason = "the best gain is not resolved above round-off"
    converged = not reason
    if scan.status == "done" and value > 0:
        window = (0.0, min(scan.end, bounds.gain_bound / value))  # beyond, D*/t < value
    return Maximum(
        value,
        time,
        upper,
        window,
        converged,
        time_bracket=bracket if converged else None,
        horizon=math.inf,
        tolerance=tolerance,
        reason=reason,
    )


def _settled_by_peak(f, interval_bounds, scan: _Scan, peak, best: float, bounds: _Bounds, rtol):
    """The common case without branch and bound: the certified peak carries the best value
    and every scan interval outside its neighbourhood is bounded below that value (what
    :func:`_branch_and_bound`, :func:`_finish` and :func:`_locate` would conclude, cheaply).

    An interval that straddles an end of the neighbourhood is split there (one evaluation of
    ``f`` for both ends); ``None`` if anything is left above the value.
    """
    if peak is None or peak.bracket is None or not peak.lo <= scan.t_best <= peak.hi:
        return None
    value = max(peak.tau_value, best)
    if not peak.tau_value >= best - 4 * peak.roundoff:
        return None
    if scan.samples is not None:
        quick = _settled_quickly(f, interval_bounds, scan, peak, value, bounds)
        if quick is not None:
            return _peak_result(scan, peak, value, bounds, rtol, *quick)
        scan = _built(scan, interval_bounds)
    a, b, fa, fb = scan.intervals  # in time order: the covered ones are a contiguous run
    first, stop = int(np.searchsorted(a, peak.lo)), int(np.searchsorted(b, peak.hi, "right"))
    if stop <= first:
        return None
    lo_cover, hi_cover = float(a[first]), float(b[stop - 1])
    up = scan.bounds
    if (first and float(up[:first].max()) >= value) or (
        stop < up.size and float(up[stop:].max()) >= value
    ):
        hits = np.concatenate((np.arange(first), np.arange(stop, up.size)))
        hits = hits[up[hits] >= value]
    else:
        hits = ()
    if len(hits) > 2:
        return None
    cuts, pieces = [], []
    for i in hits:  # (in plain floats: at most the two intervals at the ends of [lo, hi])
        ai, bi, fai, fbi = float(a[i]), float(b[i]), float(fa[i]), float(fb[i])
        if not ai > 0:
            return None
        if interval_bounds.scalar(ai, bi, fai, fbi) < value:  # a tighter route settles it
            continue
        if ai < peak.lo < bi:  # cut at the end of the neighbourhood: the inner part is covered
            cuts.append(peak.lo)
            pieces.append((ai, fai, True))
            lo_cover = min(lo_cover, peak.lo)
        elif ai < peak.hi < bi:
            cuts.append(peak.hi)
            pieces.append((bi, fbi, False))
            hi_cover = max(hi_cover, peak.hi)
        else:
            return None
    if cuts:
        for cut, f_cut, (end, f_end, left) in zip(
            cuts, f(np.array(cuts)).tolist(), pieces, strict=True
        ):
            ends = (end, cut, f_end, f_cut) if left else (cut, end, f_cut, f_end)
            if interval_bounds.scalar(*ends) >= value:
                return None
    return _peak_result(scan, peak, value, bounds, rtol, lo_cover, hi_cover)


def _settled_quickly(f, interval_bounds, scan: _Scan, peak: _Peak, value: float, bounds):
    """For a short scan on its uniform grid: ``(lo, hi)`` covered by the peak if every interval
    outside stays below the value: those wholly outside by one bound for all (the largest
    sample plus the grid margin and the largest round-off there), the two that straddle an end
    of the neighbourhood cut there (one evaluation of ``f``). Else ``None``."""
    t, p = scan.samples
    first = int(np.searchsorted(t, peak.lo))  # t[first - 1] < lo <= t[first]
    last = int(np.searchsorted(t, peak.hi, "right")) - 1  # t[last] <= hi < t[last + 1]
    if last - first < 1 or first < 2 or last > t.size - 3:
        return None
    step = float(t[2] - t[1])
    margin = step * step * bounds.power_derivative_bound(2) / 8
    t1 = float(t[1])
    left = float(p[:first].max()) + (bounds.floor + bounds.slope * float(t[first - 1])) / t1
    right_err = (bounds.floor + bounds.slope * float(t[-1])) / float(t[last + 1])
    right = float(p[last + 1 :].max()) + right_err
    if max(left, right) + margin >= value:
        return None
    lo_cover, hi_cover = float(t[first]), float(t[last])
    # the straddling intervals [t[first-1], t[first]] and [t[last], t[last+1]]
    ends = [(first - 1, peak.lo, True), (last, peak.hi, False)]
    cuts = []
    for i, cut, is_left in ends:
        ai, bi, fai, fbi = float(t[i]), float(t[i + 1]), float(p[i]), float(p[i + 1])
        if cut == ai or cut == bi or interval_bounds.scalar(ai, bi, fai, fbi) < value:
            continue
        cuts.append((i, cut, is_left))
    if cuts:
        values = f(np.array([c[1] for c in cuts])).tolist()
        for (i, cut, is_left), f_cut in zip(cuts, values, strict=True):
            if is_left:
                outer = (float(t[i]), cut, float(p[i]), f_cut)
                lo_cover = cut
            else:
                outer = (cut, float(t[i + 1]), f_cut, float(p[i + 1]))
                hi_cover = cut
            if interval_bounds.scalar(*outer) >= value:
                return None
    return lo_cover, hi_cover


def _peak_result(scan, peak, value, bounds: _Bounds, rtol, lo_cover, hi_cover):
    """The converged P_max carried by the certified peak (None if its bracket is too wide)."""
    if not lo_cover > 0:  # the peak reaches back to t = 0: let branch and bound decide
        return None
    roundoff = max(peak.roundoff, bounds.error(hi_cover) / lo_cover)
    tolerance = max(rtol * abs(value), 2 * roundoff)
    upper = max(value, min(peak.upper_bound, bounds.power_cap(bounds.gain_bound)))
    if upper - value > tolerance or not value > RESOLVE_FACTOR * roundoff:
        return None
    return Maximum(
        value,
        peak.tau,
        upper,
        (0.0, min(scan.end, bounds.gain_bound / value)),  # beyond, D*/t < value
        True,
        time_bracket=peak.bracket,
        horizon=math.inf,
        tolerance=tolerance,
    )
