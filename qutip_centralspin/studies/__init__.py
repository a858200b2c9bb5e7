"""Studies built on the engines: sweeps and their checkpoints, scaling laws, quantum advantage,
optimal protocols and the battery cycle.

* :mod:`.scaling` -- :math:`E_{max}`, :math:`P_{max}` sweeps and power-law fits;
* :mod:`.advantage`, :mod:`.dicke_advantage` -- collective vs parallel charging;
* :mod:`.optimal` -- the best piecewise-constant coupling;
* :mod:`.cycle` -- charge, store, extract;
* :mod:`.checkpoint` -- resumable sweeps through QuTiP's map functions.
"""

from .advantage import quantum_advantage
from .cycle import battery_cycle
from .scaling import scaling_sweep

__all__ = ["scaling_sweep", "quantum_advantage", "battery_cycle"]
