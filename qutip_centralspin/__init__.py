"""qutip-centralspin: quantum batteries in the multiple central spin model.

A QuTiP plugin reproducing and extending Peng, He, Chesi, Lin & Guan, *Lower and upper bounds
of quantum battery power in multiple central spin systems*, PRA 103, 052220 (2021).
"""

from . import analytic, paper, plotting, scaling
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
from .scaling import (
    PowerLawFit,
    ScalingSweep,
    beta_limit,
    fit_power_law,
    power_grid,
    scaling_sweep,
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

# isort: split
# ergotropy, entanglement, quantum advantage, charger states, cavity charger (issue 6)
from . import advantage, cavity, chargers, ergotropy
from .advantage import (
    Advantage,
    AdvantageSweep,
    advantage_limit,
    advantage_sweep,
    quantum_advantage,
)
from .cavity import (
    CavityEngine,
    CavityModel,
    cavity_max_power,
    cavity_state,
    spin_cavity_convergence,
    tavis_cummings_scaling,
)
from .chargers import best_dicke_charger, charger_state, thermal_charger
from .ergotropy import (
    EntanglementEntropy,
    Ergotropy,
    battery_ergotropy,
    block_entropy,
    block_ergotropy,
    entanglement_entropy,
    ergotropy_trace,
    max_ergotropy,
)

# isort: split
# open (decohering) charging: processes, exact block solver, references (issue 5)
from . import processes
from .processes import (
    Process,
    collective_c_ops,
    decay,
    dephasing,
    processes_from_flags,
    pumping,
)
from .solvers.blocks import BlockSolver
from .solvers.piqs_reference import bruteforce_mesolve, piqs_mesolve, symmetric_mesolve

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
    "scaling",
    "scaling_sweep",
    "power_grid",
    "fit_power_law",
    "beta_limit",
    "ScalingSweep",
    "PowerLawFit",
    "paper",
    "plotting",
    # ergotropy, entanglement, quantum advantage, charger states, cavity charger (issue 6)
    "ergotropy",
    "battery_ergotropy",
    "entanglement_entropy",
    "Ergotropy",
    "EntanglementEntropy",
    "ergotropy_trace",
    "max_ergotropy",
    "block_ergotropy",
    "block_entropy",
    "advantage",
    "Advantage",
    "AdvantageSweep",
    "quantum_advantage",
    "advantage_sweep",
    "advantage_limit",
    "chargers",
    "thermal_charger",
    "charger_state",
    "best_dicke_charger",
    "cavity",
    "CavityModel",
    "CavityEngine",
    "cavity_max_power",
    "cavity_state",
    "spin_cavity_convergence",
    "tavis_cummings_scaling",
    # open (decohering) charging (issue 5)
    "processes",
    "Process",
    "dephasing",
    "decay",
    "pumping",
    "collective_c_ops",
    "processes_from_flags",
    "BlockSolver",
    "piqs_mesolve",
    "bruteforce_mesolve",
    "symmetric_mesolve",
]
