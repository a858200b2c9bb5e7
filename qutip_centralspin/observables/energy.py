r"""Battery energy and power as QuTiP expectation callbacks, valid on every solver path.

Each class is a callable ``f(t, state)``, the QuTiP 5 ``e_ops`` signature, so it can be put in
the ``e_ops`` of ``qutip.sesolve`` / ``qutip.mesolve`` or of
:func:`~qutip_centralspin.charge` (list or dict). ``state`` may be a ket or density matrix on
the model's full space, the battery's :math:`N_B+1` symmetric levels, or the battery's reduced
state in the ``qutip.piqs`` Dicke basis that the open paths hand out
(:mod:`qutip_centralspin.models.basis`):

* :class:`BatteryEnergy`: :math:`E_B(t) = \mathrm{tr}[H_B\rho_B(t)] = \langle B S^z\rangle` (Eq. 2);
* :class:`DeltaBatteryEnergy`: :math:`\Delta E_B(t) = E_B(t) - E_B(t_0)`;
* :class:`BatteryPower`: :math:`P_B(t) = \Delta E_B(t)/(t - t_0)` (Eq. 3), with its limit at
  :math:`t_0` (the convention of :func:`qutip_centralspin.results.average_power`).

Time origin: :math:`t_0` is the ``t0`` given, or else the time of the first call (QuTiP calls
``e_ops`` at ``tlist[0]`` first). An instance without ``t0`` re-binds when it is called with a
time before its :math:`t_0` (a new run); to reuse one in runs with other ``tlist``, give ``t0``.
:math:`E_B(t_0)` is that of ``initial_state`` if given, else of the first state seen.

The callbacks hold no global state and are picklable: they can be sent to the workers of
``qutip.parallel_map``.
"""

from __future__ import annotations

import numpy as np
import qutip

from .. import _checks
from ..models.base import BatteryModel, check_battery_model
from ..models.processes import as_processes, battery_energy_dissipation
from ..models.spin import CentralSpinModel
from ..models.states import validate_state

__all__ = [
    "BatteryEnergy",
    "DeltaBatteryEnergy",
    "BatteryPower",
    "ChargerEnergy",
    "ChargerExcitations",
    "energy_rate",
]


def energy_rate(model: BatteryModel, state: qutip.Qobj, *, c_ops=None, processes=None) -> float:
    r""":math:`\dot E_B = \langle G\rangle`, :math:`G = i[H, H_B] + \sum_k\mathcal D^\dagger[L_k](H_B)`.

    Parameters
    ----------
    model : BatteryModel
        Any battery model (spin, cavity or Dicke charger).
    state : Qobj
        Ket or density matrix on the model's full space (battery first; a bosonic charger on
        the state's own photon levels).
    c_ops : Qobj or list of Qobj, optional
        Collapse operators on the full space (a ``mesolve`` run).
    processes : Process or list of Process, optional
        Processes of an open run (:func:`~qutip_centralspin.models.processes.battery_energy_dissipation`;
        spin charger only).

    Raises
    ------
    ValueError
        If ``processes`` are given for a model other than the spin charger.
    """
    model = check_battery_model(model)
    if isinstance(c_ops, qutip.Qobj):
        c_ops = [c_ops]
    dims = state.dims[0]
    h_b = model.battery_operator(dims)
    H = model.hamiltonian_on(dims)
    G = 1j * (H * h_b - h_b * H)
    for c in c_ops or []:
        cdc = c.dag() * c
        G += c.dag() * h_b * c - 0.5 * (cdc * h_b + h_b * cdc)
    procs = as_processes(processes)
    if procs:
        if not isinstance(model, CentralSpinModel):
            raise ValueError(
                f"processes: the rate at t0 under processes is implemented for "
                f"CentralSpinModel, got a {type(model).__name__}; pass the state at t0 and "
                "c_ops on its full space instead"
            )
        G += battery_energy_dissipation(model, procs)
    return float(np.real(qutip.expect(G, state)))


def _state(name: str, state) -> qutip.Qobj:
    if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
        raise TypeError(f"{name} must be a ket or density-matrix Qobj, got {type(state).__name__}")
    return state


class BatteryEnergy:
    r"""``e_ops`` callback for the battery energy :math:`E_B = \mathrm{tr}[B S^z \rho]` (Eq. 2).

    Parameters
    ----------
    model : BatteryModel
        Any battery model (spin, cavity or Dicke charger): :math:`B` is its
        :attr:`~qutip_centralspin.models.base.BatteryModel.battery_field`.

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from qutip_centralspin import CentralSpinModel, BatteryEnergy, dicke_state, hamiltonian
    >>> model = CentralSpinModel(n_battery=2, n_charger=3)
    >>> res = qutip.sesolve(hamiltonian(model), dicke_state(model, 0, 3), np.linspace(0, 1, 5),
    ...                     e_ops={"E_B": BatteryEnergy(model)})
    >>> round(float(res.e_data["E_B"][0]), 12)
    -1.0
    """

    def __init__(self, model: BatteryModel):
        self.model = check_battery_model(model)
        self._ops: dict[tuple, qutip.Qobj] = {}

    def energy(self, state: qutip.Qobj) -> float:
        """Battery energy of one state (full space, symmetric battery or PIQS basis)."""
        state = _state("state", state)
        key = tuple(state.dims[0])
        op = self._ops.get(key)
        if op is None:
            op = self._ops[key] = self.model.battery_operator(state.dims[0])
        return float(np.real(qutip.expect(op, state)))

    def __call__(self, t, state) -> float:
        return self.energy(state)

    def __repr__(self):
        return f"{type(self).__name__}({self.model!r})"


class DeltaBatteryEnergy(BatteryEnergy):
    r"""``e_ops`` callback for the stored energy :math:`\Delta E_B(t) = E_B(t) - E_B(t_0)`.

    Parameters
    ----------
    model : BatteryModel
    initial_state : Qobj, optional
        The state at :math:`t_0`; fixes :math:`E_B(t_0)`. Default: the first state seen.
    """

    def __init__(self, model: BatteryModel, initial_state: qutip.Qobj | None = None):
        super().__init__(model)
        self.initial_energy: float | None = None
        self._fixed_energy = initial_state is not None
        if initial_state is not None:
            initial_state = validate_state(_state("initial_state", initial_state), "initial_state")
            self.initial_energy = self.energy(initial_state)
        self.t0: float | None = None
        self._fixed_t0 = False

    def _bind(self, t: float, state) -> None:
        """Take t0 (and E_B(t0)) from the first call, or from a call before t0 (a new run)."""
        if self._fixed_t0 or (self.t0 is not None and t >= self.t0):
            return
        self.t0 = float(t)
        if not self._fixed_energy:
            self.initial_energy = self.energy(state)

    def __call__(self, t, state) -> float:
        self._bind(t, state)
        if self.initial_energy is None:  # t0 given, no initial state, first call
            self.initial_energy = self.energy(state)
        return self.energy(state) - self.initial_energy


class BatteryPower(DeltaBatteryEnergy):
    r"""``e_ops`` callback for the average power :math:`P_B(t) = \Delta E_B(t)/(t - t_0)` (Eq. 3).

    At :math:`t_0` the callback returns the limit :math:`\dot E_B(t_0) =
    \mathrm{tr}[H_B\,\mathcal L\rho(t_0)]`, with :math:`\mathcal L\rho = -i[H,\rho] +
    \sum_k D[L_k]\rho` for the ``c_ops`` or ``processes`` of the run (give the ones the run
    uses: the rate at :math:`t_0` depends on them). For any Dicke product state without decay
    or pumping it is exactly 0.

    Parameters
    ----------
    model : BatteryModel
    initial_state : Qobj, optional
        The state at :math:`t_0` on the model's full space. Needed for the limit at
        :math:`t_0` (a reduced battery state does not fix it); default: the first state seen.
    c_ops : Qobj or list of Qobj, optional
        Collapse operators of a ``mesolve`` run (full space).
    processes : Process or list of Process, optional
        The processes of an open ``charge`` run (:mod:`qutip_centralspin.models.processes`).
    t0 : float, optional
        The time of ``initial_state`` (QuTiP's ``tlist[0]``); default: the first call's time.

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from qutip_centralspin import CentralSpinModel, BatteryPower, dicke_state, hamiltonian
    >>> model = CentralSpinModel(n_battery=2, n_charger=3)
    >>> psi0 = dicke_state(model, 0, 3)
    >>> tlist = np.linspace(1.0, 2.0, 5)          # charging starts at t0 = 1
    >>> res = qutip.sesolve(hamiltonian(model), psi0, tlist, e_ops=[BatteryPower(model, psi0)])
    >>> float(res.expect[0][0])                   # the limit at t0: a Dicke state is stationary
    0.0
    """

    def __init__(
        self,
        model: BatteryModel,
        initial_state: qutip.Qobj | None = None,
        *,
        c_ops=None,
        processes=None,
        t0: float | None = None,
    ):
        super().__init__(model, initial_state)
        if t0 is not None:
            self.t0 = _checks.finite_real("t0", t0)
            self._fixed_t0 = True
        if isinstance(c_ops, qutip.Qobj):
            c_ops = [c_ops]
        self._c_ops = list(c_ops or [])
        self._processes = as_processes(processes)
        if self._c_ops and self._processes:
            raise ValueError("give either c_ops or processes, not both")
        self.initial_rate: float | None = None
        if initial_state is not None:
            self.initial_rate = self._rate(initial_state)

    def _rate(self, state) -> float | None:
        """:math:`\\langle G\\rangle`, :math:`G = i[H, H_B] + \\mathcal D^\\dagger(H_B)`."""
        if not self.model.is_full_space(state.dims[0]):
            return None  # a reduced battery state does not fix dE_B/dt
        return energy_rate(self.model, state, c_ops=self._c_ops, processes=self._processes)

    def __call__(self, t, state) -> float:
        energy = self.energy(state)  # checks the state on every call
        fresh = self.t0 is None or (not self._fixed_t0 and t < self.t0)
        self._bind(t, state)
        if self.initial_energy is None:
            self.initial_energy = energy
        if fresh and not self._fixed_energy:
            self.initial_rate = self._rate(state)
        if t == self.t0:
            if self.initial_rate is None:
                raise ValueError(
                    "BatteryPower needs initial_state= (the full state at t0) for its limit at "
                    f"t0 = {self.t0:g}: a reduced battery state does not fix dE_B/dt"
                )
            return self.initial_rate
        return (energy - self.initial_energy) / (t - self.t0)


class ChargerEnergy:
    r"""``e_ops`` callback for the charger's energy :math:`E_C = \langle H_C\rangle`.

    :math:`H_C = hJ^z` for a spin charger, :math:`\omega a^\dagger a` for a cavity
    (:meth:`~qutip_centralspin.models.base.BatteryModel.charger_operators`). On closed runs
    it is evaluated on the full state (``charge``, ``qutip.sesolve``/``mesolve``); on the
    exact open path (``charge`` with ``processes``) the block solver reads :math:`E_C(t)` off
    its own sweep, since the state it hands the other ``e_ops`` is the battery's alone.

    Parameters
    ----------
    model : BatteryModel

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CavityModel, ChargerEnergy, charge
    >>> model = CavityModel(n_battery=2, omega=1.0, g=0.5)
    >>> res = charge(model, (0, 2), np.linspace(0, 1, 3), e_ops={"E_C": ChargerEnergy(model)})
    >>> round(float(res.e_data["E_C"][0]), 12)      # two photons of energy omega
    2.0
    """

    #: The key of :meth:`~qutip_centralspin.models.base.BatteryModel.charger_operators`.
    charger_observable = "E_C"

    def __init__(self, model: BatteryModel):
        self.model = check_battery_model(model)
        self._ops: dict[tuple, qutip.Qobj] = {}

    def __call__(self, t, state) -> float:
        state = _state("state", state)
        key = tuple(state.dims[0])
        op = self._ops.get(key)
        if op is None:
            try:
                ops = self.model.charger_operators(list(key))
            except ValueError as err:
                raise ValueError(
                    f"{type(self).__name__} needs the full state (battery and charger): {err} "
                    "(on the open paths e_ops see the battery's reduced state)"
                ) from None
            op = self._ops[key] = ops[self.charger_observable]
        return float(np.real(qutip.expect(op, state)))

    def __repr__(self):
        return f"{type(self).__name__}({self.model!r})"


class ChargerExcitations(ChargerEnergy):
    r"""``e_ops`` callback for the charger's excitations: the photon number
    :math:`\langle a^\dagger a\rangle` of a cavity, the flipped charger spins
    :math:`\langle J^z\rangle + N/2` of a spin charger.

    Closed runs only (the full state): on the open path the state ``e_ops`` see is the
    battery's alone, and this callback refuses it with a ``ValueError``.
    """

    charger_observable = "n_C"
