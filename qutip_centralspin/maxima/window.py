"""A certified maximum (or first maximum) over a window of a function given only by samples,
a curvature and a Lipschitz bound: the ergotropy (:mod:`~qutip_centralspin.maxima.ergotropy`) and open runs
(:mod:`~qutip_centralspin.maxima.open`)."""

from __future__ import annotations

import math

import numpy as np

from ..results import Maximum
from .bounds import _EPS, _TINY
from .search import _MAX_CHUNK, MAX_SCAN_POINTS, _branch_and_bound, _locate

__all__ = ["certified_window_maximum", "certified_first_maximum"]

#: Evaluations :func:`certified_window_maximum` may spend on branch and bound.
MAX_WINDOW_EVALUATIONS = 400_000
#: Attempts of :func:`certified_window_maximum` to bracket the maximiser.
LOCATE_ATTEMPTS = 3


def certified_window_maximum(
    f,
    window: float,
    *,
    step: float,
    curvature: float,
    lipschitz: float,
    roundoff,
    rtol: float,
    atol: float = 0.0,
    budget: int = MAX_WINDOW_EVALUATIONS,
    extra_bound=None,
) -> Maximum:
    r"""Certified :math:`\max_{0 \le t \le T_w} f(t)` for an upper envelope of smooth functions.

    ``f`` may have kinks, but :math:`f = \max_U g_U` with every :math:`|g_U''| \le C`
    (``curvature``) and :math:`f` Lipschitz with constant :math:`L` (``lipschitz``). Then on
    any :math:`[a, b]` of width :math:`w`

    .. math::

        f(t) \le \min\Big(\max(f(a), f(b)) + \frac{C w^2}{8},\;
                           \frac{f(a) + f(b)}{2} + \frac{L w}{2}\Big)

    (each :math:`g_U` stays below its chord plus :math:`Cw^2/8`, the chord below
    :math:`\max(f(a), f(b))`; the second is the Lipschitz tent), plus the evaluation
    round-off ``roundoff(t)`` (non-decreasing in t). A grid of spacing ``step`` is refined
    by the branch and bound of :func:`certified_max_power` until the bracket is within
    ``max(rtol |value|, atol, 2 round-off)``, or ``budget`` evaluations are spent.

    Parameters
    ----------
    f : callable
        Vectorised: an array of times to an array of values.
    window : float
        :math:`T_w > 0`.
    step, curvature, lipschitz : float
        Grid spacing, :math:`C` and :math:`L` as above.
    roundoff : callable
        Vectorised bound on the error of one evaluation of ``f`` at t.
    rtol, atol : float
        The tolerance of the bracket.
    budget : int
        Largest number of evaluations of ``f`` after the grid.
    extra_bound : callable, optional
        ``extra_bound(a, b)``: another rigorous upper bound of ``f`` on each ``[a, b]`` (arrays
        of interval ends, round-off excluded; ``inf`` where it has none). The smaller is used.

    Returns
    -------
    Maximum
        ``horizon = window``; ``converged`` when the bracket is within the tolerance on the
        whole window, else ``reason`` says why; ``time_bracket`` when the times where the
        maximum can be attained form one cluster.
    """
    curv = curvature / 8
    half_l = lipschitz / 2

    def interval_bounds(a, b, fa, fb, threshold=None):
        w = b - a
        err = np.asarray(roundoff(b), dtype=float) * np.ones_like(w)
        quadratic = np.maximum(fa, fb) + w * w * curv
        tent = 0.5 * (fa + fb) + half_l * w
        up = np.minimum(quadratic, tent)
        if extra_bound is not None:
            up = np.minimum(up, extra_bound(a, b))
        return up + err, err

    count = max(2, int(math.ceil(window / step)))
    if count > MAX_SCAN_POINTS:
        raise ValueError(
            f"window must need at most {MAX_SCAN_POINTS} grid points; window={window:.3g} "
            f"needs {count} at step {step:.3g}"
        )
    t = window * (np.arange(count + 1) / count)
    values = np.concatenate(
        [np.asarray(f(c), dtype=float) for c in np.array_split(t, 1 + count // _MAX_CHUNK)]
    )
    scores = values - np.asarray(roundoff(t), dtype=float)
    i = int(np.argmax(scores))
    best, t_best = float(values[i]), float(t[i])
    a, b, fa, fb = t[:-1], t[1:], values[:-1], values[1:]
    up, _ = interval_bounds(a, b, fa, fb)
    keep = up >= best
    search = _branch_and_bound(
        f,
        (a[keep], b[keep], fa[keep], fb[keep]),
        interval_bounds,
        best,
        t_best,
        rtol,
        budget=budget,
        noise=roundoff,
        atol=atol,
    )
    value, time = search.best, search.t_best
    for _ in range(LOCATE_ATTEMPTS):  # a better sample met on the way: locate again from it
        bracket, better = _locate(f, interval_bounds, search, value, None, False, roundoff)
        if better is None:
            break
        search = search._replace(best=better.best, t_best=better.t_best)
        value, time, bracket = better.best, better.t_best, None
    upper = max(search.upper, value)
    tolerance = max(rtol * abs(value), atol, 2 * search.roundoff, 2 * float(roundoff(time)))
    reason = ""
    if search.exhausted:
        reason = (
            f"branch and bound reached its budget ({budget} evaluations) or the round-off "
            "floor before the tolerance"
        )
    elif upper - value > tolerance:
        reason = f"bracket {upper - value:.3g} wider than the tolerance {tolerance:.3g}"
    converged = not reason
    return Maximum(
        value,
        time,
        upper,
        (0.0, float(window)),
        converged,
        time_bracket=bracket if converged else None,
        horizon=float(window),
        tolerance=tolerance,
        reason=reason,
    )


#: :func:`certified_first_maximum`: unresolved intervals next to t = 0 are not searched up to
#: this fraction of the grid step (where f' vanishes with t, e.g. a Dicke state's W(t)).
START_FRACTION = 1e-3


def certified_first_maximum(
    f,
    window: float,
    *,
    curvature: float,
    lipschitz: float,
    roundoff,
    step: float,
    rtol: float,
    atol: float = 0.0,
    budget: int = MAX_WINDOW_EVALUATIONS,
    extra_bound=None,
) -> Maximum:
    r"""The first local maximum of :math:`f` on :math:`(0, T_w]` above a threshold.

    ``f``, ``curvature`` :math:`C`, ``lipschitz`` :math:`L`, ``roundoff``, ``step``,
    ``extra_bound`` as for :func:`certified_window_maximum`: :math:`f = \max_U g_U` with
    :math:`g_U'' \ge -C`, so :math:`\varphi(t) = f(t) + Ct^2/2` is convex (kinks included)
    and its one-sided derivatives increase. On :math:`[a, b]` of width :math:`w`, secants of
    :math:`\varphi` over :math:`[a - w, a]` and :math:`[b, b + w]` give

    .. math::

        s_{[a-w, a]} - Cb \le f'(t^\pm) \le s_{[b, b+w]} - Ca \qquad (a \le t \le b),

    so :math:`f` is proven increasing or decreasing there, or the interval is bisected (down
    to :math:`\min(\sqrt{8\epsilon/C}, \theta/2L)`). Intervals whose upper bound (as in
    :func:`certified_window_maximum`) stays below :math:`\theta = 4\max(` ``atol``, round-off
    :math:`)` hold no peak that counts: a local maximum with :math:`f \le \theta` (a stretch
    of :math:`f = 0`, a passive battery) is not one. The first peak :math:`\tau` is where a
    proven increase meets a proven decrease; between them, the unresolved intervals
    :math:`[p, q]` (the turning zone) hold :math:`\tau`, and
    :math:`f(p) \le f(\tau) \le \sup_{[p, q]} f` (no peak between :math:`p` and
    :math:`\tau`: :math:`f` does not fall there). :math:`t = 0` is never a peak, nor are
    unresolved intervals that adjoin it up to :data:`START_FRACTION` of ``step`` (where
    :math:`f'` vanishes with :math:`t`; such a peak would be :math:`t = 0` to the search's
    resolution). A turning zone that is not between a proven rise and a proven fall (a
    minimum) must be flat to the tolerance: a local maximum inside it is below the
    resolution; otherwise the result is not converged.

    Returns
    -------
    Maximum
        ``value`` :math:`= f(p)`, ``time`` :math:`p`, ``upper_bound`` the bound of :math:`f`
        on :math:`[p, q]`, ``time_bracket`` :math:`(p, q)`, ``window`` :math:`(0, q)`,
        ``horizon`` :math:`q`. No peak found, or a turn that cannot be told apart:
        ``value = 0``, ``time = inf``, ``converged=False`` and the ``reason``.
    """
    curv, half_l = curvature / 8, lipschitz / 2
    cache: dict[float, float] = {}
    spent = [0]

    def value(t: float) -> float:
        if t not in cache:
            cache[t] = float(np.asarray(f(np.array([t])), dtype=float)[0])
            spent[0] += 1
        return cache[t]

    def error(t: float) -> float:
        return float(np.asarray(roundoff(np.array([t])), dtype=float).ravel()[0])

    def upper(a: float, b: float) -> float:
        fa, fb, w = value(a), value(b), b - a
        up = min(max(fa, fb) + w * w * curv, 0.5 * (fa + fb) + half_l * w)
        if extra_bound is not None:
            up = min(up, float(np.asarray(extra_bound(np.array([a]), np.array([b])))[0]))
        return up + error(b)

    def secant(a: float, b: float, sign: float) -> float:
        """A lower (``sign = -1``) or upper (``+1``) bound of the secant of phi on [a, b]."""
        rise = value(b) - value(a) + curvature * (b - a) * (b + a) / 2
        return (rise + sign * (error(a) + error(b))) / (b - a)

    def classify(a: float, b: float) -> str:
        w = b - a
        if upper(a, b) <= 4 * max(atol, error(b)):
            return "low"
        if a - w >= 0 and secant(a - w, a, -1.0) - curvature * b > 0:
            return "up"
        if b + w <= window and secant(b, b + w, 1.0) - curvature * a < 0:
            return "down"
        return ""

    def unresolved(reason: str, end: float) -> Maximum:
        return Maximum(0.0, math.inf, math.inf, (0.0, float(end)), converged=False, reason=reason)

    count = max(2, int(math.ceil(window / step)))
    h = window / count
    zone = None  # (p, q): f rises up to p and is not proven monotone on [p, q]
    rising = False  # the interval just before is proven increasing
    start = True  # nothing proven yet since t = 0
    for k in range(count):
        stack = [(k * h, min((k + 1) * h, window))]
        while stack:
            a, b = stack.pop()
            if spent[0] > budget:
                return unresolved(
                    f"the first peak is not resolved within {budget} evaluations (t = {a:.6g})",
                    a,
                )
            kind = classify(a, b)
            start = start and not kind
            if zone is not None and kind:
                p, q = zone
                tolerance = max(rtol * abs(value(p)), atol, 2 * error(q))
                if kind == "down" and rising:  # a proven rise, the zone, a proven fall
                    return _first_maximum(value(p), upper(p, q), p, q, tolerance)
                if upper(p, q) - min(value(p), value(q)) > tolerance:
                    return unresolved(f"f turns more than once near t = {p:.6g}", b)
                zone = None  # flat to the tolerance: a turn below the resolution, no peak
            if kind == "down":
                if rising:  # increasing up to a, decreasing after it: the peak is at a
                    tolerance = max(rtol * abs(value(a)), atol, 2 * error(a))
                    return _first_maximum(value(a), value(a) + error(a), a, a, tolerance)
                continue  # falling from t = 0, after a minimum, or below the threshold
            if kind:
                rising = kind == "up"
                continue
            w = b - a
            theta = 4 * max(atol, error(b))
            smallest = max(
                min(
                    math.sqrt(8 * error(b) / max(curvature, _TINY)),
                    theta / (2 * max(lipschitz, _TINY)),
                ),
                64 * _EPS * b,
            )
            if w > smallest:
                mid = 0.5 * (a + b)
                stack.append((mid, b))
                stack.append((a, mid))
                continue
            if start and b <= START_FRACTION * h:
                # next to t = 0, where f' vanishes with t (a Dicke state): t = 0 is no peak,
                # and a peak in [0, b] would sit at t = 0 to the resolution of the search
                continue
            zone = (a if zone is None else zone[0], b)  # rising tells a peak from a minimum
    return unresolved(f"no peak above the threshold on (0, {window:.6g}]", window)


def _first_maximum(low, high, p, q, tolerance) -> Maximum:
    high = max(high, low)
    reason = ""
    if high - low > tolerance:
        reason = f"bracket {high - low:.3g} wider than the tolerance {tolerance:.3g}"
    return Maximum(
        low,
        p,
        high,
        (0.0, float(q)),
        converged=not reason,
        time_bracket=None if reason else (float(p), float(q)),
        horizon=float(q),
        tolerance=tolerance,
        reason=reason,
    )
