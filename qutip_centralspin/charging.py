r"""``charge(...)``: one entry point for every solver; it chooses a path, nothing else.

.. code-block:: python

    result = charge(model, psi0, tlist)                       # exact sector engine
    result = charge(model, psi0, tlist, solver="sesolve")     # QuTiP reference path
    result = charge(model, psi0, tlist, c_ops=[...])          # open system, qutip.mesolve
    result = charge(model, psi0, tlist, processes=[dephasing(0.1)])  # open, block solver

Every path returns a :class:`~qutip_centralspin.results.ChargingResult` filled the same way,
with the time-origin convention of :mod:`qutip_centralspin.results`.
"""

from __future__ import annotations

import time
from typing import Literal

from . import _checks, _progress
from .models.base import BatteryModel, check_battery_model
from .models.processes import as_processes
from .models.protocols import PiecewiseConstant
from .models.spin import CentralSpinModel
from .models.states import check_state
from .models.thermal import ThermalMixture
from .results import ChargingResult
from .solvers import blocks, references
from .solvers.engines import closed_evolution, open_solver
from .solvers.estimates import METHODS, choose_method, estimate
from .solvers.exact import OPTIONS as OPTIONS_EXACT
from .solvers.exact import charge_exact, charge_mixture, closed_result
from .solvers.qutip_paths import evolve_qutip
from .solvers.switched import charge_switched

__all__ = ["charge", "Solver", "Method"]

Solver = Literal["auto", "exact", "sesolve", "mesolve", "blocks", "piqs", "bruteforce"]
Method = Literal["exact", "twa", "auto"]
#: ``options`` of the TWA path that are not QuTiP's (the rest go to ``twa_charge``).
TWA_KEYS = ("ntraj", "seed", "map")
SOLVERS: tuple[str, ...] = ("auto", "exact", "sesolve", "mesolve", "blocks", "piqs", "bruteforce")
#: Solvers that take ``processes``.
PROCESS_SOLVERS = ("auto", "blocks", "mesolve", "piqs", "bruteforce")
_OPEN = {
    "auto": blocks.charge_blocks,
    "blocks": blocks.charge_blocks,
    "mesolve": references.symmetric_mesolve,
    "piqs": references.piqs_mesolve,
    "bruteforce": references.bruteforce_mesolve,
}


def charge(
    model: BatteryModel,
    psi0,
    tlist,
    *,
    c_ops=None,
    e_ops=None,
    solver: Solver = "auto",
    options: dict | None = None,
    processes=None,
    coupling=None,
    method: Method = "exact",
) -> ChargingResult:
    r"""Charge the battery from ``psi0`` and record :math:`\Delta E_B(t)` and :math:`P_B(t)`.

    Parameters
    ----------
    model : BatteryModel
        Any battery model (:mod:`qutip_centralspin.models.base`): the spin charger
        :class:`~qutip_centralspin.CentralSpinModel` (every solver below), the Tavis-Cummings
        charger :class:`~qutip_centralspin.models.cavity.CavityModel` (its exact engine, or with
        ``processes``, e.g. :func:`~qutip_centralspin.solvers.cavity_blocks.cavity_loss`,
        and/or a piecewise-constant ``coupling`` the cavity block solver) or the Dicke charger
        :class:`~qutip_centralspin.models.dicke.DickeChargerModel` (closed only: its exact
        parity-sector engine at a checked photon cutoff).
    psi0 : Qobj, tuple or ThermalMixture
        Initial ket or density matrix on the model's space (see
        :mod:`qutip_centralspin.models.states`), or the label ``(m, c)`` of the product
        :math:`|m\rangle_B|c\rangle_C` (:math:`m` flipped battery spins, :math:`c` flipped
        charger spins or photons): the state at ``tlist[0]``. A cavity charger also takes a
        :class:`~qutip_centralspin.models.cavity.CavityState`. Or a Gibbs state of physical spins
        (:class:`~qutip_centralspin.models.thermal.ThermalMixture`: the charger's,
        :func:`~qutip_centralspin.models.thermal.physical_thermal_charger`, or the battery's and the
        whole system's, :func:`~qutip_centralspin.models.thermal_battery.physical_thermal_state`):
        exact closed path only, ``states`` and ``e_ops`` then see the battery's
        :math:`\rho_B(t)` in the ``qutip.piqs`` Dicke basis (as with ``processes``).
    tlist : array_like
        Increasing times :math:`\ge 0` (units of 1/energy, :math:`\hbar = 1`). As in QuTiP,
        ``psi0`` is the state at :math:`t_0` = ``tlist[0]`` (the start of charging): on every
        path :math:`\Delta E_B` is measured from it and :math:`P_B = \Delta E_B/(t - t_0)`,
        with its limit :math:`\dot E_B(t_0)` at :math:`t_0`.
    c_ops : list of Qobj, optional
        Collapse operators :math:`L_k` of a Lindblad evolution on the full space
        :math:`\dot\rho = -i[H,\rho] + \sum_k (L_k\rho L_k^\dagger -
        \{L_k^\dagger L_k,\rho\}/2)`; they select ``mesolve``.
    e_ops : list, dict, Qobj, QobjEvo or callable, optional
        Extra expectation values, as in QuTiP (:mod:`qutip_centralspin.expectation`), returned
        in ``result.e_data`` (and ``result.expect``) under the same keys. Every callback of
        this package works on every path. Closed paths and ``c_ops`` evaluate them on the
        full state; with ``processes`` on the reduced battery state :math:`\rho_B(t)` in the
        ``qutip.piqs`` Dicke basis (:mod:`qutip_centralspin.models.basis`): a ``Qobj`` e_op is then a
        battery operator in that basis, e.g. ``qutip.piqs.jspin(N_B, "z")``.
    solver : {"auto", "exact", "sesolve", "mesolve", "blocks", "piqs", "bruteforce"}
        ``"auto"``: the exact sector engine without ``c_ops``, ``mesolve`` with them, the block
        solver with ``processes``. With ``processes``: ``"blocks"`` (exact open solver),
        ``"mesolve"`` (collective processes only, symmetric space), ``"piqs"``
        (``qutip.piqs`` battery (x) charger) or ``"bruteforce"`` (one qubit per spin,
        :math:`N_B \le 5`), see :mod:`qutip_centralspin.solvers.references`.
    options : dict, optional
        Checked the same way on every path: an unknown key or progress-bar name is a
        ``ValueError``. Every path understands ``store_states``, ``store_final_state``,
        ``progress_bar`` and ``progress_kwargs`` (QuTiP's names; the bar prints on stderr,
        never on stdout); ``sesolve``/``mesolve``
        and the references also take QuTiP's integrator options (``atol``, ``rtol``, ...);
        the block solver ``num_cpus`` and ``generator`` (``"auto"``, ``"csr"``,
        ``"matrix-free"``: :mod:`qutip_centralspin.solvers.blocks`). ``max_memory`` (bytes or
        e.g. ``"8G"``) sets the limit
        of the resource guard (:mod:`qutip_centralspin.resources`): a run whose estimate
        exceeds it raises :class:`~qutip_centralspin.resources.ResourceError` before
        allocating (:func:`qutip_centralspin.solvers.estimates.estimate` gives the estimate).
    processes : Process or list of Process, optional
        Dissipative processes (:mod:`qutip_centralspin.models.processes`: dephasing, decay, pumping;
        local or collective; on the battery or the charger). Cannot be combined with
        ``c_ops``.
    coupling : PiecewiseConstant, callable or array, optional
        The switching function :math:`\lambda(t)` of Eq. (1), :math:`H = H_B + H_C +
        \lambda(t)H_I` (:mod:`qutip_centralspin.models.protocols`; default :math:`\lambda = 1`).
        Closed and piecewise-constant (e.g. :func:`~qutip_centralspin.models.protocols.step`): the
        exact sector engine, segment by segment; with ``processes`` the block solver, one
        exact generator per segment (``solver="bruteforce"`` for the qubit reference). A
        function or an array on ``tlist``: ``sesolve`` (``mesolve`` with ``c_ops``) on a
        ``QobjEvo``.
    method : {"exact", "twa", "auto"}, default "exact"
        ``"exact"``: the solvers above. ``"twa"``: the truncated Wigner approximation
        (:func:`~qutip_centralspin.solvers.twa.twa_charge`; spin and cavity chargers, a label
        ``psi0``, no ``e_ops``, ``c_ops`` or ``coupling``): an *estimate* with a standard
        error in ``stats["standard error"]``, validated on the first charge only (the
        measured errors are in ``docs/twa_accuracy.md``; outside the validated region it
        warns with them, :mod:`qutip_centralspin.solvers.twa_accuracy`). Its options go in
        ``options``: ``"ntraj"`` (default 1000), ``"seed"``, ``"map"`` (a QuTiP map function) and those
        of ``twa_charge`` (``"dt"``, ``"batch_size"``, ``"num_cpus"``, the progress bar).
        ``"auto"``: exact when the resource estimate of the exact path
        (:func:`qutip_centralspin.solvers.estimates.estimate`) fits the memory limit, TWA beyond;
        ``stats["method choice"]`` says which and why.

    Returns
    -------
    ChargingResult

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CentralSpinModel, charge, dicke_state
    >>> model = CentralSpinModel(n_battery=1, n_charger=10)
    >>> res = charge(model, dicke_state(model, 0, 5), np.linspace(0, 1, 101))
    >>> res.solver, round(res.e_max, 4)            # the grid maximum of Delta E_B
    ('exact', 1.0)
    """
    model = check_battery_model(model)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method != "exact":
        path, choice = choose_method(
            model, psi0, tlist, method, solver=solver, processes=processes, options=options
        )
        if path == "twa":
            return _charge_twa(model, psi0, tlist, c_ops, e_ops, solver, options, processes,
                               coupling, choice)  # fmt: skip
        exact_options = None
        if isinstance(options, dict):  # the TWA's options are for the path not taken
            exact_options = {k: v for k, v in options.items() if k not in TWA_KEYS}
        result = charge(model, psi0, tlist, c_ops=c_ops, e_ops=e_ops, solver=solver,
                        options=exact_options, processes=processes, coupling=coupling)  # fmt: skip
        result.stats["method choice"] = choice
        return result
    if not isinstance(model, CentralSpinModel):
        return _charge_model(
            model, psi0, tlist, c_ops, e_ops, solver, options, processes, coupling
        )
    times = _checks.time_list("tlist", tlist)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    psi0 = model.as_state(psi0)
    if isinstance(psi0, tuple):
        psi0 = model.label_state(*psi0)
    if isinstance(psi0, ThermalMixture):
        if solver not in ("auto", "exact") or c_ops or processes or coupling is not None:
            raise ValueError(
                f"a {type(psi0).__name__} (a Gibbs state of physical spins) runs on the exact "
                "closed engine only: solver must be 'auto' or 'exact' without c_ops, processes "
                f"or coupling, got solver={solver!r}"
            )
        return charge_mixture(model, psi0, times, e_ops=e_ops, options=options)
    psi0 = check_state(model, psi0, "psi0")
    procs = as_processes(processes)
    # refuse what cannot fit before anything is allocated (qutip_centralspin.resources)
    estimate(
        model,
        psi0,
        times,
        solver=solver,
        processes=procs,
        c_ops=c_ops,
        e_ops=e_ops,
        options=options if isinstance(options, dict) else None,
    ).check()
    # QuTiP's text bars print to stdout; every path shows them on stderr
    bar = options.get("progress_bar") if isinstance(options, dict) else None
    with _progress.stdout_to_stderr(bar):
        if coupling is not None:
            return _charge_switched(
                model, psi0, times, coupling, solver, c_ops, procs, e_ops, options
            )
        return _dispatch(model, psi0, times, procs, c_ops, e_ops, solver, options)


def _dispatch(model, psi0, times, procs, c_ops, e_ops, solver, options) -> ChargingResult:
    """Run the solver ``charge`` chose (arguments already checked)."""
    if procs:
        if c_ops:
            raise ValueError("give either c_ops or processes, not both")
        if solver not in PROCESS_SOLVERS:
            raise ValueError(
                f"solver must be one of {PROCESS_SOLVERS} with processes, got {solver!r}"
            )
        return _OPEN[solver](model, psi0, times, procs, e_ops=e_ops, options=options)
    if solver in ("blocks", "piqs", "bruteforce"):
        raise ValueError(
            f"solver={solver!r} needs processes (see qutip_centralspin.models.processes)"
        )
    if solver == "auto":
        solver = "mesolve" if c_ops else "exact"
    if solver == "exact":
        if c_ops:
            raise ValueError("solver='exact' is for closed systems; c_ops need solver='mesolve'")
        return charge_exact(model, psi0, times, e_ops=e_ops, options=options)
    return evolve_qutip(
        model, psi0, times, c_ops=c_ops, e_ops=e_ops, options=options, method=solver
    )


def _charge_twa(model, psi0, tlist, c_ops, e_ops, solver, options, processes, coupling, choice):
    """``charge`` on the truncated Wigner path (an estimate with error bars)."""
    from .solvers.twa import twa_charge

    for name, value in (("c_ops", c_ops), ("e_ops", e_ops), ("coupling", coupling)):
        if value:
            raise ValueError(
                f"{name} is not supported with method='twa' (classical trajectories give "
                "Delta E_B and P_B only); use method='exact'"
            )
    if solver != "auto":
        raise ValueError(f"solver must be 'auto' with method='twa', got {solver!r}")
    options = dict(options or {})
    twa_options = {k: options.pop(k) for k in TWA_KEYS if k in options}
    options.pop("max_memory", None)  # the exact path's limit (it chose this path)
    result = twa_charge(
        model,
        psi0,
        tlist,
        as_processes(processes),
        ntraj=twa_options.get("ntraj", 1000),
        seed=twa_options.get("seed"),
        map=twa_options.get("map"),
        options=options or None,
    )
    result.stats["method choice"] = choice
    return result


def _charge_model(model, psi0, tlist, c_ops, e_ops, solver, options, processes, coupling):
    """``charge`` for a model other than the spin charger: its exact closed engine, or its
    exact open solver (:mod:`qutip_centralspin.solvers.engines`)."""
    times = _checks.time_list("tlist", tlist)
    name = type(model).__name__
    if c_ops:
        raise ValueError(
            f"a {name} takes processes (e.g. cavity_loss(kappa), decay(gamma)), not c_ops: "
            "the charger's space is built by the solver"
        )
    if solver not in ("auto", "exact", "blocks"):
        raise ValueError(
            f"solver must be 'auto', 'exact' or 'blocks' for a {name}, got {solver!r} "
            "(the QuTiP reference paths are for CentralSpinModel)"
        )
    psi0 = model.as_state(psi0)
    procs = as_processes(processes)
    bar = options.get("progress_bar") if isinstance(options, dict) else None
    with _progress.stdout_to_stderr(bar):
        if procs or coupling is not None or solver == "blocks":
            if solver == "exact" and procs:
                raise ValueError(
                    "solver='exact' is the closed engine and takes no processes; use "
                    "solver='auto' or 'blocks'"
                )
            return open_solver(model, procs).solve(
                psi0, times, e_ops=e_ops, options=options, coupling=coupling
            )
        start = time.perf_counter()
        _checks.solver_options("exact", options, OPTIONS_EXACT)  # refused before any work
        evo, info = closed_evolution(model, psi0, times=times - times[0])
        info = dict(info)
        return closed_result(
            model,
            evo,
            times,
            e_ops=e_ops,
            options=options,
            start=start,
            solver=info.pop("solver", "exact"),
            method=info.pop("method"),
            **info,
        )


def _charge_switched(model, psi0, times, coupling, solver, c_ops, procs, e_ops, options):
    """``charge`` with a coupling protocol lambda(t)."""
    if procs:
        if c_ops:
            raise ValueError("give either c_ops or processes, not both")
        if solver not in ("auto", "blocks", "bruteforce"):
            raise ValueError(
                "solver must be 'auto', 'blocks' or 'bruteforce' with processes and a coupling, "
                f"got {solver!r}"
            )
        run = (
            blocks.charge_blocks if solver in ("auto", "blocks") else references.bruteforce_mesolve
        )
        return run(model, psi0, times, procs, e_ops=e_ops, options=options, coupling=coupling)
    if solver not in ("auto", "exact", "sesolve", "mesolve"):
        raise ValueError(
            f"solver must be 'auto', 'exact', 'sesolve' or 'mesolve' with a coupling, got {solver!r}"
        )
    if solver == "auto":
        if c_ops:
            solver = "mesolve"
        else:
            solver = "exact" if isinstance(coupling, PiecewiseConstant) else "sesolve"
    if solver == "exact":
        if c_ops:
            raise ValueError("solver='exact' is for closed systems; c_ops need solver='mesolve'")
        return charge_switched(model, psi0, times, coupling, e_ops=e_ops, options=options)
    return evolve_qutip(
        model,
        psi0,
        times,
        c_ops=c_ops,
        e_ops=e_ops,
        options=options,
        method=solver,
        coupling=coupling,
    )
