r"""The battery cycle: charge for :math:`\tau`, store for :math:`T_s`, extract.

1. **Charge**: :math:`\lambda = 1` on :math:`[0, \tau)` (:func:`~qutip_centralspin.models.protocols.step`),
   the battery draws energy from the charger (and exchanges it with the environment when
   ``processes`` are on).
2. **Store**: :math:`\lambda = 0` for :math:`T_s`: :math:`H = H_B + H_C` commutes with
   :math:`H_B`, so a closed battery keeps its energy and ergotropy exactly; the processes
   (dephasing, decay, pumping, local or collective) go on and make it self-discharge.
3. **Extract**: the ergotropy :math:`W(\rho_B)` is the work the optimal cyclic unitary on the
   battery takes out (:func:`ergotropic_unitary` builds it: it maps :math:`\rho_B` to its
   passive state). Alternatively the battery is reconnected (:math:`\lambda = 1`, closed) to
   an *empty* charger (its ground state) that acts as a load: :func:`extract_into_load`.

The efficiency of the cycle is the extracted work over the energy drawn from the charger
during the charge, :math:`\eta = W(\tau + T_s)/[E_C(0) - E_C(\tau)]`.

Times are absolute and the cycle starts at :math:`t = 0` (the state ``psi0``). Half-lives are
read off the time grid (linear interpolation between grid points): estimates with the grid's
resolution, stated as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import qutip

from .. import _checks
from ..charging import charge
from ..models.base import BatteryModel, check_battery_model
from ..models.basis import battery_dims
from ..models.processes import as_processes
from ..models.protocols import step
from ..observables.energy import ChargerEnergy
from ..observables.ergotropy import DEFAULT_BATTERY, Battery, Ergotropy, battery_state
from ..results import ChargingResult
from ..solvers.engines import open_solver

__all__ = [
    "BatteryCycle",
    "battery_cycle",
    "ergotropic_unitary",
    "LoadExtraction",
    "extract_into_load",
    "SwitchOff",
    "best_switch_off",
]


@dataclass(frozen=True)
class LoadExtraction:
    """Work delivered by the battery into an empty charger (an estimate on a time grid).

    Attributes
    ----------
    work : float
        :math:`\\max_t [E_B(0) - E_B(t)]` on the grid (the energy the battery gave up).
    time : float
        Where that maximum is reached (time since reconnection).
    result : ChargingResult
        The extraction run (``delta_energy`` is negative while the battery discharges).
    """

    work: float
    time: float
    result: ChargingResult


@dataclass(frozen=True)
class BatteryCycle:
    r"""Result of :func:`battery_cycle`.

    Attributes
    ----------
    tau, storage_time : float
        Charging time and storage time.
    run : ChargingResult
        The whole run on ``[0, tau + storage_time]``, ``e_data["ergotropy"]`` included.
    drawn_energy : float
        :math:`E_C(0) - E_C(\tau)`: energy the charger gave up while charging.
    charged_energy, charged_ergotropy : float
        :math:`\Delta E_B(\tau)` and :math:`W(\tau)`.
    stored_energy, stored_ergotropy : float
        :math:`\Delta E_B` and :math:`W` at the end of storage. :math:`W` is the work the
        ergotropic unitary extracts then.
    energy_half_life, ergotropy_half_life : float or None
        Storage time after which :math:`\Delta E_B` (:math:`W`) first falls to half its value
        at :math:`\tau` (grid estimate); ``None`` if it does not within ``storage_time``.
    efficiency : float or None
        ``stored_ergotropy / drawn_energy`` (``None`` if no energy was drawn).
    load : LoadExtraction or None
        Extraction into an empty charger, when requested and possible.
    """

    tau: float
    storage_time: float
    run: ChargingResult
    drawn_energy: float
    charged_energy: float
    charged_ergotropy: float
    stored_energy: float
    stored_ergotropy: float
    energy_half_life: float | None
    ergotropy_half_life: float | None
    efficiency: float | None
    load: LoadExtraction | None

    @property
    def storage_times(self) -> np.ndarray:
        """Times since the switch-off, for the storage part of :attr:`run`."""
        return self.run.times[self.run.times >= self.tau] - self.tau

    @property
    def stored_energy_curve(self) -> np.ndarray:
        r""":math:`\Delta E_B` during storage."""
        return self.run.delta_energy[self.run.times >= self.tau]

    @property
    def stored_ergotropy_curve(self) -> np.ndarray:
        """:math:`W` during storage."""
        return np.asarray(self.run.e_data["ergotropy"])[self.run.times >= self.tau]


def _half_life(s: np.ndarray, values: np.ndarray) -> float | None:
    """First ``s`` where ``values`` falls to half of ``values[0]`` (linear interpolation)."""
    if values[0] <= 0:
        return None
    below = np.nonzero(values <= values[0] / 2)[0]
    if below.size == 0:
        return None
    i = int(below[0])
    if i == 0:
        return 0.0
    v0, v1 = values[i - 1], values[i]
    frac = (v0 - values[0] / 2) / (v0 - v1) if v0 != v1 else 0.0
    return float(s[i - 1] + frac * (s[i] - s[i - 1]))


def _charger_energy(model, psi0, times, procs, coupling) -> np.ndarray:
    """:math:`E_C` at ``times``: from the full states of a closed run where the path keeps
    them, else from the model's open solver (which reads it off the blocks)."""
    if not procs:
        res = charge(model, psi0, times, coupling=coupling, options={"store_states": True})
        if len(res.states[0].dims[0]) == 2:
            e_c = ChargerEnergy(model)
            return np.array([e_c(t, s) for t, s in zip(times, res.states, strict=True)])
    return open_solver(model, procs).charger_energy(psi0, times, coupling=coupling)


def battery_cycle(
    model: BatteryModel,
    psi0,
    tau: float,
    storage_time: float,
    *,
    processes=None,
    points: int = 201,
    battery: Battery = DEFAULT_BATTERY,
    load_time: float | None = None,
    options: dict | None = None,
) -> BatteryCycle:
    r"""Charge for ``tau``, store for ``storage_time`` with the coupling off, extract.

    Parameters
    ----------
    model : BatteryModel
        A model whose ``charge`` takes a step protocol: the spin charger, or the cavity
        charger (its block solver); the Dicke charger is refused with a ``ValueError``.
    psi0 : Qobj or tuple
        State at :math:`t = 0` on the model's dims, or its label ``(m, c)``.
    tau : float
        Charging time :math:`\tau > 0` (:math:`\lambda = 1` on :math:`[0, \tau)`).
    storage_time : float
        :math:`T_s \ge 0`: the battery evolves with :math:`\lambda = 0` and the processes.
    processes : Process or list of Process, optional
        Open-system processes, on during the whole cycle (block solver); none: closed.
    points : int, default 201
        Time grid on :math:`[0, \tau + T_s]` (``tau`` is always a grid point).
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        Battery picture of the ergotropy (:mod:`qutip_centralspin.observables.ergotropy`).
    load_time : float, optional
        If given, reconnect the stored battery to an empty charger for this long
        (:func:`extract_into_load`); needs a battery state in the symmetric subspace (no local
        battery processes).
    options : dict, optional
        Solver options of the charging run (as for :func:`~qutip_centralspin.charge`, e.g.
        ``{"progress_bar": "text"}``).

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, dicke_state
    >>> from qutip_centralspin.studies.cycle import battery_cycle
    >>> model = CentralSpinModel(n_battery=2, n_charger=4)
    >>> cyc = battery_cycle(model, dicke_state(model, 0, 4), tau=0.5, storage_time=2.0)
    >>> bool(abs(cyc.stored_energy - cyc.charged_energy) < 1e-12)   # closed: kept exactly
    True
    """
    model = check_battery_model(model)
    psi0 = model.as_state(psi0)
    if isinstance(psi0, tuple):
        psi0 = model.label_state(*psi0)
    tau = _checks.positive_real("tau", tau)
    storage_time = _checks.finite_real("storage_time", storage_time)
    if storage_time < 0:
        raise ValueError(f"storage_time must be >= 0, got {storage_time!r}")
    points = _checks.int_in_range("points", points, 3, 10**7)
    procs = as_processes(processes)
    total = tau + storage_time
    times = np.union1d(np.linspace(0.0, total, points), [tau])
    protocol = step(tau)
    run = charge(
        model,
        psi0,
        times,
        processes=procs or None,
        coupling=protocol,
        e_ops={"ergotropy": Ergotropy(model, battery=battery)},
        options=options,
    )
    at_tau = int(np.searchsorted(times, tau))
    ec = _charger_energy(model, psi0, np.array([0.0, tau]), procs, protocol)
    drawn = float(ec[0] - ec[1])
    w = np.asarray(run.e_data["ergotropy"], dtype=float)
    s = times[at_tau:] - tau
    load = None
    if load_time is not None:
        end_state = charge(
            model,
            psi0,
            np.array([0.0, total]),
            processes=procs or None,
            coupling=protocol,
            options={"store_final_state": True},
        ).final_state
        try:
            load = extract_into_load(model, end_state, load_time)
        except ValueError as err:
            raise ValueError(
                f"load_time={load_time!r}: the load is a closed run on the symmetric battery "
                f"levels, {err}; use collective battery processes (or none) with load_time"
            ) from None
    return BatteryCycle(
        tau=tau,
        storage_time=storage_time,
        run=run,
        drawn_energy=drawn,
        charged_energy=float(run.delta_energy[at_tau]),
        charged_ergotropy=float(w[at_tau]),
        stored_energy=float(run.delta_energy[-1]),
        stored_ergotropy=float(w[-1]),
        energy_half_life=_half_life(s, run.delta_energy[at_tau:]),
        ergotropy_half_life=_half_life(s, w[at_tau:]),
        efficiency=float(w[-1] / drawn) if drawn > 0 else None,
        load=load,
    )


def ergotropic_unitary(model, state: qutip.Qobj) -> qutip.Qobj:
    r"""The unitary :math:`U` on the battery's :math:`N_B+1` Dicke levels that takes
    :math:`\rho_B` to its passive state (collective extraction, ``battery="dicke"``).

    :math:`U = \sum_k |\varepsilon_k^\uparrow\rangle\langle r_k^\downarrow|`: the eigenvector
    of the :math:`k`-th largest eigenvalue of :math:`\rho_B` goes to the :math:`k`-th lowest
    level of :math:`H_B = BS^z`. Then :math:`\mathrm{tr}[H_B\rho_B] -
    \mathrm{tr}[H_B U\rho_B U^\dagger] = W_{dicke}(\rho_B)` (the collective ergotropy, not the
    default ``"qubits"`` one, which may need unitaries outside the symmetric subspace).

    Parameters
    ----------
    model : CentralSpinModel or CavityModel
    state : Qobj
        A full-space state or a battery state on the symmetric levels
        (:func:`~qutip_centralspin.observables.ergotropy.battery_state`).
    """
    rho_b = battery_state(model, state)
    n_b = rho_b.shape[0] - 1
    r, vecs = np.linalg.eigh(rho_b.full())
    vecs = vecs[:, ::-1]  # descending populations
    levels = model.battery_field * (n_b / 2 - np.arange(n_b + 1))  # energy of each jmat index
    order = np.argsort(levels, kind="stable")  # ascending energies
    target = np.eye(n_b + 1)[:, order]
    return qutip.Qobj(target @ vecs.conj().T, dims=rho_b.dims)


def extract_into_load(
    model: BatteryModel, state: qutip.Qobj, duration: float, *, points: int = 401
) -> LoadExtraction:
    r"""Reconnect the battery of ``state`` to an empty charger for ``duration`` (closed).

    The charger starts in its ground state
    (:meth:`~qutip_centralspin.models.base.BatteryModel.empty_charger`: :math:`n = 0` for a
    spin charger with :math:`h \ge 0`, :math:`n = N` otherwise; the empty cavity),
    uncorrelated with the battery: :math:`\rho_B\otimes|g\rangle\langle g|`.
    The work delivered is :math:`\max_t[E_B(0) - E_B(t)]` on the grid (an estimate).

    Raises
    ------
    ValueError
        If the battery state is not on the symmetric levels (it then has :math:`j < N_B/2`
        ladders, e.g. after local battery processes), or ``duration <= 0``.
    """
    model = check_battery_model(model)
    duration = _checks.positive_real("duration", duration)
    points = _checks.int_in_range("points", points, 2, 10**7)
    nb1 = model.n_battery + 1
    if state.dims[0] == [battery_dims(model.n_battery)] and state.shape[0] != nb1:
        block = state.full()
        outside = float(np.abs(block[nb1:, :]).max(initial=0.0))
        if outside > 1e-12:
            raise ValueError(
                "the battery state must lie on the symmetric levels; this one has weight "
                f"{outside:.3g} on j < N_B/2 ladders (local battery processes)"
            )
        rho_b = qutip.Qobj(block[:nb1, :nb1], dims=[[nb1], [nb1]])
    else:
        rho_b = battery_state(model, state)
    empty = model.label_state(0, model.empty_charger())  # |m = 0> (x) |g>, jmat order
    ket = empty.full().reshape(nb1, -1)[model.n_battery]  # the charger factor of |m = 0>
    rho0 = qutip.tensor(rho_b, qutip.Qobj(ket).proj())
    times = np.linspace(0.0, duration, points)
    res = charge(model, rho0, times)
    i = int(np.argmin(res.delta_energy))
    return LoadExtraction(work=float(-res.delta_energy[i]), time=float(times[i]), result=res)


@dataclass(frozen=True)
class SwitchOff:
    """The switch-off time that leaves the most ergotropy after a storage time (estimate).

    Attributes
    ----------
    tau : float
        Best charging time :math:`\\tau^*` found.
    ergotropy : float
        :math:`W` after charging for :math:`\\tau^*` and storing for ``storage_time``.
    taus, ergotropies : ndarray
        The scanned charging times and the stored ergotropy of each.
    """

    tau: float
    ergotropy: float
    taus: np.ndarray
    ergotropies: np.ndarray


def best_switch_off(
    model: BatteryModel,
    psi0: qutip.Qobj,
    storage_time: float,
    tau_max: float,
    *,
    processes=None,
    points: int = 41,
    battery: Battery = DEFAULT_BATTERY,
) -> SwitchOff:
    r"""Scan the charging time :math:`\tau \in (0, \tau_{max}]` for the largest ergotropy
    left after ``storage_time`` with the coupling off, then refine the best point with a
    bounded scalar search (``scipy.optimize.minimize_scalar``) between its grid neighbours.

    An estimate: every value is exact, but the maximum over :math:`\tau` is found on a grid
    (a narrow peak between grid points can be missed; raise ``points``). For a certified
    :math:`\tau^*` of an open run on the block solver (a state block diagonal in the
    excitation number) use
    :func:`open_max_ergotropy(model, psi0, processes, tau_max, storage_time=storage_time)
    <qutip_centralspin.maxima.open.open_max_ergotropy>`.
    """
    from scipy.optimize import minimize_scalar

    tau_max = _checks.positive_real("tau_max", tau_max)
    storage_time = _checks.finite_real("storage_time", storage_time)
    if storage_time < 0:
        raise ValueError(f"storage_time must be >= 0, got {storage_time!r}")
    points = _checks.int_in_range("points", points, 2, 10**5)
    procs = as_processes(processes)
    ergo = Ergotropy(model, battery=battery)

    def stored(tau: float) -> float:
        res = charge(
            model,
            psi0,
            np.array([0.0, tau + storage_time]),
            processes=procs or None,
            coupling=step(tau),
            e_ops={"W": ergo},
        )
        return float(res.e_data["W"][-1])

    taus = np.linspace(tau_max / points, tau_max, points)
    values = np.array([stored(t) for t in taus])
    i = int(np.argmax(values))
    lo = taus[i - 1] if i > 0 else taus[0] / 2
    hi = taus[i + 1] if i + 1 < taus.size else taus[-1]
    best_tau, best = float(taus[i]), float(values[i])
    if hi > lo:
        opt = minimize_scalar(
            lambda t: -stored(t), bounds=(lo, hi), method="bounded", options={"xatol": 1e-10}
        )
        if -opt.fun > best:
            best_tau, best = float(opt.x), float(-opt.fun)
    return SwitchOff(tau=best_tau, ergotropy=best, taus=taus, ergotropies=values)
