r"""Grid *estimates* of :math:`P_{max}` and :math:`E_{max}` where no spectrum certifies them.

The certified maxima (:mod:`~qutip_centralspin.maxima.certified`) need the spectral form of
:math:`E_B(t)`: its Bohr frequencies and amplitudes bound every derivative. The sparse path of
the multi-group engine (:class:`~qutip_centralspin.solvers.group_sparse.SparseGroupEvolution`,
sectors too large to diagonalise) has no spectrum, so there the maxima are estimated on a time grid and never
claimed to be certified:

* spacing :math:`\delta t = 2\pi/(\mathrm{GRID\_SAMPLES\_PER\_PERIOD}\;\omega_{max})`,
  :math:`\omega_{max}` a rigorous bound on the Bohr frequencies (the largest Gershgorin width
  of an occupied sector), so the fastest oscillation gets at least
  :data:`GRID_SAMPLES_PER_PERIOD` samples per period;
* ``P_max``: scanned from :math:`\delta t` until :math:`t > D/P_{best}` (:math:`D` the energy
  ceiling: no later time can beat :math:`P_{best}`, rigorously); ``E_max``: over the window
  (default: the same scan), ``peak="first"``: until the first interior maximum of the grid;
* the best sample is refined :data:`REFINEMENTS` times on a local grid of
  :data:`REFINE_POINTS` points spanning its two neighbouring cells, and ``upper_bound`` adds
  :math:`w^2\max|f''|/8` of the last local grid (second differences,
  :func:`~qutip_centralspin.results.grid_maximum`): an estimate, not a proof.

Every result has ``converged=False``, ``horizon=None``, ``time_bracket=None`` and a ``reason``
that says it is a grid estimate, with the scan spacing and the refined spacing.
"""

from __future__ import annotations

import math

import numpy as np

from ..results import Maximum, grid_maximum

__all__ = [
    "grid_max_power",
    "grid_max_energy",
    "GRID_SAMPLES_PER_PERIOD",
    "MAX_GRID_SAMPLES",
    "REFINEMENTS",
    "REFINE_POINTS",
]

#: Samples per period of the fastest Bohr frequency bound.
GRID_SAMPLES_PER_PERIOD = 16
#: Most samples of one scan (then the spacing grows, or the scan stops; the reason says so).
MAX_GRID_SAMPLES = 200_000
#: Local refinements of the best sample, each on a grid of REFINE_POINTS points.
REFINEMENTS = 3
REFINE_POINTS = 41
_CHUNK = 2048


def _note(evo) -> str:
    """Which sectors made the evolution unfit for certification."""
    parts = [e for _, e in evo.parts] if hasattr(evo, "parts") else [evo]
    sizes = [max(getattr(e, "sector_sizes", {0: 0}).values(), default=0) for e in parts]
    limit = min((getattr(e, "dense_limit", math.inf) for e in parts), default=math.inf)
    return (
        f"the sparse path has no spectrum to certify (largest occupied sector {max(sizes)} "
        f"levels > dense_limit {limit})"
    )


def _spacing(evo) -> float:
    omega = float(evo.max_frequency())
    return 2 * math.pi / (GRID_SAMPLES_PER_PERIOD * omega) if omega > 0 else math.inf


def _stationary(power: bool, reason: str) -> Maximum:
    return Maximum(
        0.0,
        math.inf if power else 0.0,
        0.0,
        (0.0, math.inf),
        converged=False,
        reason=f"grid estimate, not certified: {reason}",
    )


def _refine(f, t_best: float, h: float, lo: float, hi: float):
    """Refine the best sample of ``f`` (vectorised) around ``t_best`` on local grids within
    ``[lo, hi]``; returns ``(times, values, spacing)`` of the last local grid."""
    times = values = None
    for _ in range(REFINEMENTS):
        times = np.linspace(max(t_best - h, lo), min(t_best + h, hi), REFINE_POINTS)
        values = f(times)
        t_best = float(times[int(np.argmax(values))])
        h = float(times[1] - times[0])
    return times, values, h


def _result(evo, f, t_best, dt, lo, hi, window, extra="") -> Maximum:
    times, values, h = _refine(f, t_best, dt, lo, hi)
    local = grid_maximum(times, values)
    reason = (
        f"grid estimate, not certified: {_note(evo)}; scanned [0, {window[1]:.6g}] with "
        f"spacing {dt:.3g} ({GRID_SAMPLES_PER_PERIOD} samples per period of the fastest Bohr "
        f"frequency bound), refined {REFINEMENTS} times to spacing {h:.3g} around the best "
        f"sample; upper_bound adds the second-difference estimate of the grid error{extra}"
    )
    return Maximum(
        local.value,
        local.time,
        max(local.upper_bound, local.value),
        window,
        converged=False,
        reason=reason,
    )


def grid_max_power(evo) -> Maximum:
    r"""Grid estimate of :math:`P_{max} = \max_{t>0}\Delta E_B(t)/t` (module notes).

    Parameters
    ----------
    evo
        An evolution with ``delta_energy``, ``energy_ceiling`` and ``max_frequency`` (e.g. a
        :class:`~qutip_centralspin.solvers.group_sparse.SparseGroupEvolution`).

    Returns
    -------
    Maximum
        ``converged=False``; ``reason`` says it is a grid estimate and gives the spacings.
    """
    ceiling = float(evo.energy_ceiling())
    dt = _spacing(evo)
    if not math.isfinite(dt) or not ceiling > 0:
        return _stationary(True, f"{_note(evo)}; no Bohr frequency or no room above E_B(0)")
    best, t_best, start, extra = -math.inf, math.inf, 1, ""
    while True:
        t = dt * np.arange(start, start + _CHUNK)
        p = evo.delta_energy(t) / t
        i = int(np.argmax(p))
        if p[i] > best:
            best, t_best = float(p[i]), float(t[i])
        start += _CHUNK
        if best > 0 and t[-1] >= ceiling / best:
            break
        if start > MAX_GRID_SAMPLES:
            extra = f"; the scan stopped after {MAX_GRID_SAMPLES} samples"
            break
    if not best > 0:
        return _stationary(True, f"{_note(evo)}; no gain on {start - 1} grid samples")
    end = float(t[-1])
    return _result(
        evo, lambda x: evo.delta_energy(x) / x, t_best, dt, t_best / 2, end, (0.0, end), extra
    )


def grid_max_energy(evo, *, window: float | None = None, peak: str = "window") -> Maximum:
    r"""Grid estimate of :math:`E_{max} = \max_{0\le t\le T_w}\Delta E_B(t)`, or of the first
    local maximum (``peak="first"``) (module notes).

    Parameters
    ----------
    evo
        As :func:`grid_max_power`.
    window : float, optional
        :math:`T_w`. Default: the scan of :func:`grid_max_power` (until no later time can
        beat the best power seen), so it holds the time of :math:`P_{max}`; with
        ``peak="first"``, where the search stops (default: :data:`MAX_GRID_SAMPLES` samples).
        At most :data:`MAX_GRID_SAMPLES` samples: a longer window gets a wider spacing.
    peak : {"window", "first"}

    Returns
    -------
    Maximum
        ``converged=False``; ``reason`` says it is a grid estimate and gives the spacings.
    """
    ceiling = float(evo.energy_ceiling())
    dt = _spacing(evo)
    if not math.isfinite(dt) or not ceiling > 0:
        return _stationary(False, f"{_note(evo)}; no Bohr frequency or no room above E_B(0)")
    extra = ""
    if window is not None and window / dt > MAX_GRID_SAMPLES:
        dt = window / MAX_GRID_SAMPLES
        extra = f"; the window holds at most {MAX_GRID_SAMPLES} samples"
    limit = math.inf if window is None else float(window)
    best, t_best, power, start = -math.inf, 0.0, 0.0, 0
    previous = None  # dE of the last two samples, for peak="first"
    end = 0.0
    while True:
        t = dt * np.arange(start, start + _CHUNK)
        t = t[t <= limit] if math.isfinite(limit) else t
        if t.size == 0:
            break
        e = evo.delta_energy(t)
        end = float(t[-1])
        if peak == "first":
            series = e if previous is None else np.concatenate([previous, e])
            offset = 0 if previous is None else 2
            rise = np.flatnonzero((series[1:-1] > series[:-2]) & (series[1:-1] >= series[2:]))
            if rise.size:
                i = int(rise[0]) + 1 - offset
                t_best = float(t[0] + dt * i)
                return _result(evo, evo.delta_energy, t_best, dt, 0.0, limit, (0.0, t_best), extra)
            previous = e[-2:] if e.size >= 2 else np.concatenate([previous[-1:], e])
        else:
            i = int(np.argmax(e))
            if e[i] > best:
                best, t_best = float(e[i]), float(t[i])
            pos = t > 0
            if pos.any():
                power = max(power, float(np.max(e[pos] / t[pos])))
        start += t.size
        if window is None and peak == "window" and power > 0 and t[-1] >= ceiling / power:
            break
        if start >= MAX_GRID_SAMPLES and window is None:
            extra += f"; the scan stopped after {MAX_GRID_SAMPLES} samples"
            break
    if peak == "first":
        return _stationary(False, f"{_note(evo)}; no local maximum on [0, {end:.6g}]")
    return _result(evo, evo.delta_energy, t_best, dt, 0.0, end, (0.0, end), extra)
