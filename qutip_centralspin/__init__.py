"""qutip-centralspin: quantum batteries in the multiple central spin model.

A QuTiP plugin reproducing and extending Peng, He, Chesi, Lin & Guan, *Lower and upper bounds
of quantum battery power in multiple central spin systems*, PRA 103, 052220 (2021).

The top level holds what a session needs: a model, a state, processes, ``charge``, the
``e_ops`` callbacks, certified maxima, the main studies and the charging plot. Everything else
lives in its submodule (``operators``, ``states``, ``chargers``, ``processes``, ``solvers``,
``ergotropy``, ``advantage``, ``cavity``, ``dicke_charger``, ``dicke_advantage``, ``scaling``,
``analytic``, ``paper``, ``plotting``, ``basis``, ``results``, ``observables``, ``maxima``,
``expectation``, ``resources``, ``estimates``, ``protocols``, ``cycle``, ``optimal``,
``open_maxima``, ``checkpoint``, ``thermal``, ``thermal_battery``).
"""

from . import (
    advantage,
    analytic,
    basis,
    cavity,
    chargers,
    checkpoint,
    cycle,
    dicke_advantage,
    dicke_charger,
    ergotropy,
    estimates,
    expectation,
    maxima,
    observables,
    open_maxima,
    operators,
    optimal,
    paper,
    plotting,
    processes,
    protocols,
    resources,
    results,
    scaling,
    solvers,
    states,
    thermal,
    thermal_battery,
)
from .advantage import quantum_advantage
from .cavity import CavityModel
from .chargers import charger_state
from .charging import charge
from .dicke_charger import DickeChargerModel
from .ergotropy import EntanglementEntropy, Ergotropy, max_ergotropy
from .maxima import max_energy, max_power
from .model import CentralSpinModel
from .models import BatteryModel
from .observables import (
    BatteryEnergy,
    BatteryPower,
    ChargerEnergy,
    ChargerExcitations,
    DeltaBatteryEnergy,
)
from .operators import hamiltonian
from .plotting import plot_charging
from .processes import Process, decay, dephasing, pumping
from .results import ChargingResult, Maximum
from .scaling import scaling_sweep
from .states import dicke_state, product_state, spin_coherent_charger
from .thermal import physical_thermal_charger, thermal_charger
from .thermal_battery import physical_thermal_state
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
    "thermal_charger",
    "physical_thermal_charger",
    "physical_thermal_state",
    "charger_state",
    "product_state",
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
    "ChargerExcitations",
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
    # submodules
    "advantage",
    "analytic",
    "basis",
    "cavity",
    "chargers",
    "checkpoint",
    "cycle",
    "dicke_advantage",
    "dicke_charger",
    "ergotropy",
    "estimates",
    "expectation",
    "maxima",
    "observables",
    "open_maxima",
    "operators",
    "optimal",
    "paper",
    "plotting",
    "processes",
    "protocols",
    "resources",
    "results",
    "scaling",
    "solvers",
    "states",
    "thermal",
    "thermal_battery",
]
