r"""Battery energy and power as QuTiP expectation callbacks.

Each class is a callable ``f(t, state)``, the QuTiP 5 ``e_ops`` signature, so it can be put in
the ``e_ops`` of ``qutip.sesolve`` / ``qutip.mesolve`` directly (list or dict), and works for
kets and density matrices alike:

* :class:`BatteryEnergy`: :math:`E_B(t) = \mathrm{tr}[H_B\rho_B(t)] = \langle B S^z\rangle` (Eq. 2);
* :class:`DeltaBatteryEnergy`: :math:`\Delta E_B(t) = E_B(t) - E_B(0)`;
* :class:`BatteryPower`: :math:`P_B(t) = \Delta E_B(t)/t` (Eq. 3), with its limit at ``t = 0``.

The callbacks are plain picklable objects (no global state): they can be sent to the
workers of ``qutip.parallel_map``.
"""

from __future__ import annotations

import numpy as np
import qutip

from . import _checks
from .model import CentralSpinModel
from .operators import _check_model, battery_hamiltonian, hamiltonian
from .states import check_state

__all__ = ["BatteryEnergy", "DeltaBatteryEnergy", "BatteryPower"]


class BatteryEnergy:
    r"""``e_ops`` callback for the battery energy :math:`E_B = \mathrm{tr}[B S^z \rho]` (Eq. 2).

    Parameters
    ----------
    model : CentralSpinModel

    Examples
    --------
    >>> import numpy as np, qutip
    >>> from qutip_centralspin import CentralSpinModel, BatteryEnergy, dicke_state, hamiltonian
    >>> model = CentralSpinModel(n_battery=2, n_charger=3)
    >>> res = qutip.sesolve(hamiltonian(model), dicke_state(model, 0, 3), np.linspace(0, 1, 5),
    ...                     e_ops={"E_B": BatteryEnergy(model)})
    >>> round(res.expect["E_B"][0], 12)
    -1.0
    """

    def __init__(self, model: CentralSpinModel):
        _check_model(model)
        self.model = model
        self._h_b = battery_hamiltonian(model)

    def energy(self, state: qutip.Qobj) -> float:
        """Battery energy of one state (ket or density matrix on the model's dims)."""
        check_state(self.model, state)
        return float(np.real(qutip.expect(self._h_b, state)))

    def __call__(self, t, state) -> float:
        return self.energy(state)

    def __repr__(self):
        return f"{type(self).__name__}({self.model!r})"


class DeltaBatteryEnergy(BatteryEnergy):
    r"""``e_ops`` callback for the stored energy :math:`\Delta E_B(t) = E_B(t) - E_B(0)`.

    Parameters
    ----------
    model : CentralSpinModel
    initial_state : Qobj
        The state at ``t = 0``, ket or density matrix; fixes :math:`E_B(0)`.
    """

    def __init__(self, model: CentralSpinModel, initial_state: qutip.Qobj):
        super().__init__(model)
        self.initial_energy = self.energy(check_state(model, initial_state, "initial_state"))

    def __call__(self, t, state) -> float:
        return self.energy(state) - self.initial_energy


class BatteryPower(DeltaBatteryEnergy):
    r"""``e_ops`` callback for the average charging power :math:`P_B(t) = \Delta E_B(t)/t` (Eq. 3).

    At ``t = 0`` the callback returns the limit :math:`\lim_{t\to0}\Delta E_B/t =
    \dot E_B(0) = \mathrm{tr}[H_B\,\mathcal L\rho(0)]`, with :math:`\mathcal L\rho =
    -i[H,\rho] + \sum_k D[c_k]\rho` (``c_ops`` as given to ``mesolve``, if any). For the paper's
    stationary starts (any Dicke product state) this is exactly 0; no division by zero occurs.

    Parameters
    ----------
    model : CentralSpinModel
    initial_state : Qobj
        The state at ``t = 0``.
    c_ops : Qobj or list of Qobj, optional
        Collapse operators of an open evolution, used for the ``t = t0`` limit only.
    t0 : float, default 0
        Time at which ``initial_state`` is given (QuTiP's ``tlist[0]``): the callback returns
        :math:`\\Delta E_B(t)/(t - t_0)`.
    """

    def __init__(self, model, initial_state, c_ops=None, t0: float = 0.0):
        super().__init__(model, initial_state)
        self.t0 = _checks.finite_real("t0", t0)
        if isinstance(c_ops, qutip.Qobj):
            c_ops = [c_ops]
        # Heisenberg-picture generator acting on H_B: dE_B/dt = <G>.
        h_b, H = self._h_b, hamiltonian(model)
        G = 1j * (H * h_b - h_b * H)
        for c in c_ops or []:
            cdc = c.dag() * c
            G += c.dag() * h_b * c - 0.5 * (cdc * h_b + h_b * cdc)
        self.initial_rate = float(np.real(qutip.expect(G, initial_state)))

    def __call__(self, t, state) -> float:
        if t == self.t0:
            return self.initial_rate
        return (self.energy(state) - self.initial_energy) / (t - self.t0)
