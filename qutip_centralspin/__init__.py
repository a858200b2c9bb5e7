"""qutip-centralspin: quantum batteries in the multiple central spin model.

A QuTiP plugin reproducing and extending Peng, He, Chesi, Lin & Guan, *Lower and upper bounds
of quantum battery power in multiple central spin systems*, PRA 103, 052220 (2021).

The top level holds what a session needs: a model, a state, processes, ``charge``, the
``e_ops`` callbacks, the certified maxima, the main studies and the charging plot. The rest
lives in subpackages that follow the flow of a computation:

* :mod:`~qutip_centralspin.models` -- the battery models (spin, cavity and Dicke chargers)
  behind one interface, their operators, states, processes and protocols;
* :mod:`~qutip_centralspin.solvers` -- the engines: exact closed sectors, exact open blocks,
  the QuTiP reference paths;
* :mod:`~qutip_centralspin.results` -- the result of a run and of a maximum;
* :mod:`~qutip_centralspin.observables` -- energy, power, ergotropy, entropy as ``e_ops``;
* :mod:`~qutip_centralspin.maxima` -- certified maxima of closed and open runs;
* :mod:`~qutip_centralspin.studies` -- sweeps, scaling laws, quantum advantage, the cycle;
* :mod:`~qutip_centralspin.paper` -- the paper's data, closed forms and ``reproduce``;
* :mod:`~qutip_centralspin.plotting`, :mod:`~qutip_centralspin.cli`.
"""

from . import _moved

_moved.install()  # old import paths, for one release (before anything imports them)

from . import maxima, models, observables, paper, plotting, results, solvers, studies
from .charging import charge
from .maxima.certified import max_energy, max_power
from .maxima.ergotropy import max_ergotropy
from .models.base import BatteryModel
from .models.cavity import CavityModel
from .models.chargers import charger_state
from .models.dicke import DickeChargerModel
from .models.operators import hamiltonian
from .models.processes import Process, decay, dephasing, pumping
from .models.spin import CentralSpinModel
from .models.states import dicke_state, spin_coherent_charger
from .models.thermal_battery import physical_thermal_state
from .observables.energy import BatteryEnergy, BatteryPower, ChargerEnergy, DeltaBatteryEnergy
from .observables.ergotropy import EntanglementEntropy, Ergotropy
from .plotting import plot_charging
from .results import ChargingResult, Maximum
from .studies.advantage import quantum_advantage
from .studies.scaling import scaling_sweep
from .version import __version__

__all__ = [
    "__version__",
    # models and states
    "BatteryModel",
    "CentralSpinModel",
    "CavityModel",
    "DickeChargerModel",
    "hamiltonian",
    "dicke_state",
    "spin_coherent_charger",
    "charger_state",
    "physical_thermal_state",
    # open systems
    "Process",
    "dephasing",
    "decay",
    "pumping",
    # charging
    "charge",
    "ChargingResult",
    "BatteryEnergy",
    "DeltaBatteryEnergy",
    "BatteryPower",
    "ChargerEnergy",
    "Ergotropy",
    "EntanglementEntropy",
    # maxima and studies
    "Maximum",
    "max_power",
    "max_energy",
    "max_ergotropy",
    "scaling_sweep",
    "quantum_advantage",
    "plot_charging",
    # subpackages
    "models",
    "solvers",
    "results",
    "observables",
    "maxima",
    "studies",
    "paper",
    "plotting",
]

#: Names that left the top level: still served, with a DeprecationWarning, for one release.
_LEFT_TOP_LEVEL = {
    "thermal_charger": "models.thermal",
    "physical_thermal_charger": "models.thermal",
    "product_state": "models.states",
    "ChargerExcitations": "observables.energy",
}


def __getattr__(name: str):
    import importlib
    import warnings

    if name in _LEFT_TOP_LEVEL:
        where = _LEFT_TOP_LEVEL[name]
        warnings.warn(
            f"qutip_centralspin.{name} has moved to qutip_centralspin.{where}.{name}; the "
            "top-level name will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(f"{__name__}.{where}"), name)
    if name in _moved.MOVED:
        return importlib.import_module(f"{__name__}.{name}")  # warns (qutip_centralspin._moved)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
