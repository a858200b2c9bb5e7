"""Observables of the battery as ``e_ops`` callbacks, valid on every solver path.

* :mod:`.energy` -- :math:`E_B`, :math:`\\Delta E_B`, :math:`P_B`, the charger's energy;
* :mod:`.ergotropy` -- ergotropy :math:`W(\\rho_B)` and entanglement entropy.

The callbacks a session needs are also at the top level (``qutip_centralspin.BatteryEnergy``,
...); everything else is imported from its module.
"""

__all__: list[str] = []
