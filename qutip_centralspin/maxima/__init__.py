"""Maxima over time of a charging run, with rigorous brackets.

* :mod:`.certified` -- :math:`P_{max}`, :math:`\\tau` and :math:`E_{max}` of closed runs
  (Taylor-certified peaks, branch and bound on rigorous derivative bounds);
  its parts: :mod:`.bounds` (the rigorous constants and round-off model), :mod:`.peak` (the
  Taylor-certified peak), :mod:`.search` (branch and bound, scan helpers), :mod:`.power`
  (:math:`P_{max}`), :mod:`.energy` (:math:`E_{max}` over a window), :mod:`.first_peak` (the
  first local maximum of :math:`\\Delta E_B`) and :mod:`.window` (a certified maximum over a
  window from a curvature bound, for the ergotropy and open runs);
* :mod:`.ergotropy` -- the largest ergotropy :math:`W_{max}` (or its first peak);
* :mod:`.charging_time` -- the charging time by either paper's definition;
* :mod:`.open` -- the same for dissipative runs on the exact block solver, over a window.
* :mod:`.grid` -- grid *estimates* where no spectrum certifies (sparse group sectors);
* :mod:`.estimates` -- TWA *estimates* (not certified) of :math:`P_{max}`, :math:`\tau` and the
  first :math:`E_{max}` at large sizes (``max_power(..., method="twa")``).
"""

from .certified import (
    certified_max_energy,
    certified_max_power,
    evolution_of,
    max_energy,
    max_power,
)

__all__ = [
    "max_power",
    "max_energy",
    "certified_max_power",
    "certified_max_energy",
    "evolution_of",
]
