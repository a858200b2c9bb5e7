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

Where the parts live: the entry points and the rescaling here; the round-off model in
:mod:`~qutip_centralspin.maxima.bounds`, the Taylor-certified peak in
:mod:`~qutip_centralspin.maxima.peak`, branch and bound and the scan helpers in
:mod:`~qutip_centralspin.maxima.search`, the ``P_max`` search in
:mod:`~qutip_centralspin.maxima.power`, the ``E_max`` search in
:mod:`~qutip_centralspin.maxima.energy`, the first peak in
:mod:`~qutip_centralspin.maxima.first_peak`, and the maximum of an envelope over a window
(ergotropy, open runs) in :mod:`~qutip_centralspin.maxima.window`. Their public names are
re-exported here for reading; a test that patches a constant patches it in the module that reads
it.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import replace
from typing import Literal

from .. import _checks
from ..models.base import check_battery_model
from ..models.spin import CentralSpinModel
from ..models.thermal import ThermalMixture
from ..results import Maximum
from ..solvers.engines import closed_evolution
from ..solvers.estimates import choose_method
from ..solvers.mixture import MixtureEvolution
from ..solvers.sector import SectorEvolution
from .bounds import PHASE_ULPS as PHASE_ULPS
from .bounds import RESOLVE_FACTOR as RESOLVE_FACTOR
from .bounds import ROUNDOFF_ULPS as ROUNDOFF_ULPS
from .bounds import STATIONARY_ULPS as STATIONARY_ULPS
from .energy import MAX_WINDOW_DOUBLINGS as MAX_WINDOW_DOUBLINGS
from .energy import _max_energy
from .energy import default_window as default_window
from .first_peak import FIRST_PEAK_STEPS as FIRST_PEAK_STEPS
from .first_peak import MAX_FIRST_PEAK_EVALUATIONS as MAX_FIRST_PEAK_EVALUATIONS
from .first_peak import _first_energy_peak
from .grid import grid_max_energy, grid_max_power
from .peak import NEWTON_GAIN_FRACTION as NEWTON_GAIN_FRACTION
from .peak import NEWTON_STEPS as NEWTON_STEPS
from .power import NO_GAIN_SCAN_POINTS as NO_GAIN_SCAN_POINTS
from .power import REFINE_AFTER as REFINE_AFTER
from .power import REFINE_RTOL as REFINE_RTOL
from .power import _max_power
from .search import MAX_BRACKET_EVALUATIONS as MAX_BRACKET_EVALUATIONS
from .search import MAX_BRANCH_EVALUATIONS as MAX_BRANCH_EVALUATIONS
from .search import MAX_SCAN_POINTS as MAX_SCAN_POINTS
from .search import SAMPLES_PER_SCAN_PERIOD as SAMPLES_PER_SCAN_PERIOD
from .search import SPLIT as SPLIT
from .window import LOCATE_ATTEMPTS as LOCATE_ATTEMPTS
from .window import MAX_WINDOW_EVALUATIONS as MAX_WINDOW_EVALUATIONS
from .window import START_FRACTION as START_FRACTION
from .window import certified_first_maximum as certified_first_maximum
from .window import certified_window_maximum as certified_window_maximum

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
#: Parameters with max(|B|, |h|, |A|, |delta|) outside 2^(+-this) are solved rescaled.
RESCALE_EXPONENT = 64
#: After rescaling, |B| below 2^(this) is too small for E_B to stay a normal double with room.
MIN_FIELD_EXPONENT = -480

_SAFE_LOW, _SAFE_HIGH = math.ldexp(1.0, -RESCALE_EXPONENT), math.ldexp(1.0, RESCALE_EXPONENT)
_SAFE_FIELD = math.ldexp(1.0, MIN_FIELD_EXPONENT + RESCALE_EXPONENT + 1)


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
