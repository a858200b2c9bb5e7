"""Solvers: the exact excitation-sector engine and the QuTiP reference path.

* :mod:`.sector` -- closed systems, exact diagonalisation of each U(1) sector (no time stepping);
* :mod:`.reference` -- ``qutip.sesolve`` / ``qutip.mesolve`` on the full Dicke space.
"""

from .reference import evolve_qutip
from .sector import SectorEngine, SectorEvolution

__all__ = ["SectorEngine", "SectorEvolution", "evolve_qutip"]
