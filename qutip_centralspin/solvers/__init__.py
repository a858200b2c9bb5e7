"""Solvers, one module a path; each returns a :class:`~qutip_centralspin.results.ChargingResult`.

* :mod:`.sector` -- closed systems, exact diagonalisation of each U(1) sector (no time stepping);
  :mod:`.exact` runs it for :func:`~qutip_centralspin.charge`;
* :mod:`.blocks` -- open systems, exact Lindblad evolution on the invariant (j, K) blocks;
* :mod:`.qutip_paths` -- ``qutip.sesolve`` / ``qutip.mesolve`` on the full Dicke space;
* :mod:`.references` -- ``qutip.piqs`` (x) charger, brute-force qubits, symmetric ``mesolve``.
"""

from .sector import SectorEngine, SectorEvolution

__all__ = ["SectorEngine", "SectorEvolution"]
