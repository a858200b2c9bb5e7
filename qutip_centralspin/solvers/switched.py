r"""Exact closed evolution under a piecewise-constant coupling :math:`\lambda(t)`.

On a segment with constant :math:`\lambda`, :math:`H = H_B + H_C + \lambda H_I` is the model's
Hamiltonian with :math:`A \to \lambda A` and :math:`\Delta \to \lambda\Delta`
(:mod:`qutip_centralspin.models.protocols`), so the sector engine evolves it exactly; the state at the
end of a segment starts the next one. No time stepping: the only error is rounding.
``psi0`` is the state at ``tlist[0]`` (:mod:`qutip_centralspin.results`); the protocol's times
are absolute.
"""

from __future__ import annotations

import time

import numpy as np

from .. import _checks
from ..expectation import normalize_e_ops
from ..models.protocols import PiecewiseConstant
from ..results import ChargingResult
from .exact import OPTIONS, exact_result
from .sector import SectorEngine

__all__ = ["charge_switched"]


def _segment_model(model, lam: float):
    return model.replace(A=lam * model.A, delta=lam * model.delta)


def charge_switched(
    model, psi0, times, protocol: PiecewiseConstant, *, e_ops=None, options=None
) -> ChargingResult:
    """Exact closed evolution of ``psi0`` under ``protocol`` on ``times`` (from ``times[0]``)."""
    start = time.perf_counter()
    if not isinstance(protocol, PiecewiseConstant):
        raise TypeError(
            "the exact switched path takes a PiecewiseConstant coupling, got "
            f"{type(protocol).__name__}; use solver='sesolve' or 'mesolve' for other couplings"
        )
    options = _checks.solver_options("exact", options, OPTIONS)
    store = bool(options.get("store_states"))
    final = bool(options.get("store_final_state"))
    user_ops = normalize_e_ops(e_ops)
    want_states = store or bool(user_ops)
    energy = np.empty(times.size)
    states: list = [None] * times.size if want_states else []
    state, initial, rate = psi0, None, None
    segments = protocol.segments(float(times[0]), float(times[-1]))
    for a, b, lam in segments:
        evo = SectorEngine(_segment_model(model, lam)).evolve(state)
        if initial is None:
            initial, rate = evo.initial_energy, evo.initial_rate()
        inside = np.nonzero((times >= a) & (times <= b))[0]
        energy[inside] = evo.battery_energy(times[inside] - a)
        if want_states:
            for i, s in zip(inside, evo.states(times[inside] - a), strict=True):
                states[i] = s
        if b > a:
            state = evo.states(np.array([b - a]))[0]
    if final and not want_states:
        states = [state]
    return exact_result(
        model,
        times,
        energy,
        states,
        initial_energy=initial,
        initial_rate=rate,
        options=options,
        user_ops=user_ops,
        method="sector diagonalisation per constant-coupling segment",
        start=start,
        segments=len(segments),
    )
