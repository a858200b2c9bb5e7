"""The closed path of :func:`~qutip_centralspin.charge`: the sector engine, as a result.

No time stepping: :math:`E_B(t)` comes from the spectral form of
:class:`~qutip_centralspin.solvers.sector.SectorEvolution` at the elapsed times
:math:`t - t_0` (``psi0`` is the state at ``tlist[0]``, :mod:`qutip_centralspin.results`).
A Gibbs state of physical spins (:class:`~qutip_centralspin.models.thermal.ThermalMixture`: the
charger's or the battery's) runs one engine per block :math:`(j_B, j_C)` and sums them
(:func:`charge_mixture`).
"""

from __future__ import annotations

import time

import numpy as np
import qutip

from .. import _checks
from ..expectation import evaluate_e_ops, normalize_e_ops
from ..models.basis import battery_dims, embed_symmetric
from ..models.thermal import ThermalMixture
from ..results import ChargingResult
from .sector import SectorEngine

__all__ = [
    "charge_exact",
    "charge_mixture",
    "closed_result",
    "exact_result",
    "OPTIONS",
]

#: Options understood by the exact engine (it has no time steps: a progress bar has nothing
#: to report, but is accepted as on every path).
OPTIONS = _checks.COMMON_OPTIONS


def closed_result(
    model, evo, times, *, e_ops=None, options=None, start, method, solver="exact", **stats
) -> ChargingResult:
    """The :class:`ChargingResult` of an exact closed evolution ``evo`` (any engine's) on
    ``times``: :math:`E_B` from its spectral form at the elapsed times, ``states`` and
    ``e_ops`` on its full states, ``options`` checked, ``stats`` recorded.

    Raises
    ------
    ValueError
        If ``states`` or ``e_ops`` are asked of an evolution without full states (an exact
        mixture over total-spin blocks).
    """
    options = _checks.solver_options(solver, options, OPTIONS)
    store = bool(options.get("store_states"))
    final = bool(options.get("store_final_state"))
    user_ops = normalize_e_ops(e_ops)
    elapsed = times - times[0]
    if (store or final or user_ops) and not hasattr(evo, "states"):
        raise ValueError(
            "states and e_ops are not available for this state: it is an exact mixture over "
            "total-spin blocks that lives on the physical spins; got "
            f"options={options!r}, e_ops={e_ops!r}"
        )
    if store or user_ops:
        states = evo.states(elapsed)
    elif final:
        states = evo.states(elapsed[-1:])
    else:
        states = []
    # energies x times beyond double precision: from_energy refuses the non-finite values
    # with a clear error, so the intermediate overflow warnings are silenced here
    with np.errstate(over="ignore", invalid="ignore"):
        energy = evo.battery_energy(elapsed)
        rate = evo.initial_rate()
    return exact_result(
        model,
        times,
        energy,
        states,
        initial_energy=evo.initial_energy,
        initial_rate=rate,
        options=options,
        user_ops=user_ops,
        method=method,
        start=start,
        solver=solver,
        **stats,
    )


def charge_exact(model, psi0, times, *, e_ops=None, options=None, engine=None) -> ChargingResult:
    """Exact closed evolution of ``psi0`` (ket or density matrix) on ``times``.

    ``engine``: the sector engine to use (default ``SectorEngine(model)``).
    """
    start = time.perf_counter()
    evo = (engine or SectorEngine(model)).evolve(psi0)
    return closed_result(
        model,
        evo,
        times,
        e_ops=e_ops,
        options=options,
        start=start,
        method="sector diagonalisation (LAPACK dstevd)",
    )


def charge_mixture(
    model, psi0: ThermalMixture, times, *, e_ops=None, options=None
) -> ChargingResult:
    r"""Exact closed evolution of a Gibbs state of physical spins on ``times``.

    :math:`E_B(t) = \sum_r w_r E_B^{(r)}(t)` over the blocks :math:`(j_B, j_C)`
    (:class:`~qutip_centralspin.solvers.mixture.MixtureEvolution`). The full state lives on
    :math:`2^{N_B + N}` levels, so ``states`` and ``e_ops`` see the battery's reduced state
    :math:`\rho_B(t) = \sum_r w_r\rho_B^{(r)}(t)`, written in the ``qutip.piqs`` Dicke basis
    as on the open paths (:mod:`qutip_centralspin.models.basis`; block diagonal over :math:`j_B`).
    """
    start = time.perf_counter()
    psi0.check_model(model)
    options = _checks.solver_options("exact", options, OPTIONS)
    store = bool(options.get("store_states"))
    final = bool(options.get("store_final_state"))
    user_ops = normalize_e_ops(e_ops)
    evo = psi0.evolution()
    elapsed = times - times[0]
    if store or user_ops:
        at = elapsed
    elif final:
        at = elapsed[-1:]
    else:
        at = elapsed[:0]
    states = []
    if at.size:
        dim = battery_dims(model.n_battery)
        for rho in evo.reduced_battery_matrices(at):
            piqs = rho if evo.basis == "piqs" else embed_symmetric(rho).full()
            states.append(qutip.Qobj(piqs, dims=[[dim], [dim]]))
    return exact_result(
        model,
        times,
        evo.battery_energy(elapsed),
        states,
        initial_energy=evo.initial_energy,
        initial_rate=evo.initial_rate(),
        options=options,
        user_ops=user_ops,
        method="sector diagonalisation (LAPACK dstevd), one engine per block (j_B, j_C)",
        start=start,
        blocks=len(evo.parts),
        **{"stationary weight": evo.stationary_weight, "neglected weight": psi0.neglected_weight},
    )


def exact_result(
    model,
    times,
    energy,
    states,
    *,
    initial_energy,
    initial_rate,
    options,
    user_ops,
    method,
    start,
    solver: str = "exact",
    **stats,
) -> ChargingResult:
    """The :class:`ChargingResult` of an exact closed path (``options`` already checked,
    ``user_ops`` normalised): e_ops on ``states``, QuTiP's storing options, the stats."""
    e_data = evaluate_e_ops(user_ops, times, states) if user_ops else {}
    return ChargingResult.from_energy(
        model,
        times,
        energy,
        initial_energy=initial_energy,
        initial_rate=initial_rate,
        solver=solver,
        states=states,
        store_states=bool(options.get("store_states")),
        store_final_state=bool(options.get("store_final_state")),
        e_data=e_data,
        stats={
            "solver": solver,
            "method": method,
            "run time": time.perf_counter() - start,
            **stats,
        },
    )
