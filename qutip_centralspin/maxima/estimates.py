r"""Estimated (not certified) :math:`P_{max}`, :math:`\tau` and the first :math:`E_{max}` by the TWA.

The door of :func:`~qutip_centralspin.max_power` and :func:`~qutip_centralspin.max_energy` with
``method="twa"``, for sizes the exact engines do not reach. The truncated Wigner approximation
(:func:`~qutip_centralspin.solvers.twa.twa_charge`) is validated for the *first* charge only,
where both maxima sit when charging from :math:`|0, N\rangle`; its measured error is in
``docs/twa_accuracy.md`` (:mod:`qutip_centralspin.solvers.twa_accuracy`).

The grid is chosen automatically, in two runs of the same seed tree:

1. **Pilot** (``min(ntraj, PILOT_NTRAJ)`` trajectories, :data:`PILOT_POINTS` samples): the
   window starts at ``1 / rate`` (the fastest precession or dissipation rate of the model) and
   doubles until :math:`\Delta E_B` passes its first maximum (the TWA's
   ``stats["first charge"]``), at most :data:`MAX_DOUBLINGS` times.
2. **Final** (``ntraj`` trajectories): :data:`FINAL_POINTS` samples up to
   :data:`WINDOW_MARGIN` times the pilot's first charge, plus :data:`FINE_POINTS` samples
   within two pilot steps of the pilot's :math:`\tau` and of its first charge (the refinement).

``value`` is the best sample of the final run's mean, ``upper_bound`` the value plus two of
its standard errors: an *estimate* of a 2-sigma statistical bracket, not a bound (the TWA's
systematic error, measured above, is not in it). ``converged`` is always ``False``,
``horizon`` ``None``; ``reason`` says it is an estimate and, where the size is outside the
validated region (:mod:`qutip_centralspin.solvers.twa_accuracy`), the measured error, which is
also warned (a :class:`~qutip_centralspin.solvers.twa_accuracy.TWAAccuracyWarning`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _checks
from ..models.processes import as_processes
from ..results import Maximum
from ..solvers import twa, twa_accuracy

__all__ = ["twa_max_power", "twa_max_energy", "twa_maxima", "TWA_OPTIONS"]

#: ``options`` of the TWA estimates: trajectories, seed and map, the rest of ``twa_charge``'s.
TWA_OPTIONS = ("ntraj", "seed", "map", *twa.OPTIONS)
#: Trajectories of the pilot run that locates the first charge.
PILOT_NTRAJ = 200
#: Samples per window of the pilot.
PILOT_POINTS = 41
#: Samples of the final run over the whole window, and around each refined point.
FINAL_POINTS = 61
FINE_POINTS = 41
#: The final window ends at this multiple of the pilot's first charge (below the TWA's warning).
WINDOW_MARGIN = 1.25
#: Most doublings of the pilot window.
MAX_DOUBLINGS = 40
#: Multiple of the standard error added to ``value`` for ``upper_bound``.
SIGMAS = 2.0


def check_options(options, method: str = "twa") -> dict:
    """``options`` of the TWA maxima checked (``method="auto"`` also takes ``"max_memory"``,
    the limit of its decision)."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ValueError(f"options must be a dict or None, got {type(options).__name__}")
    allowed = (*TWA_OPTIONS, "max_memory") if method == "auto" else TWA_OPTIONS
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"options with method={method!r} must be among {', '.join(allowed)}; got {unknown}"
        )
    return dict(options)


def _run(model, psi0, times, processes, ntraj, seed, opts):
    rest = {k: v for k, v in opts.items() if k not in ("ntraj", "seed", "map")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # windows are cut at the first charge
        return twa.twa_charge(
            model,
            psi0,
            times,
            processes,
            ntraj=ntraj,
            seed=seed,
            map=opts.get("map"),
            options=rest or None,
        )


def twa_maxima(model, psi0, processes=(), *, options=None) -> tuple[Maximum, Maximum]:
    r"""TWA estimates of :math:`(P_{max}, \tau)` and of the first peak of :math:`\Delta E_B`.

    Parameters
    ----------
    model : CentralSpinModel or CavityModel
    psi0 : tuple of int or SpinCoherentLabel
        A label, as for :func:`~qutip_centralspin.solvers.twa.twa_charge`.
    processes : Process or list of Process
    options : dict, optional
        ``"ntraj"`` (default 1000), ``"seed"``, ``"map"`` and the options of ``twa_charge``.

    Returns
    -------
    (Maximum, Maximum)
        :math:`P_{max}` and the first :math:`E_{max}`: estimates (module notes), ``converged``
        ``False``, ``horizon`` ``None``, ``upper_bound`` = value + 2 standard errors (not a
        bound).

    Raises
    ------
    ValueError
        Naming the option or argument, the allowed values and the value received;
        ``RuntimeError`` if no first maximum of :math:`\Delta E_B` is found.
    """
    opts = check_options(options)
    ntraj = _checks.positive_int("options['ntraj']", opts.get("ntraj", 1000))
    if ntraj < 2:
        raise ValueError(f"options['ntraj'] must be an integer >= 2, got {ntraj!r}")
    processes = as_processes(processes)
    pilot_seed, final_seed = twa._seed_sequence(opts.get("seed")).spawn(2)
    label = twa._initial_label(model, psi0)
    battery, charger = twa._groups(model, processes)
    window = 1.0 / twa._fastest_rate(model, label, battery, charger)
    pilot_n = min(ntraj, PILOT_NTRAJ)
    for _ in range(MAX_DOUBLINGS):
        times = np.linspace(0.0, window, PILOT_POINTS)
        pilot = _run(model, psi0, times, processes, pilot_n, pilot_seed, opts)
        first = pilot.stats["first charge"]
        if first is not None:
            break
        window *= 2
    else:
        raise RuntimeError(
            f"no first maximum of Delta E_B within t = {window / 2:.3g} (TWA pilot run): "
            "the state does not charge"
        )
    step = times[1] - times[0]
    tau = pilot.times[1 + int(np.argmax(pilot.power[1:]))]
    end = WINDOW_MARGIN * first
    grid = [np.linspace(0.0, end, FINAL_POINTS)]
    for centre in (tau, first):
        grid.append(np.linspace(max(centre - 2 * step, step / 8), centre + 2 * step, FINE_POINTS))
    times = np.unique(np.concatenate(grid))
    times = times[times <= end]
    result = _run(model, psi0, times, processes, ntraj, final_seed, opts)
    err = result.stats["standard error"]
    reason = f"TWA estimate ({ntraj} trajectories): ± {{:.3g}} (standard error), not certified"
    note = twa_accuracy.accuracy_note(model, psi0)
    if note is not None:  # the runs' own warnings are silenced above: said once, here
        warnings.warn(note, twa_accuracy.TWAAccuracyWarning, stacklevel=3)
        reason += f"; {note}"
    window = (0.0, float(times[-1]))
    i = 1 + int(np.argmax(result.power[1:]))
    p_err = float(err["power"][i])
    power = Maximum(
        value=float(result.power[i]),
        time=float(times[i]),
        upper_bound=float(result.power[i] + SIGMAS * p_err),
        window=window,
        converged=False,
        horizon=None,
        reason=reason.format(p_err),
        method="twa",
    )
    k = int(np.argmax(result.delta_energy))
    e_err = float(err["delta_energy"][k])
    energy = Maximum(
        value=float(result.delta_energy[k]),
        time=float(times[k]),
        upper_bound=float(result.delta_energy[k] + SIGMAS * e_err),
        window=window,
        converged=False,
        horizon=None,
        reason=reason.format(e_err),
        method="twa",
    )
    if not math.isfinite(power.value) or not math.isfinite(energy.value):
        raise RuntimeError("the TWA run gave a non-finite maximum")
    return power, energy


def twa_max_power(model, psi0, processes=(), *, options=None) -> Maximum:
    r""":math:`P_{max}` and :math:`\tau` estimated by the TWA (:func:`twa_maxima`)."""
    return twa_maxima(model, psi0, processes, options=options)[0]


def twa_max_energy(model, psi0, processes=(), *, options=None) -> Maximum:
    r"""The first peak of :math:`\Delta E_B` estimated by the TWA (:func:`twa_maxima`)."""
    return twa_maxima(model, psi0, processes, options=options)[1]
