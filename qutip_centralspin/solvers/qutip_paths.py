"""QuTiP paths: ``qutip.sesolve`` / ``qutip.mesolve`` on the full Dicke space.

This is what a user would write by hand; every faster solver is tested against it. As on every
path, ``psi0`` is the state at ``tlist[0]`` (:mod:`qutip_centralspin.results`).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import qutip

from .. import _checks
from ..expectation import normalize_e_ops
from ..models.operators import hamiltonian
from ..models.protocols import coupling_value, switched_qobjevo
from ..models.spin import CentralSpinModel
from ..models.states import check_state
from ..observables.energy import BatteryEnergy, energy_rate
from ..results import ChargingResult

__all__ = ["evolve_qutip", "integrator_errors", "SESOLVE_OPTIONS", "MESOLVE_OPTIONS"]


def _qutip_options(solver_class) -> tuple[str, ...]:
    keys = set(solver_class.solver_options)
    for integrator in solver_class.avail_integrators().values():
        keys |= set(integrator.integrator_options)
    return tuple(sorted(keys))


#: Options of ``qutip.sesolve`` (its solver options and those of every integrator).
SESOLVE_OPTIONS = _qutip_options(qutip.SESolver)
#: Options of ``qutip.mesolve``.
MESOLVE_OPTIONS = _qutip_options(qutip.MESolver)


@contextlib.contextmanager
def integrator_errors(solver: str, options: dict):
    """Turn QuTiP's integrator failure (step budget exhausted) into a ``ValueError`` that says
    which option to change."""
    try:
        yield
    except qutip.solver.integrator.IntegratorException as exc:
        raise ValueError(
            f"solver={solver!r}: the ODE integrator stopped ({exc}); raise options['nsteps'] "
            f"(now {options.get('nsteps', 'the default')}) or loosen atol/rtol"
        ) from None


class _EnergyKey:
    """The ``e_data`` key of the battery energy (no user key can collide with it)."""

    def __repr__(self):
        return "<battery energy>"


def evolve_qutip(
    model: CentralSpinModel,
    psi0: qutip.Qobj,
    tlist,
    *,
    c_ops=None,
    e_ops=None,
    options=None,
    method: str = "sesolve",
    coupling=None,
) -> ChargingResult:
    r"""Run ``sesolve`` (or ``mesolve`` with ``c_ops``) from ``tlist[0]``; the battery energy
    is recorded with the user's ``e_ops``, which go to QuTiP unchanged.

    ``coupling`` (:mod:`qutip_centralspin.models.protocols`): :math:`\lambda(t)` multiplying
    :math:`H_I`, a ``PiecewiseConstant``, a function ``f(t)`` or an array on ``tlist``; the
    Hamiltonian is then the ``QobjEvo`` :math:`H_0 + \lambda(t)H_I`.
    """
    start = time.perf_counter()
    check_state(model, psi0, "psi0")
    if method not in ("sesolve", "mesolve"):
        raise ValueError(f"method must be 'sesolve' or 'mesolve', got {method!r}")
    allowed = SESOLVE_OPTIONS if method == "sesolve" else MESOLVE_OPTIONS
    options = _checks.solver_options(method, options, (*allowed, "max_memory"))
    qutip_options = {k: v for k, v in options.items() if k != "max_memory"}
    if isinstance(c_ops, qutip.Qobj):
        c_ops = [c_ops]
    c_ops = list(c_ops or [])
    times = _checks.time_list("tlist", tlist)
    key = _EnergyKey()
    ops = {**normalize_e_ops(e_ops), key: BatteryEnergy(model)}
    H = hamiltonian(model)
    rate_model = model
    if coupling is not None:
        H = switched_qobjevo(H, hamiltonian(model.replace(A=0.0, delta=0.0)), coupling, times)
        lam0 = coupling_value(coupling, times[0], times)
        rate_model = model.replace(A=lam0 * model.A, delta=lam0 * model.delta)
    if method == "sesolve":
        if c_ops:
            raise ValueError("solver='sesolve' cannot take c_ops; use solver='mesolve'")
        if not psi0.isket:
            raise ValueError(
                "solver='sesolve' needs a ket psi0 (it would propagate a density matrix as "
                "U(t) rho, not U rho U^dagger); use solver='mesolve' or 'exact'"
            )
        with integrator_errors(method, options):
            res = qutip.sesolve(H, psi0, times, e_ops=ops, options=qutip_options)
    else:
        with integrator_errors(method, options):
            res = qutip.mesolve(H, psi0, times, c_ops=c_ops, e_ops=ops, options=qutip_options)
    e_data = {k: np.asarray(v) for k, v in res.e_data.items() if k is not key}
    states = list(res.states)
    if not states and res.final_state is not None:
        states = [res.final_state]
    return ChargingResult.from_energy(
        model,
        times,
        np.asarray(res.e_data[key], dtype=float),
        initial_energy=BatteryEnergy(model).energy(psi0),
        initial_rate=energy_rate(rate_model, psi0, c_ops=c_ops),
        solver=method,
        states=states,
        store_states=bool(options.get("store_states")),
        store_final_state=bool(options.get("store_final_state")),
        e_data=e_data,
        stats={**res.stats, "solver": method, "run time": time.perf_counter() - start},
    )
