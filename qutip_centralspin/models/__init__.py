"""Battery models behind one interface, and what they are built from.

* :mod:`.base` -- :class:`~qutip_centralspin.models.base.BatteryModel`, the interface every
  charger implements;
* :mod:`.spin`, :mod:`.cavity`, :mod:`.dicke`, :mod:`.groups` -- the spin, cavity
  (Tavis-Cummings), Dicke and multi-group (inhomogeneous) chargers;
* :mod:`.operators` -- :math:`H`, :math:`H_B` and the ladder coefficients, written once;
* :mod:`.states`, :mod:`.chargers`, :mod:`.thermal`, :mod:`.thermal_battery`,
  :mod:`.statedata` -- initial states;
* :mod:`.processes`, :mod:`.protocols` -- dissipative processes and coupling protocols
  :math:`\\lambda(t)`;
* :mod:`.basis` -- the basis of the battery's reduced state.
"""

__all__: list[str] = []
