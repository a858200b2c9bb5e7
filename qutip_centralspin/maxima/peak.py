"""The Taylor-certified peak: a best sample refined by Halley steps on :math:`f'` and bounded
on its neighbourhood by a bound :math:`K` of the third derivative (``time_bracket`` to round-off)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .bounds import _Bounds

__all__: list[str] = []

#: Newton refinement of the best sample: at most this many steps ...
NEWTON_STEPS = 30
#: ... until its possible gain f'^2/(2a) is below this fraction of the tolerance.
NEWTON_GAIN_FRACTION = 0.1


class _Peak(NamedTuple):
    """A local maximum: ``f <= upper_bound`` on ``[lo, hi]``; Taylor base point ``time`` with
    ``f(time) = value``; the maximiser on ``[lo, hi]`` lies in ``bracket`` (or ``None``);
    ``tau`` is the refined maximiser and ``tau_value = f(tau)``."""

    time: float
    value: float
    upper_bound: float
    lo: float
    hi: float
    bracket: tuple[float, float] | None = None
    roundoff: float = 0.0
    tau: float = math.nan
    tau_value: float = -math.inf


def _newton_peak(evo, times, values, rtol: float, bounds: _Bounds | None = None) -> _Peak | None:
    r"""Refine the best sample of P by Halley's method on :math:`P'`; certify a neighbourhood.

    At any :math:`t^*` with :math:`a = -P''(t^*)/2 > 0`, Taylor's theorem with
    :math:`|P'''| \le K = M_4/4` gives for :math:`|s| \le R = 3a/K`

    .. math::

        P(t^*+s) \le P^* + |P'||s| - a s^2 + K|s|^3/6 \le P^* + |P'||s| - a s^2/2
        \le P^* + P'^2/(2a),

    one rigorous bound on all of :math:`[t^*-R, t^*+R]` (plus the round-off of the evaluations).
    Returns ``None`` (branch and bound alone decides) if Halley leaves the neighbouring samples,
    meets :math:`P'' \ge 0` or does not converge.
    """
    bounds = bounds if bounds is not None else _Bounds(evo)
    i = int(np.argmax(values))
    if not 0 < i < len(values) - 1:
        return None
    return _taylor_peak(
        evo.power_derivatives,
        bounds.power_errors,
        bounds.power_derivative_bound(3),
        (float(times[i - 1]), float(times[i]), float(times[i + 1])),
        (float(values[i - 1]), float(values[i]), float(values[i + 1])),
        rtol,
    )


def _energy_peak(evo, bounds: _Bounds, times, values, rtol: float) -> _Peak | None:
    """:func:`_newton_peak` for :math:`\\Delta E_B` (with :math:`|E_B'''| \\le M_3`)."""
    e0 = evo.initial_energy

    def derivatives(t):
        e, d1, d2, d3 = evo.energy_derivatives(t)
        return e - e0, d1, d2, d3

    return _taylor_peak(
        derivatives,
        bounds.energy_errors,
        evo.derivative_bound(3),
        tuple(float(x) for x in times),
        tuple(float(x) for x in values),
        rtol,
    )


def _taylor_peak(derivatives, errors, k3, times, values, rtol) -> _Peak | None:
    """Halley on f' from the vertex of the parabola through three samples; see _newton_peak."""
    t_lo, t_mid, t_hi = times
    f_lo, f_mid, f_hi = values
    bend = f_lo - 2 * f_mid + f_hi
    t = t_mid
    if bend < 0:
        t += (t_hi - t_lo) / 4 * (f_lo - f_hi) / bend
    if not k3 > 0:
        return None
    for _ in range(NEWTON_STEPS):
        if not t_lo < t < t_hi:
            return None
        p, p1, p2, p3 = derivatives(t)
        if not p2 < 0:
            return None
        gain = -p1 * p1 / p2  # P'^2 / (2a)
        # Halley's step on f' = 0 (cubic convergence); Newton's if the correction misbehaves
        denominator = 2 * p2 * p2 - p1 * p3
        step = 2 * p1 * p2 / denominator if denominator > 0 else p1 / p2
        if gain <= NEWTON_GAIN_FRACTION * rtol * abs(p):
            return _certify_peak(t, p, p1, p2, errors(t), k3, step)
        if gain <= NEWTON_GAIN_FRACTION * errors(t)[0]:  # at the round-off floor
            return _certify_peak(t, p, p1, p2, errors(t), k3, step)
        t -= step
    return None


def _certify_peak(t, p, p1, p2, errs, k3, step) -> _Peak | None:
    """The Taylor bound around ``t`` and the bracket of the root of f' near ``t - step``."""
    e0, e1, e2 = errs
    a = -p2 / 2 - e2 / 2  # a lower bound of -f''/2 at t
    if not a > 0:
        return None
    radius = 3 * a / k3
    slope = abs(p1) + e1
    upper = p + e0 + slope * slope / (2 * a)
    peak = _Peak(t, p, upper, t - radius, t + radius, None, e0)
    # the maximiser: f'(t + u) = p1 + p2 u + r(u), |r| <= e1 + e2 |u| + k3 u^2 / 2; around the
    # Newton point u0 = -step a sign change of f' over [u0 - d, u0 + d] with f'' < 0 in between
    u0 = -step
    d = 0.0
    for _ in range(4):
        reach = abs(u0) + d
        d = 2 * (e1 + e2 * reach + k3 * reach * reach / 2) / (-p2)
    reach = abs(u0) + d
    slack = e1 + e2 * reach + k3 * reach * reach / 2
    concave = 2 * a - k3 * reach > 0  # f'' <= -2a + k3 |u| < 0 on the bracket
    if not (concave and -p2 * d > slack and reach < radius):
        return peak
    # outside the concave zone |u| < 2a/k3 but inside [lo, hi] the Taylor bound stays below f(t)
    zone = 2 * a / k3
    if not 2 * e0 + slope * radius < a * zone * zone / 2:
        return peak
    tau = t + u0
    # f(tau) from the expansion at t (its remainder k3 |u0|^3 / 6 is far below round-off)
    value = p + p1 * u0 + p2 * u0 * u0 / 2 - k3 * abs(u0) ** 3 / 6
    return peak._replace(bracket=(tau - d, tau + d), tau=tau, tau_value=value)
