"""Observables of the battery as ``e_ops`` callbacks, valid on every solver path.

* :mod:`.energy` -- :math:`E_B`, :math:`\\Delta E_B`, :math:`P_B`, the charger's energy;
* :mod:`.ergotropy` -- ergotropy :math:`W(\\rho_B)` and entanglement entropy;
"""

from .energy import (
    BatteryEnergy,
    BatteryPower,
    ChargerEnergy,
    ChargerExcitations,
    DeltaBatteryEnergy,
    energy_rate,
)
from .ergotropy import EntanglementEntropy, Ergotropy

__all__ = [
    "BatteryEnergy",
    "DeltaBatteryEnergy",
    "BatteryPower",
    "ChargerEnergy",
    "ChargerExcitations",
    "energy_rate",
    "Ergotropy",
    "EntanglementEntropy",
]
