r"""Certified maxima of the stored energy and of the charging power.

:math:`P_{max} = \max_{t>0} \Delta E_B(t)/t` and :math:`E_{max} = \max_t \Delta E_B(t)` are
found on the exact engine (:mod:`qutip_centralspin.solvers.sector`) with a *proven* bracket
``[value, upper_bound]`` (a :class:`~qutip_centralspin.results.Maximum`), not a grid guess.

What is proven
--------------
* ``P_max``: over **all** :math:`t \ge 0`. ``horizon = inf``.
* ``E_max``: :math:`\Delta E_B(t)` is quasi-periodic, so no finite search decides its supremum
  over all times unless it reaches the global ceiling (below). Otherwise the bracket is proven
  on the stated window :math:`[0, T_w]`: ``horizon = T_w``. If ``value`` comes within the
  tolerance of the global ceiling, it is the maximum over all :math:`t \ge 0`:
  ``horizon = inf`` and ``upper_bound`` is the ceiling.
* The first peak (``max_energy(..., peak="first")``): the first local maximum of
  :math:`\Delta E_B` for :math:`t > 0`, proven first by the sign of :math:`\dot E_B` or of
  :math:`\ddot E_B` on every interval before it, its time bracketed to round-off.
* The default ``E_max`` window reaches the time of ``P_max`` (so ``E_max >= P_max tau``) and
  never ends on a rising edge of :math:`\Delta E_B` (else ``converged=False``).
* ``converged=True`` means exactly: ``upper_bound - value <= tolerance`` holds over
  ``[0, horizon]``, ``tolerance = max(rtol |value|, round-off floor)``, and ``value`` is resolved
  above round-off (or ``0`` is proven by structure, below). Otherwise ``converged=False`` with a
  ``reason``; the bracket is still rigorous, only wider than asked.
* ``time_bracket`` holds every time of the searched window at which the maximum can be
  attained (at an interior peak: a sign change of :math:`f'` with :math:`f'' < 0` proven in
  between, refined to round-off, far below :math:`\sqrt{rtol}`). ``None`` when two maxima tie
  within the tolerance or the result is not converged.

The method
----------
1. **Ceilings.** Each excitation sector keeps its population, so
   :math:`\Delta E_B \le D` (:meth:`SectorEvolution.energy_ceiling`); and
   :math:`|E_B(t) - \bar E_B| \le \sum_{\omega_{ab}\ne0}|M_{ab}|`, so
   :math:`\Delta E_B \le \bar E_B - E_B(0) + \sum_{\omega_{ab}\ne 0}|M_{ab}|`. The smaller,
   :math:`D^*`, bounds :math:`\Delta E_B` for all times: once a power :math:`P_{best}` is seen,
   no :math:`t > D^*/P_{best}` can beat it, and
   :math:`P \le \tfrac12(\dot E_B(0) + \sqrt{\dot E_B(0)^2 + 2M_2D^*})` for all :math:`t`.
2. **Derivative bounds.** :math:`E_B(t) = \sum_{ab} M_{ab}e^{-i\omega_{ab}t}`, so
   :math:`|E_B^{(k)}| \le \sum|M_{ab}||\omega_{ab}|^k =: M_k`; for
   :math:`P = \int_0^1 \Delta E_B'(ut)\,du`, :math:`|P^{(k)}| \le M_{k+1}/(k+1)`. On an interval
   of width :math:`w` a function with :math:`|f''| \le M` exceeds its larger end value by at
   most :math:`w^2 M/8`; for :math:`P` on :math:`[a, b]` the energy route
   :math:`P \le \max\Delta E_B/a` is used as well (much tighter at long times).
3. **Scan.** :data:`SAMPLES_PER_SCAN_PERIOD` samples per period :math:`2\pi M_{k+1}/M_{k+2}` of
   the derivative scale, streamed in chunks: only intervals whose bound can still beat the best
   sample are kept (bounded memory). ``P``: until :math:`t > D^*/P_{best}`; a scan longer than
   :data:`REFINE_AFTER` samples first splits what could beat its best value (a narrow lobe
   between samples, a closer horizon), and one without any gain stops after
   :data:`NO_GAIN_SCAN_POINTS`. ``E``: over the window; the default window
   :math:`2\pi/g_{min}` (slowest neighbouring-level beat) is doubled while no gain above
   round-off is found.
4. **The peak.** The best sample is refined by Halley steps on :math:`f'`. At the refined
   :math:`t^*`, Taylor's theorem with :math:`|f'''| \le K` bounds :math:`f` on
   :math:`|t - t^*| \le 3a/K`, :math:`a = -f''(t^*)/2`, by :math:`f(t^*) + f'(t^*)^2/(2a)`, and
   proves the root of :math:`f'` within :math:`\delta` of the Newton point
   (``time_bracket``).
5. **Branch and bound.** Every other interval whose bound reaches the best value is split in
   :data:`SPLIT` until its bound is within the tolerance (depth first, in batches: bounded
   memory; at most :data:`MAX_BRANCH_EVALUATIONS` evaluations); what could still reach the
   value outside the peak is then split until it cannot, or ``time_bracket`` is ``None``. For
   the paper's states (``P_max``) nothing is left to split: the samples outside the peak's
   neighbourhood are bounded at once, the two intervals across its ends cut there.

Round-off and scale
-------------------
Every evaluation of :math:`\Delta E_B(t)` is taken to carry a rounding error of at most
:data:`ROUNDOFF_ULPS` ulps of :math:`S_0 = \max(M_0, \sum_K w_K\max|B S^z|)` plus
:data:`PHASE_ULPS` ulps of :math:`t(\Lambda S_0 + M_1)` (:math:`\Lambda = \max|\lambda_a|`: the
phases :math:`\lambda_a t` are rounded; against 40-digit arithmetic the measured error stays
below a tenth of this). Every bound includes it, a sample is chosen as the best by its value
minus its round-off, a gain counts only above :data:`RESOLVE_FACTOR` times it, and the
tolerance never drops below twice the round-off where the bound is attained (``tolerance``
says which). Hence, before any scan:

* a state with :math:`E_B` constant (only :math:`\omega_{ab} = 0` terms), with no level above
  :math:`E_B(0)` (:math:`D \le` round-off) or stationary to the rounding of its own
  representation (:meth:`SectorEvolution.coherence` at machine epsilon, e.g. a Gibbs state)
  gives ``value = 0``, *converged*, in constant time;
* a state that moves but whose :math:`D^*` is below the round-off floor (e.g.
  ``B = 1e10``, ``h = A = 1``: :math:`\Delta E_B \sim 10^{-9}` against one ulp of
  :math:`E_B(0) = -10^{10}`) is **not** resolvable in double precision: ``value = 0``,
  ``converged=False``, the reason says so. Rescaling cannot help: the ratio is scale-free.

On large sectors the spectral form leaves out the eigenstates whose amplitude is below one ulp
of the state's norm (:mod:`~qutip_centralspin.solvers.spectral`); the rigorous bound of what
they could add to :math:`E_B^{(k)}` (:meth:`SectorEvolution.truncation_bound`) is added to
every :math:`M_k`, to the oscillation amplitude and to the error of every evaluation.

Energies scale linearly with :math:`(B, h, A, \Delta)` and times inversely, so a model whose
parameters are far from 1 (beyond :math:`2^{\pm}`:data:`RESCALE_EXPONENT`) is solved on
:math:`H/2^k` and mapped back exactly (:meth:`SectorEvolution.rescaled`). A ``B`` too small
next to the other parameters to keep :math:`E_B` a normal double after that, a result outside
the double range, or a non-finite bound raise ``ValueError``.

For results sampled on a grid (``sesolve`` / ``mesolve``), :func:`grid_maximum` returns the
best sample with the grid error *estimated* from second differences (never ``converged``).

One module because the certificate is one argument: the rigorous derivative bounds, the Taylor-
certified peak and the branch and bound share one round-off model and one search state; split,
each part would reach into the others' internals.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import replace
from typing import Literal, NamedTuple

import numpy as np

from .. import _checks
from ..models.base import check_battery_model
from ..models.spin import CentralSpinModel
from ..models.thermal import ThermalMixture
from ..results import Maximum
from ..solvers.engines import closed_evolution
from ..solvers.estimates import choose_method
from ..solvers.mixture import MixtureEvolution
from ..solvers.sector import SectorEvolution
from .grid import grid_max_energy, grid_max_power

__all__ = ["max_power", "max_energy"]

#: What :func:`max_energy` maximises: the window's maximum, or the first local maximum.
Peak = Literal["window", "first"]
PEAKS = ("window", "first")
#: ``method`` of :func:`max_power` and :func:`max_energy`: certified, the TWA estimate, or
#: the choice between them by the resource estimate (that of ``charge``).
METHODS = ("exact", "twa", "auto")
#: Default relative accuracy of certified maxima (the issue's target is 1e-10).
CERTIFIED_RTOL = 1e-10
#: A window-doubling agreement threshold (a heuristic, used by the tests only, never a proof).
WINDOW_CONVERGENCE_RTOL = 1e-6
#: Scan resolution: samples per period :math:`2\pi M_{k+1}/M_{k+2}` of the derivative scale.
SAMPLES_PER_SCAN_PERIOD = 10
#: Largest number of samples of one scan (P: then an unconverged bracket; E: an error).
MAX_SCAN_POINTS = 20_000_000
#: P scan: samples without any gain above round-off before the search reports "no gain".
NO_GAIN_SCAN_POINTS = 200_000
#: Evaluations branch and bound may spend before it reports an unconverged bracket.
MAX_BRANCH_EVALUATIONS = 20_000_000
#: Evaluations spent on proving that the maximiser is unique (``time_bracket``).
MAX_BRACKET_EVALUATIONS = 200_000
#: A P scan longer than this many samples refines (coarsely, to REFINE_RTOL) what could beat
#: its best value so far, then again after 4x as many, ...: narrow lobes and a closer horizon.
REFINE_AFTER = 8192
REFINE_RTOL = 1e-3
#: E_max default window: doublings while no gain above round-off has been found.
MAX_WINDOW_DOUBLINGS = 8
#: Round-off of one evaluation of Delta E_B(t): this many ulps of its size S_0 = max(M_0, the
#: energy scale of the state) ...
ROUNDOFF_ULPS = 64
#: ... plus this many ulps of t (Lambda S_0 + M_1), the rounding of the phases lambda_a t
#: (measured against 40-digit arithmetic: <= 0.2 such ulps up to Lambda t ~ 1e4).
PHASE_ULPS = 2
#: A gain is resolved when it exceeds this many round-off floors.
RESOLVE_FACTOR = 4
#: A state is stationary to its own rounding when sum |rho_ab| (omega_ab != 0) is below this
#: many ulps per matrix element of its occupied sectors.
STATIONARY_ULPS = 64
#: Branch and bound splits each live interval into this many parts.
SPLIT = 16
#: Newton refinement of the best sample: at most this many steps ...
NEWTON_STEPS = 30
#: ... until its possible gain f'^2/(2a) is below this fraction of the tolerance.
NEWTON_GAIN_FRACTION = 0.1
#: Parameters with max(|B|, |h|, |A|, |delta|) outside 2^(+-this) are solved rescaled.
RESCALE_EXPONENT = 64
#: After rescaling, |B| below 2^(this) is too small for E_B to stay a normal double with room.
MIN_FIELD_EXPONENT = -480

_SAFE_LOW, _SAFE_HIGH = math.ldexp(1.0, -RESCALE_EXPONENT), math.ldexp(1.0, RESCALE_EXPONENT)
_SAFE_FIELD = math.ldexp(1.0, MIN_FIELD_EXPONENT + RESCALE_EXPONENT + 1)
_CLEAN_SAMPLE = 1e6  # a sample this far above its round-off is chosen by value alone
_CHUNK = 16
_MAX_CHUNK = 4096
_BATCH = 1 << 14
_PRUNE_EVERY = 1 << 16
_EPS, _TINY = float(np.finfo(float).eps), float(np.finfo(float).tiny)
_MIN_WIDTH_ULPS = 16


# -- entry points ---------------------------------------------------------------------------------
def evolution_of(model, psi0, engine=None) -> SectorEvolution | MixtureEvolution:
    """The exact closed evolution of ``psi0`` for any battery model (its
    :func:`~qutip_centralspin.solvers.engines.closed_evolution`), or on ``engine``
    (an engine built for ``model``, whose diagonalised sectors are reused).

    ``psi0``: every form the model accepts (a ``Qobj``, a label ``(m, c)``, ...).
    """
    model = check_battery_model(model)
    psi0 = model.as_state(psi0)
    if engine is None:
        return closed_evolution(model, psi0)[0]
    if isinstance(psi0, ThermalMixture):
        raise ValueError(
            f"engine must be None for a {type(psi0).__name__} (one engine per block), "
            f"got {type(engine).__name__}"
        )
    if engine.model != model:
        raise ValueError("engine was built for a different model")
    return engine.evolve(psi0)


def max_power(
    model,
    psi0,
    *,
    rtol: float = CERTIFIED_RTOL,
    engine=None,
    method: str = "exact",
    processes=None,
    options=None,
) -> Maximum:
    r"""Certified global :math:`P_{max} = \max_{t>0}\Delta E_B(t)/t` and its time :math:`\tau`.

    Parameters
    ----------
    model : CentralSpinModel
    psi0 : Qobj, tuple, dict or ThermalMixture
        Initial state, as accepted by :meth:`SectorEngine.evolve` (``(m, n)`` for
        :math:`|m,n\rangle`); or a Gibbs state of physical spins, a
        :class:`~qutip_centralspin.models.thermal.ThermalMixture`: of the charger spins
        (:func:`~qutip_centralspin.models.thermal.physical_thermal_charger`) or of the battery spins
        (:func:`~qutip_centralspin.models.thermal_battery.physical_thermal_state`), one engine per
        block :math:`(j_B, j_C)`; ``engine`` must then be ``None``. If that state left blocks
        out, the bracket is widened by what they can contribute and the time is not bracketed.
    rtol : float, default 1e-10
        Relative width of the certified bracket ``[value, upper_bound]`` (never below the
        round-off floor, see ``tolerance``).
    engine : SectorEngine, optional
        Reuse the diagonalised sectors of an engine built for ``model``.
    method : {"exact", "twa", "auto"}, default "exact"
        ``"exact"``: certified, as above. ``"twa"``: an *estimate*, not a bound, from truncated
        Wigner trajectories (:mod:`qutip_centralspin.maxima.estimates`) for sizes the exact
        engines do not reach: ``psi0`` a label, ``converged=False``, ``horizon=None``,
        ``upper_bound`` = value + 2 standard errors, ``reason`` "TWA estimate (N trajectories):
        ± standard error, not certified" (with the measured TWA error where it is above 2 %,
        :mod:`qutip_centralspin.solvers.twa_accuracy`); ``rtol`` and ``engine`` are not used.
        ``"auto"``: ``"exact"`` when the exact engine's resource estimate fits the memory
        limit (the decision of ``charge``,
        :func:`~qutip_centralspin.solvers.estimates.choose_method`; always with an ``engine``
        or a state other than a label), ``"twa"`` beyond; ``method`` of the result says which,
        and on the TWA path its ``reason`` says why.
    processes : Process or list of Process, optional
        Only with ``method="twa"`` (the certified path is closed; for open runs see
        :func:`~qutip_centralspin.maxima.open.open_max_power`, certified over a horizon).
    options : dict, optional
        With ``method="twa"`` or ``"auto"``: ``"ntraj"`` (default 1000), ``"seed"``, ``"map"``
        and the options of :func:`~qutip_centralspin.solvers.twa.twa_charge`; with ``"auto"``
        also ``"max_memory"`` (the limit of the decision, as for ``charge``).

    Returns
    -------
    Maximum
        ``value`` is :math:`P_{max}`, ``time`` is :math:`\tau`, ``time_bracket`` a proven
        bracket of :math:`\tau` (to round-off), ``horizon = inf``: the bracket holds for all
        :math:`t \ge 0`. A state that cannot gain energy gives ``value = 0``,
        ``time = inf`` (the supremum is approached as :math:`t\to\infty`). See
        :mod:`qutip_centralspin.maxima.certified` for ``converged`` and ``reason``.

    Raises
    ------
    ValueError
        If the result cannot be represented or resolved in double precision at any scale
        (a bound overflows, ``B`` is negligible next to the other parameters).

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, max_power
    >>> res = max_power(CentralSpinModel(n_battery=1, n_charger=4), (0, 2))
    >>> round(res.value, 10)  # c* sqrt(b_{4,2}) = c* sqrt(6)
    1.7749280786
    """
    path, why = _check_method(model, psi0, method, engine, processes, options)
    if path == "twa":
        from .estimates import twa_max_power

        result = twa_max_power(model, psi0, processes or (), options=_twa_options(options))
        return _chosen(result, why)
    rtol = _checks.positive_real("rtol", rtol)
    evo = evolution_of(model, psi0, engine)
    return with_caveat(model, evo, certified_max_power(evo, rtol=rtol))


#: Points of the time grid the exact engine's resource estimate is made for (its buffers).
_ESTIMATE_TIMES = 2


def _check_method(model, psi0, method, engine, processes, options) -> tuple[str, str | None]:
    """``method`` checked, the TWA-only arguments refused on the exact path, and the path
    taken: ``("exact" | "twa", why)``, ``why`` set when ``method="auto"`` chose the TWA."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}; got {method!r}")
    if method == "twa" and engine is not None:
        raise ValueError(f"engine must be None with method='twa', got {type(engine).__name__}")
    if method == "auto" and processes:
        raise ValueError(
            "processes are not taken with method='auto': the certified maxima of open runs hold "
            "over a horizon (maxima.open.open_max_power); method='twa' estimates them; got "
            f"processes={processes!r} with method='auto'"
        )
    if method == "exact":
        for name, value in (("processes", processes), ("options", options)):
            if value:
                raise ValueError(
                    f"{name} is only taken with method='twa' or 'auto' (the certified maxima "
                    "are of closed runs; open runs: maxima.open.open_max_power); got "
                    f"{name}={value!r} with method='exact'"
                )
    if method != "auto":
        return method, None
    from .estimates import check_options

    check_options(options, "auto")  # refused on either path, not only on the TWA's
    if engine is not None:
        return "exact", None
    path, why = choose_method(model, psi0, _ESTIMATE_TIMES, "auto", options=options)
    return path, (why if path == "twa" else None)


def _chosen(result: Maximum, why: str | None) -> Maximum:
    """A TWA estimate that ``method="auto"`` chose, with why in its ``reason``."""
    if why is None:
        return result
    return replace(result, reason=f"{result.reason}; chosen by method='auto' ({why})")


def _twa_options(options) -> dict | None:
    """``options`` without ``"max_memory"`` (the decision's limit, not the TWA's)."""
    if not isinstance(options, dict) or "max_memory" not in options:
        return options
    return {k: v for k, v in options.items() if k != "max_memory"}


def with_caveat(model, evo, result: Maximum) -> Maximum:
    """``result``, not converged and with the model's caveat as ``reason`` where the model
    certifies only a truncation of itself (e.g. the Dicke charger's photon cutoff,
    :meth:`~qutip_centralspin.models.base.BatteryModel.certification_caveat`)."""
    caveat = model.certification_caveat(evo)
    if not caveat:
        return result
    reason = f"{result.reason}; {caveat}" if result.reason else caveat
    return dataclasses.replace(result, converged=False, reason=reason)


def certified_max_power(evo: SectorEvolution, *, rtol: float = CERTIFIED_RTOL) -> Maximum:
    """:func:`max_power` for an already prepared :class:`SectorEvolution`.

    Structural zeros (a stationary state, no room above :math:`E_B(0)`) are decided in constant
    time. If no gain above round-off is seen within :data:`NO_GAIN_SCAN_POINTS` samples, or the
    horizon :math:`D^*/P_{best}` needs more than :data:`MAX_SCAN_POINTS`, the result is the best
    value found (``0`` only if nothing above round-off was seen), its time and a rigorous upper
    bound for all times, with ``converged=False`` and the ``reason``.
    """
    if not getattr(evo, "certifiable", True):  # sparse sectors: no spectrum, an estimate
        return grid_max_power(evo)
    scaled, shift = _rescaled(evo)
    result = _max_power(scaled, rtol)
    result = _scale_back(result, shift, power=True) if shift else result
    return _with_neglected(result, getattr(evo, "power_error_bound", 0.0), evo)


def max_energy(
    model,
    psi0,
    *,
    window: float | None = None,
    rtol: float = CERTIFIED_RTOL,
    engine=None,
    peak: Peak = "window",
    method: str = "exact",
    processes=None,
    options=None,
) -> Maximum:
    r"""Certified :math:`E_{max} = \max_{0\le t\le T_w}\Delta E_B(t)`, or the first peak.

    Parameters
    ----------
    model, psi0, engine
        As for :func:`max_power`.
    window : float, optional
        :math:`T_w`. Default: :math:`2\pi/g_{min}`, one period of the slowest beat between
        neighbouring levels of the occupied sectors, doubled (at most
        :data:`MAX_WINDOW_DOUBLINGS` times) while no gain above round-off is found on it; then
        extended to :math:`D^*/P_{seen}` (:math:`P_{seen}` the best power of its samples) so
        that it holds the time :math:`\tau` of :math:`P_{max}` (no later time can have a
        larger power, :math:`P_B(t) \le D^*/t`), hence
        :math:`E_{max} \ge \Delta E_B(\tau) = P_{max}\tau`; and doubled while the maximum sits
        at its end with :math:`\Delta E_B` still rising (if it still does, ``converged=False``).
        A window you give is searched as given: the maximum over it may sit at its end.
        With ``peak="first"``: where the search for the first peak stops (default
        :math:`2^8 \cdot 2\pi/g_{min}`).
    rtol : float, default 1e-10
        Relative width of the certified bracket (never below the round-off floor).
    method, processes, options
        As for :func:`max_power`. ``method="twa"`` estimates the *first* peak only (the TWA
        is validated for the first charge): ``peak`` must be ``"first"`` and ``window``
        ``None``; an estimate, not a bound (``upper_bound`` = value + 2 standard errors).
        So must they with ``method="auto"`` (either path may be taken).
    peak : {"window", "first"}, default "window"
        ``"window"``: the maximum over the window. ``"first"``: the first local maximum of
        :math:`\Delta E_B(t)` for :math:`t > 0`, the charging time of Ferraro et al.,
        PRL 120, 117702 (2018): the smallest :math:`\tau > 0` at which :math:`\dot E_B`
        changes sign from positive to negative (an analytic :math:`\Delta E_B` has isolated
        critical points: no plateaus unless :math:`E_B` is constant). It is proven first: on
        every interval before it :math:`\dot E_B > 0`, :math:`\dot E_B < 0` or
        :math:`\ddot E_B > 0` holds (Taylor bounds of :math:`\dot E_B` at the midpoint with
        :math:`|E_B^{(4)}| \le M_4`), and on the interval that holds it
        :math:`\ddot E_B < 0` and :math:`\dot E_B` changes sign once. A start that falls
        (:math:`\dot E_B(0) = 0` to round-off, :math:`\ddot E_B < 0`) has no peak at
        :math:`t = 0^+`. The value can be negative (a state that discharges before its first
        peak). A state that cannot gain energy (stationary, or every occupied sector at its
        top level: :math:`\Delta E_B \le 0` at all times) has no charging peak:
        ``value = 0``, ``time = 0`` (:math:`\tau = t_0`), ``time_bracket = None``,
        ``converged=True``. If the sign of :math:`\dot E_B` cannot be resolved (a constant
        :math:`E_B` the bounds cannot tell from a moving one) or no peak comes before the end
        of the search: ``value = 0``, ``time = inf``, ``converged=False`` and the ``reason``.

    Returns
    -------
    Maximum
        ``peak="window"``: ``window`` is :math:`(0, T_w)`. ``converged=True`` means the
        bracket is proven to the tolerance over ``[0, horizon]``: ``horizon = T_w``
        (certified on the window), or ``inf`` when ``value`` reaches the global ceiling
        :math:`D^*` of :math:`\Delta E_B` (then it is the maximum over all :math:`t \ge 0`).
        A longer window can hold a larger value unless ``horizon = inf``. ``time_bracket``
        holds every time of the window where the maximum can be attained.
        ``peak="first"``: ``value`` is :math:`\Delta E_B(\tau)`, ``upper_bound`` bounds it,
        ``time_bracket`` holds :math:`\tau` (to round-off) and ``window`` is
        :math:`(0, \tau_{hi})`; ``horizon`` is :math:`\tau_{hi}` when ``value >= 0`` (no
        other maximum before it: :math:`\Delta E_B \le` ``upper_bound`` on
        :math:`[0, \tau_{hi}]`), else ``None``. See :mod:`qutip_centralspin.maxima.certified`.

    Raises
    ------
    ValueError
        As :func:`max_power`; for an unknown ``peak``.
    RuntimeError
        If ``window`` needs more than :data:`MAX_SCAN_POINTS` samples.
    """
    peak = _check_peak(peak)
    if method in ("twa", "auto") and (peak != "first" or window is not None):
        raise ValueError(
            f"method={method!r} estimates the first peak only on its TWA path (validated for "
            "the first charge): peak must be 'first' and window None, got "
            f"peak={peak!r}, window={window!r}"
        )
    path, why = _check_method(model, psi0, method, engine, processes, options)
    if path == "twa":
        from .estimates import twa_max_energy

        result = twa_max_energy(model, psi0, processes or (), options=_twa_options(options))
        return _chosen(result, why)
    rtol = _checks.positive_real("rtol", rtol)
    evo = evolution_of(model, psi0, engine)
    if window is not None:
        window = _checks.positive_real("window", window)
    return with_caveat(model, evo, certified_max_energy(evo, window=window, rtol=rtol, peak=peak))


def _check_peak(peak) -> str:
    if peak not in PEAKS:
        raise ValueError(f"peak must be one of {', '.join(map(repr, PEAKS))}; got {peak!r}")
    return peak


def certified_max_energy(
    evo: SectorEvolution,
    *,
    window: float | None = None,
    rtol: float = CERTIFIED_RTOL,
    peak: Peak = "window",
) -> Maximum:
    """:func:`max_energy` for an already prepared :class:`SectorEvolution`."""
    peak = _check_peak(peak)
    if not getattr(evo, "certifiable", True):  # sparse sectors: no spectrum, an estimate
        return grid_max_energy(evo, window=window, peak=peak)
    scaled, shift = _rescaled(evo)
    if window is not None and shift:
        window = math.ldexp(window, shift)  # H / 2^k runs 2^k times slower
    if peak == "first":
        result = _first_energy_peak(scaled, window, rtol)
    else:
        result = _max_energy(scaled, window, rtol)
    result = _scale_back(result, shift, power=False) if shift else result
    result = _with_neglected(result, getattr(evo, "energy_error_bound", 0.0), evo)
    if peak == "first" and result.converged and result.time_bracket is None and result.time > 0:
        # parts of the state were left out: their motion can move or add a local maximum
        result = replace(
            result,
            converged=False,
            reason="the first peak of a mixture with left-out parts is not located",
        )
    return result


def _with_neglected(result: Maximum, error: float, evo) -> Maximum:
    """The bracket of a :class:`MixtureEvolution` with parts left out, widened by ``error``
    (what the left-out parts can add to or take from the value at any time): the value is
    lowered and the upper bound raised by it, the tolerance grows by twice it, and the time
    is no longer bracketed (the maximiser of the whole may sit anywhere the kept parts come
    within 2 ``error`` of their maximum)."""
    if not isinstance(evo, MixtureEvolution) or not error > 0:
        return result
    tolerance = None if result.tolerance is None else result.tolerance + 2 * error
    return Maximum(
        result.value - error,
        result.time,
        result.upper_bound + error,
        result.window,
        result.converged,
        time_bracket=None,
        horizon=result.horizon,
        tolerance=tolerance,
        reason=result.reason,
    )


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


# -- scale ------------------------------------------------------------------------------------------
def _rescaled(evo):
    """``(evolution to certify, k)``: the model's ``H / 2^k`` when its parameters are extreme.

    Results of the rescaled evolution are energies times ``2^-k`` (powers ``2^-2k``) and times
    times ``2^k``; :func:`_scale_back` undoes that exactly.
    """
    model = evo.model
    rescalable = type(evo) is SectorEvolution or isinstance(evo, MixtureEvolution)
    if not rescalable or not isinstance(model, CentralSpinModel):
        return evo, 0
    size = max(abs(model.B), abs(model.h), abs(model.A), abs(model.delta))
    small = min(abs(model.B), abs(model.A) if model.A != 0 else math.inf)
    if _SAFE_LOW < size < _SAFE_HIGH and small > _SAFE_FIELD * size:
        return evo, 0  # the common case, decided in a few comparisons
    params = {"B": model.B, "h": model.h, "A": model.A, "delta": model.delta}
    largest = max(params, key=lambda name: abs(params[name]))
    size = abs(params[largest])
    if size == 0:
        return evo, 0
    exponent = math.frexp(size)[1]
    shift = exponent if abs(exponent) > RESCALE_EXPONENT else 0
    for name in ("B", "A"):  # the battery energy and the coupling set P and its time scale
        field = abs(math.ldexp(params[name], -shift))
        if 0 < field < math.ldexp(1.0, MIN_FIELD_EXPONENT):
            raise ValueError(
                f"{name} = {params[name]:.3g} is too small next to {largest} = "
                f"{params[largest]:.3g} (ratio {abs(params[name]) / size:.3g}): energies and "
                "times of the certified search would leave double precision; choose "
                "parameters within ~1e140 of each other"
            )
    if shift == 0:
        return evo, 0
    return evo.rescaled(-shift), shift


def _scale_back(result: Maximum, shift: int, *, power: bool) -> Maximum:
    """Map a result of ``H / 2^k`` back: energies times 2^k (powers 2^2k), times over 2^k."""
    k = 2 * shift if power else shift

    def value(x):
        if x is None:
            return None
        try:
            return math.ldexp(x, k)
        except OverflowError:
            name = "P_max" if power else "E_max"
            raise ValueError(
                f"{name} = {x:.6g} * 2^{k} is outside the double range; reduce the energies "
                "B, h, A, delta"
            ) from None

    def time(x):
        return None if x is None else math.ldexp(x, -shift)

    bracket = result.time_bracket
    return Maximum(
        value(result.value),
        time(result.time),
        value(result.upper_bound),
        (time(result.window[0]), time(result.window[1])),
        result.converged,
        None if bracket is None else (time(bracket[0]), time(bracket[1])),
        time(result.horizon),
        value(result.tolerance),
        result.reason,
    )


# -- rigorous constants ------------------------------------------------------------------------------
class _Bounds:
    """The rigorous constants of one evolution and the round-off model of its evaluations."""

    def __init__(self, evo):
        self.evo = evo
        moments = tuple(evo.derivative_bound(k) for k in range(5))
        self.m = moments
        self.levels = evo.max_level()
        self.ceiling = evo.energy_ceiling()
        self.rate0 = evo.initial_rate()
        checked = (*moments, self.levels, self.ceiling, self.rate0, evo.initial_energy)
        if not all(map(math.isfinite, checked)):
            raise ValueError(
                "cannot certify the maximum: the derivative bounds M_k, the levels, the energy "
                "ceiling, E_B(0) or dE_B/dt(0) overflow (not finite); the energies B, h, A, "
                "delta or the Bohr frequencies leave the double range"
            )
        for k in range(2, 5):  # E_B moves (M_1 > 0): every M_k > 0; a zero is an underflow
            if moments[k - 1] > 0 and moments[k] < sys.float_info.min:
                raise ValueError(
                    f"cannot certify the maximum: the derivative bound M_{k} = {moments[k]:.3g} "
                    f"underflows (M_{k - 1} = {moments[k - 1]:.3g}): the time scale of the "
                    "dynamics is too far from the energy scale for double precision (e.g. A "
                    "tiny next to B or h); bring the parameters closer together"
                )
        self.size = max(moments[0], evo.energy_scale())
        self.omega = evo.max_frequency()
        self.oscillation = evo.oscillation_amplitude()
        #: what the dropped negligible amplitudes can add to E_B^(k), k = 0..3 (0 if none)
        self.truncation = tuple(evo.truncation_bound(k) for k in range(4))
        #: round-off of the ceiling D itself
        self.ceiling_floor = ROUNDOFF_ULPS * _EPS * self.size
        #: error of Delta E_B near t = 0: round-off and truncation
        self.floor = self.ceiling_floor + self.truncation[0]
        #: error(t) = floor + slope * t for Delta E_B
        self.slope = PHASE_ULPS * _EPS * (self.levels * self.size + moments[1])
        mean = evo.time_average_energy() - evo.initial_energy
        #: D*: sup of Delta E_B over all t >= 0, round-off included
        self.gain_bound = min(self.ceiling, mean + self.oscillation) + self.floor
        self.rate_error = ROUNDOFF_ULPS * _EPS * moments[1] + self.truncation[1]

    def error(self, t, order: int = 0):
        """Round-off (and truncation) error of the ``order``-th derivative of E_B (or of
        Delta E_B) evaluated at t."""
        if order == 0:
            return self.floor + self.slope * t
        size = self.m[order]
        phase = t * (self.levels * size + self.m[order + 1])
        return _EPS * (ROUNDOFF_ULPS * size + PHASE_ULPS * phase) + self.truncation[order]

    def energy_errors(self, t: float):
        return self.error(t, 0), self.error(t, 1), self.error(t, 2)

    def energy_noise(self, t):
        return self.error(np.asarray(t, dtype=float))

    def power_noise(self, t):
        """Round-off of P = Delta E_B / t at the times t (of dE_B/dt(0) at t = 0)."""
        t = np.asarray(t, dtype=float)
        positive = t > 0
        return np.where(positive, self.error(t) / np.where(positive, t, 1.0), self.rate_error)

    def power_errors(self, t: float):
        """Round-off of P, P', P'' at t > 0 (from P^(k) = (Delta E^(k) - k P^(k-1)) / t)."""
        p0 = self.error(t, 0) / t
        p1 = (self.error(t, 1) + p0) / t
        return p0, p1, (self.error(t, 2) + 2 * p1) / t

    def power_derivative_bound(self, order: int) -> float:
        r"""Bound on :math:`|P_B^{(k)}(t)|` for all :math:`t > 0`, ``order`` = k:
        :math:`M_{k+1}/(k+1)`, from :math:`P_B^{(k)}(t) = \int_0^1 u^k E_B^{(k+1)}(ut)\,du`
        (attained as :math:`t \to 0` when one frequency dominates: :math:`P_B^{(k)}(0) =
        E_B^{(k+1)}(0)/(k+1)`)."""
        return self.m[order + 1] / (order + 1)

    def power_cap(self, gain: float) -> float:
        r"""Bound on P_B for all t when :math:`\Delta E_B \le` ``gain``: the largest
        :math:`\min(g/t, \dot E_B(0) + M_2 t/2)`, and :math:`M_1`."""
        rate = self.rate0 + self.rate_error
        if gain <= 0:
            return max(rate, 0.0)
        return min(0.5 * (rate + math.sqrt(rate * rate + 2 * self.m[2] * gain)), self.m[1])

    def structural(self, power: bool, window: float) -> Maximum | None:
        """The answers decided without a scan: ``E_B`` constant, no room above ``E_B(0)``,
        stationary to round-off (all converged, value 0), or a gain below round-off (not)."""
        evo = self.evo
        if self.omega == 0 or self.oscillation == 0:
            return _zero(power, window, 0.0, "")
        if self.ceiling <= self.ceiling_floor:
            # every occupied sector sits at its top level (D = 0 up to the round-off of D):
            # Delta E_B <= 0 and P_B <= 0 for all t, exactly 0 at t = 0 and as t -> inf
            return _zero(power, window, 0.0, "")
        if self.gain_bound > RESOLVE_FACTOR * self.floor:
            return None
        upper = self.power_cap(self.gain_bound) if power else self.gain_bound
        elements = sum(sec.energies.size**2 for sec in evo.occupied_sectors)
        if evo.coherence() <= STATIONARY_ULPS * _EPS * elements:
            return _zero(power, window, upper, "")  # stationary to the state's own rounding
        return _zero(
            power,
            window,
            upper,
            f"not resolvable in double precision: Delta E_B(t) <= {self.gain_bound:.3g} at all "
            f"times, below the round-off floor {RESOLVE_FACTOR * self.floor:.3g} of E_B "
            f"(|E_B(0)| = {abs(evo.initial_energy):.3g}); the state does evolve",
        )


def _zero(power: bool, window: float, upper: float, reason: str) -> Maximum:
    """``value = 0`` decided by structure: converged iff ``reason`` is empty."""
    return Maximum(
        0.0,
        math.inf if power else 0.0,
        float(upper),
        (0.0, math.inf if power else float(window)),
        converged=not reason,
        time_bracket=None,
        horizon=math.inf,
        tolerance=None if reason else float(upper),
        reason=reason,
    )


# -- the peak -----------------------------------------------------------------------------------------
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


# -- branch and bound ----------------------------------------------------------------------------------
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


# -- P_max ------------------------------------------------------------------------------------------
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


# -- E_max -----------------------------------------------------------------------------------------------
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


# -- the first local maximum of Delta E_B ------------------------------------------------------------
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


# -- a maximum over a window from a curvature bound (used for the ergotropy) ----------------------
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
