"""The certified first local maximum of :math:`\\Delta E_B` on :math:`t > 0`
(``max_energy(..., peak="first")``): the sign of :math:`\\dot E_B` or :math:`\\ddot E_B`
proven on every interval before it, its root refined to round-off."""

from __future__ import annotations

import math

from ..results import Maximum
from .bounds import _EPS, _TINY, _Bounds
from .energy import MAX_WINDOW_DOUBLINGS, default_window
from .search import _MIN_WIDTH_ULPS, SAMPLES_PER_SCAN_PERIOD

__all__: list[str] = []

#: Evaluations the search for the first peak may spend (then an unconverged result).
MAX_FIRST_PEAK_EVALUATIONS = 2_000_000
#: Root refinement of the first peak: at most this many safeguarded Newton steps.
FIRST_PEAK_STEPS = 100


def _derivative_signs(evo, bounds: _Bounds, a: float, b: float) -> str:
    r"""What the Taylor expansion of :math:`g = \Delta E_B'` at the midpoint proves on
    ``[a, b]``: ``"rising"`` (:math:`g > 0`), ``"falling"`` (:math:`g < 0`), ``"convex"``
    (:math:`g' > 0`: :math:`g` increasing), ``"concave"`` (:math:`g' < 0`) or ``""``.

    With :math:`c = (a + b)/2`, :math:`h = (b - a)/2` and :math:`|g'''| = |E_B''''| \le M_4`:
    :math:`|g(c + s) - g(c)| \le |g'(c)|h + |g''(c)|h^2/2 + M_4h^3/6` and
    :math:`|g'(c + s) - g'(c)| \le |g''(c)|h + M_4h^2/2`, plus the round-off of each
    derivative.
    """
    c, h = 0.5 * (a + b), 0.5 * (b - a)
    _, d1, d2, d3 = evo.energy_derivatives(c)
    m4 = bounds.m[4]
    e1, e2, e3 = bounds.error(c, 1), bounds.error(c, 2), bounds.error(c, 3)
    spread = (abs(d2) + e2) * h + (abs(d3) + e3) * h * h / 2 + m4 * h**3 / 6 + e1
    if d1 - spread > 0:
        return "rising"
    if d1 + spread < 0:
        return "falling"
    if d2 - _turn(bounds, c, h, d3) > 0:
        return "convex"
    if d2 + _turn(bounds, c, h, d3) < 0:
        return "concave"
    return ""


def _turn(bounds: _Bounds, c: float, h: float, d3: float) -> float:
    r"""Bound on :math:`|g'(c + s) - g'(c)|` for :math:`|s| \le h`, round-off of
    :math:`g'(c)` included (:math:`g = \Delta E_B'`)."""
    return (abs(d3) + bounds.error(c, 3)) * h + bounds.m[4] * h * h / 2 + bounds.error(c, 2)


def _first_energy_peak(evo, window: float | None, rtol: float) -> Maximum:
    """The certified first local maximum of Delta E_B on t > 0 (see :func:`max_energy`)."""
    bounds = _Bounds(evo)
    if window is None:
        base = default_window(evo)
        if base == 0 and bounds.omega > 0:
            base = 2 * math.pi / bounds.omega
        window = math.ldexp(base, MAX_WINDOW_DOUBLINGS)
    decided = bounds.structural(False, window)
    if decided is not None:  # no energy to gain: no charging peak, tau = t0 by convention
        return decided
    e0 = evo.initial_energy
    m = bounds.m
    scale = min(bounds.omega, m[3] / m[2]) if m[2] > 0 else bounds.omega
    dt = 2 * math.pi / (SAMPLES_PER_SCAN_PERIOD * scale)
    rate = {}  # g = dE_B/dt at the interval ends, with its round-off

    def slope(t):
        if t not in rate:
            rate[t] = (evo.energy_derivatives(t)[1], bounds.error(t, 1))
        return rate[t]

    def unresolved(reason, t_end):
        return Maximum(
            0.0,
            math.inf,
            float(bounds.gain_bound),
            (0.0, float(t_end)),
            converged=False,
            horizon=None,
            tolerance=None,
            reason=reason,
        )

    evaluations, k = 0, 0
    while k * dt < window:
        stack = [(k * dt, min((k + 1) * dt, window))]
        k += 1
        while stack:
            a, b = stack.pop()
            evaluations += 1
            if evaluations > MAX_FIRST_PEAK_EVALUATIONS:
                return unresolved(
                    f"the first local maximum is not resolved after {evaluations - 1} "
                    f"evaluations (searched up to t = {a:.6g})",
                    a,
                )
            kind = _derivative_signs(evo, bounds, a, b)
            if kind in ("rising", "falling", "convex"):
                continue  # no local maximum on [a, b]: g keeps its sign, or g increases
            if kind == "concave":
                g_a, err_a = slope(a)
                g_b, err_b = slope(b)
                if g_a < -err_a or g_b > err_b:
                    continue  # g decreasing: negative on (a, b] or positive on [a, b)
                if a == 0 and abs(g_a) <= err_a and g_b < -err_b:
                    # falling from t0 = 0 (g(0) = 0 to round-off): no maximum after t0 here
                    continue
                if g_a > err_a and g_b < -err_b:  # one sign change of g, from + to -
                    return _certify_first_peak(evo, bounds, a, b, e0, rtol)
                # g vanishes within round-off at an end (e.g. a peak on a grid point of a
                # periodic E_B): widen the interval across that end (what it adds on the left
                # is cleared already, so a root found there is the same one)
                w = b - a
                lo = a - w / 2 if a > 0 and abs(g_a) <= err_a else a
                hi = b + w / 2 if abs(g_b) <= err_b else b
                if _derivative_signs(evo, bounds, lo, hi) == "concave":
                    (g_lo, err_lo), (g_hi, err_hi) = slope(lo), slope(hi)
                    if g_lo > err_lo and g_hi < -err_hi:
                        return _certify_first_peak(evo, bounds, lo, hi, e0, rtol)
            if (b - a) <= _MIN_WIDTH_ULPS * _EPS * max(abs(b), _TINY):
                return unresolved(
                    "the sign of dE_B/dt is not resolved above round-off near "
                    f"t = {a:.17g} (a critical point at round-off)",
                    a,
                )
            mid = 0.5 * (a + b)
            stack.append((mid, b))
            stack.append((a, mid))
    return unresolved(
        f"no local maximum of Delta E_B on (0, {window:.6g}]: pass a longer window", window
    )


def _certify_first_peak(evo, bounds: _Bounds, a, b, e0, rtol) -> Maximum:
    r"""The maximum on ``[a, b]``, where :math:`g = \Delta E_B'` is proven decreasing with
    :math:`g(a) > 0 > g(b)`: its unique root :math:`\tau` by safeguarded Newton steps (the
    sign of :math:`g` kept where it is resolved), bracketed by
    :math:`|\tau - t| \le (|g(t)| + \epsilon_1)/\min|g'|`, and
    :math:`\Delta E_B(\tau) \le \Delta E_B(t) + \epsilon_0 + |\tau - t|(|g(t)| + \epsilon_1
    + M_2|\tau - t|)`."""
    c, h = 0.5 * (a + b), 0.5 * (b - a)
    _, _, d2, d3 = evo.energy_derivatives(c)
    steep = -d2 - _turn(bounds, c, h, d3)  # min |g'| on [a, b] (> 0: proven concave)
    lo, hi, t = a, b, c
    for _ in range(FIRST_PEAK_STEPS):
        f, g, g1, _ = evo.energy_derivatives(t)
        err1 = bounds.error(t, 1)
        if g > err1:
            lo = t
        elif g < -err1:
            hi = t
        else:
            break
        step = t - g / g1 if g1 < 0 else math.nan
        nxt = step if lo < step < hi else 0.5 * (lo + hi)
        if nxt == t or hi - lo <= 4 * _EPS * hi:
            break
        t = nxt
    f, g, _, _ = evo.energy_derivatives(t)
    err1 = bounds.error(t, 1)
    reach = (abs(g) + err1) / steep
    left, right = max(lo, t - reach), min(hi, t + reach)
    value = f - e0
    dist = max(t - left, right - t)
    err0 = bounds.error(t)
    upper = value + err0 + dist * (abs(g) + err1 + bounds.m[2] * dist)
    tolerance = max(rtol * abs(value), 2 * err0)
    reason = ""
    if upper - value > tolerance:
        reason = f"bracket {upper - value:.3g} wider than the tolerance {tolerance:.3g}"
    return Maximum(
        value,
        t,
        upper,
        (0.0, right),
        converged=not reason,
        time_bracket=(left, right),
        horizon=right if value >= 0 else None,
        tolerance=tolerance,
        reason=reason,
    )
