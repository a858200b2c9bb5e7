"""Generic bracketing of a maximum: branch and bound on rigorous interval bounds, the
location of the maximiser (``time_bracket``), the streamed-scan state and their budgets."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .bounds import _EPS, RESOLVE_FACTOR
from .peak import _Peak

__all__: list[str] = []

#: Scan resolution: samples per period :math:`2\pi M_{k+1}/M_{k+2}` of the derivative scale.
SAMPLES_PER_SCAN_PERIOD = 10
#: Largest number of samples of one scan (P: then an unconverged bracket; E: an error).
MAX_SCAN_POINTS = 20_000_000
#: Evaluations branch and bound may spend before it reports an unconverged bracket.
MAX_BRANCH_EVALUATIONS = 20_000_000
#: Evaluations spent on proving that the maximiser is unique (``time_bracket``).
MAX_BRACKET_EVALUATIONS = 200_000
#: Branch and bound splits each live interval into this many parts.
SPLIT = 16
_MAX_CHUNK = 4096
_BATCH = 1 << 14
_PRUNE_EVERY = 1 << 16
_MIN_WIDTH_ULPS = 16


class _Search(NamedTuple):
    best: float
    t_best: float
    upper: float
    roundoff: float  # largest round-off allowance of the intervals that reach best
    exhausted: bool
    candidates: tuple  # (a, b, fa, fb, up) of settled intervals with up >= best


def _branch_and_bound(
    f,
    intervals,
    bounds,
    best,
    t_best,
    rtol,
    *,
    peak=None,
    strict=False,
    budget=None,
    noise=None,
    atol=0.0,
) -> _Search:
    """Maximise ``f`` over the union of ``intervals = (a, b, f(a), f(b))``.

    ``bounds(a, b, fa, fb)`` returns rigorous upper bounds of ``f`` on each interval and their
    round-off part. Intervals below the best value are dropped; those within
    ``max(rtol |best|, 2 round-off)`` of it are settled; the rest are split in :data:`SPLIT`,
    depth first and in batches (bounded memory). ``peak`` (a :class:`_Peak`) bounds the
    intervals inside its neighbourhood, which are never split. ``strict``: settle nothing, split
    everything that reaches ``best`` until its bound is round-off (to locate the maximisers).
    ``noise(t)``: round-off of a sample at t; the best value is the sample with the largest
    value minus noise (a sample where round-off dominates, e.g. P near t = 0, is not chosen).
    ``atol``: an absolute floor of the settling tolerance (0: relative and round-off only).
    """
    budget = MAX_BRANCH_EVALUATIONS if budget is None else budget
    frac = np.arange(1, SPLIT) / SPLIT
    stack = [tuple(np.asarray(x, dtype=float) for x in intervals)]
    if noise is None:
        noise = np.zeros_like
    score = best - float(noise(np.array([t_best]))[0]) if math.isfinite(t_best) else best
    a, b, fa, fb = stack[0]
    for ends, values in ((a, fa), (b, fb)):  # the samples themselves are values found
        if values.size:
            scores = values - noise(ends)
            j = int(np.argmax(scores))
            if scores[j] > score:
                best, t_best, score = float(values[j]), float(ends[j]), float(scores[j])
    settled, evals, exhausted = [], 0, False
    while stack:
        a, b, fa, fb = stack.pop()
        if a.size == 0:
            continue
        up, err = bounds(a, b, fa, fb, best)
        inside = np.zeros(a.shape, dtype=bool)
        if peak is not None:
            inside = (a >= peak.lo) & (b <= peak.hi)
            up = np.where(inside, np.minimum(up, peak.upper_bound), up)
            err = np.where(inside, np.maximum(err, peak.roundoff), err)
        keep = up >= best
        excess = up - np.maximum(fa, fb)  # margin plus round-off
        floor = excess <= 2 * err  # splitting cannot bring the bound lower
        if strict:
            settle = keep & (inside | floor)
        else:
            tol = np.maximum(max(rtol * abs(best), atol), 2 * err)
            settle = keep & (inside | (up <= best + tol) | floor)
            exhausted |= bool((keep & floor & ~inside & (up > best + tol)).any())
        narrow = keep & ~settle & ((b - a) <= _MIN_WIDTH_ULPS * _EPS * np.abs(b))
        if narrow.any():
            settle |= narrow
            exhausted = True
        split = keep & ~settle
        if settle.any():
            settled.append((a[settle], b[settle], fa[settle], fb[settle], up[settle], err[settle]))
        if not split.any():
            continue
        a, b, fa, fb = a[split], b[split], fa[split], fb[split]
        if evals + a.size * (SPLIT - 1) > budget:  # out of budget: keep them as they are
            exhausted = True
            settled.append((a, b, fa, fb, up[split], err[split]))
            continue
        for start in range(0, a.size, _BATCH):
            sl = slice(start, start + _BATCH)
            lo, hi = a[sl], b[sl]
            inner = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
            values = np.asarray(f(inner.ravel()), dtype=float).reshape(inner.shape)
            evals += values.size
            scores = values - noise(inner)
            j = int(np.argmax(scores))
            if scores.flat[j] > score:
                best, t_best, score = float(values.flat[j]), float(inner.flat[j]), scores.flat[j]
            pts = np.concatenate([lo[:, None], inner, hi[:, None]], axis=1)
            vals = np.concatenate([fa[sl, None], values, fb[sl, None]], axis=1)
            stack.append(
                (
                    pts[:, :-1].ravel(),
                    pts[:, 1:].ravel(),
                    vals[:, :-1].ravel(),
                    vals[:, 1:].ravel(),
                )
            )
    if settled:
        a, b, fa, fb, up, err = (np.concatenate(x) for x in zip(*settled, strict=True))
    else:
        a = b = fa = fb = up = err = np.zeros(0)
    relevant = up >= best
    upper = max(best, float(up.max()) if up.size else -math.inf)
    roundoff = float(err[relevant].max()) if relevant.any() else 0.0
    candidates = (a[relevant], b[relevant], fa[relevant], fb[relevant], up[relevant])
    return _Search(best, t_best, upper, roundoff, exhausted, candidates)


def _locate(f, bounds, search: _Search, value: float, peak: _Peak | None, carrier: bool, noise):
    """``time_bracket``: every time where ``f`` can reach ``value`` (or ``None``).

    Candidates outside the certified peak are refined strictly (split until their bound drops
    below ``value`` or is round-off); what is left must be the peak's own bracket or one
    contiguous cluster. Returns ``(bracket, improved search or None)``.
    """
    a, b, fa, fb, up = search.candidates
    keep = up >= value
    a, b, fa, fb = a[keep], b[keep], fa[keep], fb[keep]
    if carrier:
        outside = ~((a >= peak.lo) & (b <= peak.hi))
        a, b, fa, fb = a[outside], b[outside], fa[outside], fb[outside]
        if a.size == 0:
            return peak.bracket, None
    strict = _branch_and_bound(
        f,
        (a, b, fa, fb),
        bounds,
        value,
        search.t_best,
        0.0,
        strict=True,
        budget=MAX_BRACKET_EVALUATIONS,
        noise=noise,
    )
    if strict.best > value:  # a better value hid within the tolerance: report it instead
        return None, strict
    left, right = strict.candidates[0], strict.candidates[1]
    if carrier:
        return (peak.bracket if left.size == 0 else None), None
    if left.size == 0 or strict.exhausted:
        return None, None
    order = np.argsort(left)
    left, right = left[order], right[order]
    if np.all(left[1:] <= np.maximum.accumulate(right)[:-1]):  # one contiguous cluster
        return (float(left[0]), float(right.max())), None
    return None, None


def _late_peak(f, search: _Search, peak: _Peak | None, dt: float, make) -> _Peak | None:
    """The certified peak at the best value of the search, if the scan's peak is elsewhere
    (the best value came from branch and bound): Halley from samples ``dt / SPLIT`` apart."""
    t = search.t_best
    if peak is not None and peak.lo <= t <= peak.hi:
        return peak
    h = dt / SPLIT
    if not t > h:
        return peak
    times = np.array([t - h, t, t + h])
    values = np.asarray(f(times), dtype=float)
    values[1] = max(values[1], search.best)
    late = make(times, values)
    return late if late is not None else peak


def _finish(f, bounds, search, peak, rtol, *, resolved_at, noise, end=math.inf):
    """Value, time, bracket and tolerance of a finished search (peak refinement included)."""
    value, time = search.best, search.t_best
    carrier = (
        peak is not None
        and peak.bracket is not None
        and peak.lo <= search.t_best <= peak.hi
        and peak.tau_value >= search.best - 4 * peak.roundoff
        and 0 <= peak.bracket[0]
        and peak.bracket[1] <= end  # the maximiser lies in the searched window
    )
    if carrier:  # the refined maximiser (its value equals the best sample's to round-off)
        value, time = max(peak.tau_value, search.best), peak.tau
    bracket, better = _locate(f, bounds, search, value, peak, carrier, noise)
    if better is not None:
        search = search._replace(best=better.best, t_best=better.t_best)
        value, time, bracket = better.best, better.t_best, None
    upper = max(search.upper, value)
    tolerance = max(2 * search.roundoff, rtol * abs(value))
    if peak is not None and (peak.lo <= time <= peak.hi):
        tolerance = max(tolerance, 2 * peak.roundoff)
    # resolved: above the round-off at its own time and where the bound is attained
    resolved = value > RESOLVE_FACTOR * max(resolved_at(time), search.roundoff)
    return value, time, upper, tolerance, bracket, resolved


class _Scan(NamedTuple):
    intervals: tuple  # (a, b, fa, fb) whose bound reaches max(best, 0)
    bounds: np.ndarray  # their upper bounds
    best: float
    t_best: float
    neighbours: tuple | None  # (times, values) of the best sample and its neighbours
    end: float
    status: str  # "done", "no gain" or "budget"
    samples: tuple | None = None  # a short scan: (t, P) as sampled, intervals not built yet
    power_best: float = -math.inf  # E scan: max (Delta E_B - round-off)/t over the samples


def _built(scan: _Scan, interval_bounds) -> _Scan:
    """The scan with its intervals (those that can reach max(best, 0)) and their bounds."""
    if scan.intervals is not None:
        return scan
    t, p = scan.samples
    a, b, fa, fb = t[:-1], t[1:], p[:-1], p[1:]
    threshold = max(scan.best, 0.0)
    up, _ = interval_bounds(a, b, fa, fb, threshold)
    keep = np.flatnonzero(up >= threshold)
    return scan._replace(intervals=(a[keep], b[keep], fa[keep], fb[keep]), bounds=up[keep])


def _concat_kept(kept, threshold):
    a, b, fa, fb, up = (np.concatenate(x) for x in zip(*kept, strict=True))
    keep = up >= threshold
    return a[keep], b[keep], fa[keep], fb[keep], up[keep]
