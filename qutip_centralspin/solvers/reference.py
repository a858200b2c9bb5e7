"""Reference path: ``qutip.sesolve`` / ``qutip.mesolve`` on the full Dicke space.

This is what a user would write by hand; every faster solver is tested against it.
"""

from __future__ import annotations

import numpy as np
import qutip

from ..model import CentralSpinModel
from ..observables import BatteryPower, DeltaBatteryEnergy
from ..operators import hamiltonian
from ..states import check_state

__all__ = ["evolve_qutip"]

#: Keys under which the battery observables are stored in ``Result.e_data``.
DELTA_E_KEY = "_delta_energy"
POWER_KEY = "_power"


def evolve_qutip(
    model: CentralSpinModel,
    psi0: qutip.Qobj,
    tlist,
    *,
    c_ops=None,
    e_ops=None,
    options=None,
    method: str = "sesolve",
) -> qutip.solver.Result:
    """Run ``sesolve`` (or ``mesolve``) with the battery callbacks added to ``e_ops``.

    ``e_ops`` may be a list or a dict, as in QuTiP; the battery observables are stored under
    the keys :data:`DELTA_E_KEY` and :data:`POWER_KEY` of ``result.e_data``. ``options`` is
    passed to QuTiP unchanged (QuTiP rejects unknown keys). As in QuTiP, ``psi0`` is the state
    at ``tlist[0]``, and the power is :math:`\\Delta E_B/(t - t_0)` with ``t0 = tlist[0]``.
    """
    check_state(model, psi0, "psi0")
    if isinstance(c_ops, qutip.Qobj):
        c_ops = [c_ops]
    t0 = float(tlist[0])
    H = hamiltonian(model)
    user = e_ops_dict(e_ops)
    ops = {
        DELTA_E_KEY: DeltaBatteryEnergy(model, psi0),
        POWER_KEY: BatteryPower(model, psi0, c_ops=c_ops, t0=t0),
        **user,
    }
    if method == "sesolve":
        if c_ops:
            raise ValueError("solver='sesolve' cannot take c_ops; use solver='mesolve'")
        if not psi0.isket:
            raise ValueError(
                "solver='sesolve' needs a ket psi0 (it would propagate a density matrix as "
                "U(t) rho, not U rho U^dagger); use solver='mesolve' or 'exact'"
            )
        return qutip.sesolve(H, psi0, tlist, e_ops=ops, options=options)
    if method == "mesolve":
        return qutip.mesolve(H, psi0, tlist, c_ops=list(c_ops or []), e_ops=ops, options=options)
    raise ValueError(f"method must be 'sesolve' or 'mesolve', got {method!r}")


def expect_on_states(e_ops: dict, times, states) -> dict:
    """Evaluate normalised ``e_ops`` on stored states: ``Qobj`` by ``qutip.expect``, callables
    as ``f(t, state)`` (QuTiP 5 convention). Returns ``{key: ndarray}``."""
    out = {}
    for key, op in e_ops.items():
        if isinstance(op, qutip.Qobj):
            out[key] = np.array([qutip.expect(op, s) for s in states])
        else:
            out[key] = np.array([op(t, s) for t, s in zip(times, states, strict=True)])
    return out


def e_ops_dict(e_ops) -> dict:
    """Normalise QuTiP-style ``e_ops`` (None, single, list or dict) to a dict."""
    if e_ops is None:
        return {}
    if isinstance(e_ops, dict):
        for key in e_ops:
            if key in (DELTA_E_KEY, POWER_KEY):
                raise ValueError(f"e_ops key {key!r} is reserved")
        return dict(e_ops)
    if isinstance(e_ops, (qutip.Qobj, qutip.QobjEvo)) or callable(e_ops):
        e_ops = [e_ops]
    return dict(enumerate(e_ops))
