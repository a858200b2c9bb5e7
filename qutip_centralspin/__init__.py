"""qutip-centralspin: quantum batteries in the multiple central spin model.

A QuTiP plugin reproducing and extending Peng, He, Chesi, Lin & Guan, *Lower and upper bounds
of quantum battery power in multiple central spin systems*, PRA 103, 052220 (2021).
"""

from . import analytic
from .analytic import c_star
from .charging import ChargingResult, charge
from .maxima import Maximum, grid_maximum, max_energy, max_power
from .model import CentralSpinModel
from .observables import BatteryEnergy, BatteryPower, DeltaBatteryEnergy
from .operators import (
    CollectiveOperators,
    battery_hamiltonian,
    charger_hamiltonian,
    collective_operators,
    dicke_index,
    excitation_number,
    hamiltonian,
    interaction_hamiltonian,
)
from .solvers import SectorEngine, SectorEvolution
from .states import (
    battery_dicke,
    charger_dicke,
    dicke_state,
    product_state,
    spin_coherent_charger,
)
from .version import __version__

__all__ = [
    "__version__",
    "analytic",
    "c_star",
    "CentralSpinModel",
    "CollectiveOperators",
    "collective_operators",
    "dicke_index",
    "battery_hamiltonian",
    "charger_hamiltonian",
    "interaction_hamiltonian",
    "hamiltonian",
    "excitation_number",
    "battery_dicke",
    "charger_dicke",
    "dicke_state",
    "spin_coherent_charger",
    "product_state",
    "BatteryEnergy",
    "DeltaBatteryEnergy",
    "BatteryPower",
    "charge",
    "ChargingResult",
    "SectorEngine",
    "SectorEvolution",
    "Maximum",
    "max_power",
    "max_energy",
    "grid_maximum",
]
