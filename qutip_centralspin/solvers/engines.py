r"""Which engine evolves which model: the one table from model kinds to their exact solvers.

The models (:mod:`qutip_centralspin.models`) are data and physics; they never import a solver.
The engines are written against the model interface
(:class:`~qutip_centralspin.models.base.BatteryModel`), and this module says which engine a
model kind runs on:

* :func:`closed_evolution` -- the exact closed evolution on the model's conserved sectors
  (a :class:`~qutip_centralspin.solvers.sector.SectorEvolution`, or a mixture of them for a
  Gibbs state of physical spins) and what a result's ``stats`` record about it;
* :func:`open_solver` -- the exact open solver on the model's invariant blocks, or the
  ``ValueError`` of a model that has none (:attr:`BatteryModel.open_refusal
  <qutip_centralspin.models.base.BatteryModel.open_refusal>` says why).

A new model kind is a new row here and an implementation of the interface, nothing else.
"""

from __future__ import annotations

from ..models.base import check_battery_model
from ..models.cavity import CavityModel
from ..models.dicke import DickeChargerModel
from ..models.groups import GroupModel
from ..models.processes import as_processes
from ..models.spin import CentralSpinModel
from .blocks import BlockSolver
from .cavity_blocks import CavityBlockSolver
from .cavity_engine import CavityEngine
from .dicke_engine import dicke_evolution
from .group_engine import group_evolution, group_method
from .sector import SectorEngine

__all__ = ["closed_evolution", "open_solver"]


def _spin(model, state, times):
    if hasattr(state, "evolution"):  # a Gibbs state of physical spins: one engine per block
        state.check_model(model)
        method = "sector diagonalisation (LAPACK dstevd), one engine per block (j_B, j_C)"
        return state.evolution(), {"method": method}
    return SectorEngine(model).evolve(state), {"method": "sector diagonalisation (LAPACK dstevd)"}


def _cavity(model, state, times):
    evo = CavityEngine(model).evolve(state)  # K is conserved: no photon truncation
    return evo, {"method": "excitation-sector diagonalisation (LAPACK dstevd)"}


def _dicke(model, state, times):
    return dicke_evolution(model, state, times=times)  # cutoff checked on the times


def _groups(model, state, times):
    evo = group_evolution(model, state)  # dense or sparse sectors by size
    return evo, {"method": group_method(evo)}


#: model class -> f(model, state, elapsed times or None) -> (evolution, stats)
_CLOSED = {
    CentralSpinModel: _spin,
    CavityModel: _cavity,
    DickeChargerModel: _dicke,
    GroupModel: _groups,
}
#: model class -> the class of its exact open solver, built as cls(model, processes)
_OPEN = {CentralSpinModel: BlockSolver, CavityModel: CavityBlockSolver}


def _row(table: dict, model):
    for klass in type(model).__mro__:
        if klass in table:
            return table[klass]
    return None


def closed_evolution(model, state, *, times=None):
    """The exact closed evolution of ``state`` (a form :meth:`BatteryModel.as_state
    <qutip_centralspin.models.base.BatteryModel.as_state>` returns) and the ``stats`` of it.

    ``times`` (elapsed from the start) let a truncated charger check its cutoff on them.

    Raises
    ------
    TypeError
        If ``model`` is not a battery model with an engine.
    """
    model = check_battery_model(model)
    build = _row(_CLOSED, model)
    if build is None:
        raise TypeError(f"no exact engine for a {type(model).__name__}")
    return build(model, state, times)


def open_solver(model, processes):
    """The exact open solver of ``model`` under ``processes`` (Lindblad).

    Raises
    ------
    ValueError
        If the model has none: the model's :attr:`open_refusal` says why and what is
        supported.
    """
    model = check_battery_model(model)
    klass = _row(_OPEN, model)
    if klass is None:
        raise ValueError(
            model.open_refusal
            or f"processes and coupling protocols are not supported for a {type(model).__name__}"
        )
    return klass(model, as_processes(processes))
