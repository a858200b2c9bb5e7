"""The best Dicke charger: the charger excitation :math:`n^*` that maximises the maxima."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..maxima.certified import certified_max_energy, certified_max_power
from ..models.operators import check_model
from ..models.spin import CentralSpinModel
from ..solvers.sector import SectorEngine

__all__ = [
    "TIE_RTOL",
    "OBJECTIVES",
    "BestDickeCharger",
    "best_dicke_charger",
]


#: Maxima closer than this (relative) to the best count as ties in :func:`best_dicke_charger`.
TIE_RTOL = 1e-9


OBJECTIVES = ("power", "energy")


@dataclass(frozen=True)
class BestDickeCharger:
    """The Dicke charger :math:`|n\\rangle` with the largest maximum.

    Attributes
    ----------
    n : int
        The best ``n`` (the smallest one among ties).
    value, time : float
        Its certified :math:`P_{max}` (or :math:`E_{max}`) and the time reached.
    objective : str
        ``"power"`` or ``"energy"``.
    n_values, values, times : ndarray
        Every ``n = 0..N`` with its maximum and time.
    ties : tuple of int
        All ``n`` within 1e-9 relative of the best (e.g. ``N/2`` and ``N/2 + 1`` for even
        ``N`` at ``N_B = 1``).
    """

    n: int
    value: float
    time: float
    objective: str
    n_values: np.ndarray
    values: np.ndarray
    times: np.ndarray
    ties: tuple[int, ...]


def best_dicke_charger(
    model: CentralSpinModel,
    *,
    m: int = 0,
    objective: str = "power",
    engine: SectorEngine | None = None,
) -> BestDickeCharger:
    r"""The charger Dicke state :math:`|n\rangle` maximising :math:`P_{max}` (or :math:`E_{max}`).

    Every ``n = 0..N`` is evaluated exactly (certified maxima of :mod:`~qutip_centralspin.maxima.certified`,
    one shared :class:`SectorEngine`). For :math:`N_B = 1` at resonance
    (:math:`B = h`, :math:`\Delta = 0`), :math:`P_{max} = c^*BA\sqrt{b_{N,n}}` (Eq. 15) peaks at
    :math:`n = (N+1)/2`, the paper's observation (for even ``N`` the two neighbours tie).

    Parameters
    ----------
    model : CentralSpinModel
    m : int, default 0
        Battery Dicke state.
    objective : {"power", "energy"}
        Maximise the certified :math:`P_{max}` or :math:`E_{max}` (default window).
    engine : SectorEngine, optional
        Reuse an engine built for ``model``.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.studies.chargers import best_dicke_charger
    >>> best_dicke_charger(CentralSpinModel(n_battery=1, n_charger=9)).n
    5
    """
    check_model(model)
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    if engine is None:
        engine = SectorEngine(model)
    elif engine.model != model:
        raise ValueError("engine was built for a different model")
    ns = np.arange(model.n_charger + 1)
    values, times = np.empty(ns.size), np.empty(ns.size)
    for i, n in enumerate(ns):
        evo = engine.evolve((m, int(n)))
        best = certified_max_power(evo) if objective == "power" else certified_max_energy(evo)
        values[i], times[i] = best.value, best.time
    top = float(values.max())
    tie_mask = values >= top - TIE_RTOL * max(abs(top), math.ulp(1.0))
    ties = tuple(int(n) for n in ns[tie_mask])
    i = int(np.flatnonzero(tie_mask)[0])
    return BestDickeCharger(
        n=int(ns[i]),
        value=float(values[i]),
        time=float(times[i]),
        objective=objective,
        n_values=ns,
        values=values,
        times=times,
        ties=ties,
    )
