r"""``charge(...)``: one entry point for every solver, one result type.

.. code-block:: python

    result = charge(model, psi0, tlist)                       # exact sector engine
    result = charge(model, psi0, tlist, solver="sesolve")     # QuTiP reference path
    result = charge(model, psi0, tlist, c_ops=[...])          # open system, qutip.mesolve
    result = charge(model, psi0, tlist, processes=[dephasing(0.1)])  # open, block solver

``solver="auto"`` (default) uses the exact engine for closed systems and ``mesolve`` when
``c_ops`` are given; with ``processes`` (:mod:`qutip_centralspin.processes`) it uses the exact
open block solver (:mod:`qutip_centralspin.solvers.blocks`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import qutip

from . import _checks
from .maxima import Maximum, grid_maximum
from .model import CentralSpinModel
from .operators import _check_model, battery_hamiltonian
from .processes import as_processes
from .solvers.reference import (
    DELTA_E_KEY,
    POWER_KEY,
    e_ops_dict,
    evolve_qutip,
    expect_on_states,
)
from .solvers.sector import SectorEngine
from .states import check_state

__all__ = ["ChargingResult", "charge"]

SOLVERS = ("auto", "exact", "sesolve", "mesolve", "blocks", "piqs", "bruteforce")
#: Solvers that take ``processes`` (the open-system paths of issue 5).
PROCESS_SOLVERS = ("auto", "blocks", "mesolve", "piqs", "bruteforce")
#: Options understood by the exact engine (QuTiP's own names).
EXACT_OPTIONS = ("store_states", "progress_bar", "progress_kwargs")


@dataclass(frozen=True)
class ChargingResult:
    r"""Outcome of one charging run, whatever the solver.

    Attributes
    ----------
    model : CentralSpinModel
    times : ndarray
        The ``tlist`` the run was sampled on.
    delta_energy : ndarray
        :math:`\Delta E_B(t) = E_B(t) - E_B(0)` on ``times`` (Eq. 2).
    power : ndarray
        :math:`P_B(t) = \Delta E_B(t)/t` on ``times`` (Eq. 3; the ``t = 0`` limit at 0).
    initial_energy : float
        :math:`E_B(0)`.
    solver : str
        ``"exact"``, ``"sesolve"`` or ``"mesolve"``; with ``processes`` also ``"blocks"``,
        ``"piqs"`` or ``"bruteforce"``.
    states : list of Qobj or None
        The states on ``times`` when ``options={"store_states": True}``.
    expect : dict
        The user's ``e_ops`` on ``times`` (keys as given: list positions or dict keys).
    qutip_result : qutip.solver.Result or None
        The underlying QuTiP result (``None`` for the exact engine).
    """

    model: CentralSpinModel
    times: np.ndarray
    delta_energy: np.ndarray
    power: np.ndarray
    initial_energy: float
    solver: str
    states: list | None = None
    expect: dict = field(default_factory=dict)
    qutip_result: object | None = None

    @property
    def energy_maximum(self) -> Maximum:
        """Largest sampled :math:`\\Delta E_B` on ``times``, with its grid error estimate."""
        return grid_maximum(self.times, self.delta_energy)

    @property
    def power_maximum(self) -> Maximum:
        """Largest sampled :math:`P_B` on ``times``, with its grid error estimate."""
        return grid_maximum(self.times, self.power)

    @property
    def e_max(self) -> float:
        """:math:`E_{max}` on the sampled ``times`` (see :func:`max_energy` for a certified one)."""
        return self.energy_maximum.value

    @property
    def p_max(self) -> float:
        """:math:`P_{max}` on the sampled ``times`` (see :func:`max_power` for a certified one)."""
        return self.power_maximum.value

    @property
    def t_pmax(self) -> float:
        """Time of :attr:`p_max` on the sampled ``times``."""
        return self.power_maximum.time


def charge(
    model: CentralSpinModel,
    psi0: qutip.Qobj,
    tlist,
    *,
    c_ops=None,
    e_ops=None,
    solver: str = "auto",
    options: dict | None = None,
    processes=None,
) -> ChargingResult:
    r"""Charge the battery from ``psi0`` and record :math:`\Delta E_B(t)` and :math:`P_B(t)`.

    Parameters
    ----------
    model : CentralSpinModel
    psi0 : Qobj
        Initial ket or density matrix on ``model.dims`` (see :mod:`qutip_centralspin.states`).
    tlist : array_like
        Increasing times :math:`\ge 0` (units of 1/energy, :math:`\hbar = 1`). As in QuTiP,
        ``psi0`` is the state at ``tlist[0]`` (the start of charging): :math:`\Delta E_B` is
        measured from it and :math:`P_B = \Delta E_B/(t - t_0)`.
    c_ops : list of Qobj, optional
        Collapse operators :math:`L_k` of a Lindblad evolution
        :math:`\dot\rho = -i[H,\rho] + \sum_k (L_k\rho L_k^\dagger -
        \{L_k^\dagger L_k,\rho\}/2)`; they select ``mesolve``.
    e_ops : list, dict, Qobj or callable, optional
        Extra expectation values, as in QuTiP (``Qobj`` or ``f(t, state)``), returned in
        ``result.expect`` under the same keys.
    solver : {"auto", "exact", "sesolve", "mesolve", "blocks", "piqs", "bruteforce"}
        ``"auto"``: the exact sector engine without ``c_ops``, ``mesolve`` with them, the block
        solver with ``processes``. With ``processes``: ``"blocks"`` (exact open solver),
        ``"mesolve"`` (collective processes only, symmetric space), ``"piqs"``
        (``qutip.piqs`` battery (x) charger) or ``"bruteforce"`` (one qubit per spin,
        :math:`N_B \le 5`), see :mod:`qutip_centralspin.solvers.piqs_reference`.
    options : dict, optional
        QuTiP solver options, passed to ``sesolve``/``mesolve`` unchanged (e.g.
        ``{"progress_bar": "text", "atol": 1e-10}``). The exact engine understands
        ``store_states`` and accepts ``progress_bar`` (it has no time stepping to report).
        The block solver understands ``store_states``, ``progress_bar``,
        ``progress_kwargs`` and ``num_cpus``.
    processes : Process or list of Process, optional
        Dissipative processes (:mod:`qutip_centralspin.processes`: dephasing, decay, pumping;
        local or collective; on the battery or the charger), each with the Lindblad operator
        and rate stated there. With processes, ``result.states`` (``store_states``) and
        ``e_ops`` refer to the reduced battery state :math:`\rho_B(t)`: a ``Qobj`` on the
        :math:`N_B+1` symmetric levels without local battery processes, else in the
        ``qutip.piqs`` Dicke basis; a ``Qobj`` e_op is a battery operator on that space, a
        callable is called as ``f(t, rho_B)``. Cannot be combined with ``c_ops``.

    Returns
    -------
    ChargingResult

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CentralSpinModel, charge, dicke_state
    >>> model = CentralSpinModel(n_battery=1, n_charger=10)
    >>> res = charge(model, dicke_state(model, 0, 5), np.linspace(0, 1, 101))
    >>> res.solver, round(res.e_max, 6)
    ('exact', 1.0)
    """
    _check_model(model)
    psi0 = check_state(model, psi0, "psi0")
    times = _checks.time_list("tlist", tlist)
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    options = dict(options or {})
    if processes is not None:
        procs = as_processes(processes)
        if procs:
            return _charge_processes(model, psi0, times, procs, c_ops, e_ops, solver, options)
    if solver in ("blocks", "piqs", "bruteforce"):
        raise ValueError(f"solver={solver!r} needs processes (see qutip_centralspin.processes)")
    if solver == "auto":
        solver = "mesolve" if c_ops else "exact"
    if solver == "exact":
        if c_ops:
            raise ValueError("solver='exact' is for closed systems; c_ops need solver='mesolve'")
        return _charge_exact(model, psi0, times, e_ops, options)
    res = evolve_qutip(
        model, psi0, times, c_ops=c_ops, e_ops=e_ops, options=options, method=solver
    )
    user = {k: np.asarray(v) for k, v in res.e_data.items() if k not in (DELTA_E_KEY, POWER_KEY)}
    return ChargingResult(
        model=model,
        times=times,
        delta_energy=np.asarray(res.e_data[DELTA_E_KEY], dtype=float),
        power=np.asarray(res.e_data[POWER_KEY], dtype=float),
        initial_energy=float(np.real(qutip.expect(battery_hamiltonian(model), psi0))),
        solver=solver,
        states=list(res.states) if res.states else None,
        expect=user,
        qutip_result=res,
    )


def _charge_processes(model, psi0, times, procs, c_ops, e_ops, solver, options):
    """Dispatch an open run described by ``processes`` (issue 5)."""
    if c_ops:
        raise ValueError("give either c_ops or processes, not both")
    if solver not in PROCESS_SOLVERS:
        raise ValueError(f"solver must be one of {PROCESS_SOLVERS} with processes, got {solver!r}")
    from .solvers import blocks, piqs_reference  # imported here: they import this module

    run = {
        "auto": blocks.charge_blocks,
        "blocks": blocks.charge_blocks,
        "mesolve": piqs_reference.symmetric_mesolve,
        "piqs": piqs_reference.piqs_mesolve,
        "bruteforce": piqs_reference.bruteforce_mesolve,
    }[solver]
    return run(model, psi0, times, procs, e_ops=e_ops, options=options)


def _charge_exact(model, psi0, times, e_ops, options) -> ChargingResult:
    unknown = set(options) - set(EXACT_OPTIONS)
    if unknown:
        raise ValueError(
            f"options {sorted(unknown)} are not understood by the exact engine "
            f"(allowed: {list(EXACT_OPTIONS)}); use solver='sesolve' for ODE options"
        )
    evo = SectorEngine(model).evolve(psi0)
    user_ops = e_ops_dict(e_ops)
    store = bool(options.get("store_states", False))
    elapsed = times - times[0]  # psi0 is the state at tlist[0], as in QuTiP
    states = evo.states(elapsed) if (store or user_ops) else None
    expect = expect_on_states(user_ops, times, states)
    return ChargingResult(
        model=model,
        times=times,
        delta_energy=evo.delta_energy(elapsed),
        power=evo.power(elapsed),
        initial_energy=evo.initial_energy,
        solver="exact",
        states=states if store else None,
        expect=expect,
    )
