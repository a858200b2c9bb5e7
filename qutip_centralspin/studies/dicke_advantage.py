r"""Maxima of the Dicke (Ferraro) charger, collective against parallel, and the quantum advantage.

Collective: :math:`N_B` spins in one cavity holding :math:`N_B` photons
(:mod:`qutip_centralspin.models.dicke`). Parallel ("Rabi" battery of Ferraro *et al.*,
PRL **120**, 117702 (2018)): :math:`N_B` independent cells, each one spin with its own cavity
holding one photon, same :math:`\omega_c, \omega_a, \lambda`. The cells do not interact, so
:math:`\Delta E_B^{\parallel}(t) = N_B\,\Delta E_1(t)` and, exactly,

.. math::

    P^{\parallel}_{max} = N_B P_{max,1}, \qquad E^{\parallel}_{max} = N_B E_{max,1},
    \qquad \Gamma = P^{collective}_{max}/P^{\parallel}_{max}.

The parallel ergotropy is :math:`N_B W_{max,1}`: each cell discharged on its own. (A unitary
acting on all :math:`N_B` cells together can extract more from
:math:`\rho_1^{\otimes N_B}`; that is not the parallel architecture.)

What each number is
-------------------
* ``P_max``: certified by :func:`~qutip_centralspin.maxima.certified.certified_max_power` over all
  :math:`t \ge 0` for the Hamiltonian cut at the chosen photon cutoff :math:`K`.
* ``E_max``: certified on the window (default
  :func:`~qutip_centralspin.models.dicke.charging_window`) for the same truncated Hamiltonian.
* ``W_max``: an *estimate* (:func:`~qutip_centralspin.maxima.ergotropy.max_ergotropy`).
* The effect of the cutoff: estimated, not bounded -- each maximum is recomputed at the
  previous cutoff of the convergence check and the change is reported (``*_change``), next to
  the check itself (:class:`~qutip_centralspin.solvers.dicke_engine.PhotonCutoff`) and the rigorous
  bound of the dropped eigen-components (``spectral_error_bound``).

What the exact numbers give
---------------------------
Ferraro *et al.* report :math:`\Gamma \propto \sqrt{N}` for :math:`N \gg 1`. Measured here at
resonance (:math:`\omega_a = \omega_c = 1`) with :func:`dicke_advantage` (cutoff tolerance
1e-10; every collective run converged, :math:`P_{max}` changing by at most 1e-11 between the
last two cutoffs), fitting :math:`\Gamma = \beta N^\alpha` on the stated windows:

* :math:`\lambda = 0.5`, :math:`N = 1..12` (cutoffs 23 to 395): :math:`\alpha = 0.5056`
  on [1, 12], 0.5013 on [3, 12], **0.5000** on [6, 12] (log residual 5e-5);
  :math:`\Gamma(12) = 3.523`, :math:`P^{collective}_{max} \propto N^{1.5000}`. The
  :math:`\sqrt N` advantage, cleanly.
* :math:`\lambda = 0.05`, :math:`N = 1..30` (and 36, 42, 48): :math:`\alpha = 0.499` on
  [8, 16], as the rotating-wave (Tavis-Cummings) charger gives (0.492 on [7, 30]); then 0.44 on
  [15, 30] and 0.68 on [30, 48] (:math:`\Gamma` = 4.290, 4.780, 5.354, 5.901 at
  :math:`N` = 30, 36, 42, 48, with :math:`\tau` jumping to an earlier peak). The local
  exponent is not asymptotic there: :math:`\lambda\sqrt N` approaches 1/2, the critical
  coupling of the Dicke model (:math:`\omega_c\lambda\sqrt N = \sqrt{\omega_c\omega_a}/2`),
  at :math:`N = 100`.
* :math:`\lambda = 1`, :math:`N = 1..6` (cutoffs 41 to 338): :math:`\alpha = 0.465` on [3, 6].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..maxima.certified import CERTIFIED_RTOL, certified_max_energy, certified_max_power
from ..maxima.ergotropy import certified_max_ergotropy
from ..models.dicke import CouplingScaling, DickeChargerModel, charging_window
from ..observables.ergotropy import DEFAULT_BATTERY, Battery
from ..results import Maximum
from ..solvers.dicke_engine import CUTOFF_TOL, PhotonCutoff, photon_cutoff
from .scaling import PowerLawFit, fit_power_law

__all__ = [
    "DICKE_REFERENCES",
    "DickeMaxima",
    "dicke_maxima",
    "DickeAdvantage",
    "dicke_advantage",
]

#: The parallel references of the Dicke battery's Gamma (named as in
#: :data:`~qutip_centralspin.studies.advantage.ADVANTAGE_REFERENCES`): ``"pairs"``, N_B Rabi cells of
#: one spin and one photon each (Ferraro et al.).
DICKE_REFERENCES = {"pairs": "N_B Rabi cells of 1 spin and 1 photon in its own cavity"}

#: How often the cutoff check is redone on a longer window when tau lies beyond it.
_WINDOW_RETRIES = 3


@dataclass(frozen=True)
class DickeMaxima:
    r""":math:`P_{max}`, :math:`E_{max}` and :math:`W_{max}` of one Dicke charging run.

    Attributes
    ----------
    model : DickeChargerModel
    p_max, e_max : Maximum
        Certified for the Hamiltonian cut at ``cutoff.cutoff`` photons (see module notes).
    w_max : Maximum or None
        Ergotropy estimate (``None`` if not asked for).
    cutoff : PhotonCutoff
        The convergence check that chose the cutoff (its window covers :math:`\tau`).
    p_change, e_change, w_change : float
        :math:`|X(K) - X(K_{prev})|` for each maximum (``nan`` for an absent ``w_max``).
    spectral_error_bound : float
        Rigorous bound on the effect of the dropped eigen-components on :math:`\Delta E_B`.
    """

    model: DickeChargerModel
    p_max: Maximum
    e_max: Maximum
    w_max: Maximum | None
    cutoff: PhotonCutoff
    p_change: float
    e_change: float
    w_change: float
    spectral_error_bound: float

    @property
    def converged(self) -> bool:
        """The cutoff check converged and both certified brackets met their tolerance."""
        return self.cutoff.converged and self.p_max.converged and self.e_max.converged


def dicke_maxima(
    model: DickeChargerModel,
    state=None,
    *,
    window: float | None = None,
    tol: float = CUTOFF_TOL,
    rtol: float = CERTIFIED_RTOL,
    ergotropy: bool = True,
    battery: Battery = DEFAULT_BATTERY,
) -> DickeMaxima:
    r"""Certified :math:`P_{max}`, :math:`E_{max}` and estimated :math:`W_{max}` with a checked cutoff.

    Parameters
    ----------
    model : DickeChargerModel
    state : tuple or Qobj, optional
        As for :meth:`~qutip_centralspin.solvers.dicke_engine.DickeEngine.evolve`; default
        :math:`|m=0\rangle|k=N_B\rangle`.
    window : float, optional
        Window of :math:`E_{max}`, :math:`W_{max}` and the cutoff check; default
        :func:`~qutip_centralspin.models.dicke.charging_window`. The check is extended
        (up to three times) to cover the time :math:`\tau` of :math:`P_{max}`.
    tol : float, default 1e-10
        Tolerance of the cutoff check (:func:`~qutip_centralspin.solvers.dicke_engine.photon_cutoff`).
    rtol : float, default 1e-10
        Relative width of the certified brackets.
    ergotropy : bool, default True
        Also estimate :math:`W_{max}` of the battery's reduced state (the slowest part).
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        The ergotropy picture (:mod:`qutip_centralspin.observables.ergotropy`).

    Examples
    --------
    >>> from qutip_centralspin.models.dicke import DickeChargerModel
    >>> from qutip_centralspin.studies.dicke_advantage import dicke_maxima
    >>> res = dicke_maxima(DickeChargerModel(1, 1.0, 1.0, 0.05), (0, 1), ergotropy=False)
    >>> round(res.p_max.value, 8), res.cutoff.cutoff
    (0.03615429, 14)
    """
    if not isinstance(model, DickeChargerModel):
        raise TypeError(f"model must be a DickeChargerModel, got {type(model).__name__}")
    rtol = _checks.positive_real("rtol", rtol)
    window = charging_window(model) if window is None else _checks.positive_real("window", window)
    check_window, engines = window, {}
    for _ in range(_WINDOW_RETRIES + 1):
        cut = photon_cutoff(model, state, window=check_window, tol=tol, engines=engines)
        evo = engines[cut.cutoff].evolve(state)
        p = certified_max_power(evo, rtol=rtol)
        if not np.isfinite(p.time) or p.time <= cut.window:
            break
        check_window = 1.5 * p.time
    e = certified_max_energy(evo, window=window, rtol=rtol)
    w = certified_max_ergotropy(evo, battery=battery, window=window) if ergotropy else None
    prev = engines[cut.previous].evolve(state)
    p_prev = certified_max_power(prev, rtol=rtol)
    e_prev = certified_max_energy(prev, window=window, rtol=rtol)
    w_change = float("nan")
    if ergotropy:
        w_change = abs(
            w.value - certified_max_ergotropy(prev, battery=battery, window=window).value
        )
    return DickeMaxima(
        model=model,
        p_max=p,
        e_max=e,
        w_max=w,
        cutoff=cut,
        p_change=abs(p.value - p_prev.value),
        e_change=abs(e.value - e_prev.value),
        w_change=w_change,
        spectral_error_bound=evo.spectral_error_bound,
    )


@dataclass(frozen=True, eq=False)
class DickeAdvantage:
    r"""Collective against parallel Dicke charging over :math:`N_B`.

    Attributes
    ----------
    n_battery : ndarray of int
    collective : tuple of DickeMaxima
        :math:`N_B` spins, one cavity with :math:`N_B` photons, for each ``n_battery``.
    single : DickeMaxima
        One spin, one cavity with one photon: the parallel cell.
    reference : str
        ``"pairs"`` (:data:`DICKE_REFERENCES`).
    """

    n_battery: np.ndarray
    collective: tuple
    single: DickeMaxima
    reference: str = "pairs"

    @property
    def definition(self) -> str:
        r"""The definition of :math:`\Gamma` used, in words."""
        model = self.single.model
        return (
            "Gamma = P_max(collective: N_B spins in one cavity with N_B photons) / "
            f"P_max(parallel: {DICKE_REFERENCES[self.reference]}); "
            f"omega_c = {model.omega_c:g}, omega_a = {model.omega_a:g}, lambda = "
            f"{model.coupling:g} with scaling {model.scaling!r}; P_max the global maximum of "
            "Delta E_B(t)/t"
        )

    def __repr__(self) -> str:
        return (
            f"DickeAdvantage(n_battery={self.n_battery.tolist()}, "
            f"advantage={np.round(self.advantage, 6).tolist()}, reference={self.reference!r}, "
            f"definition={self.definition!r})"
        )

    @property
    def p_collective(self) -> np.ndarray:
        """Certified :math:`P_{max}` of the collective charger."""
        return np.array([c.p_max.value for c in self.collective])

    @property
    def t_collective(self) -> np.ndarray:
        r"""Its time :math:`\tau`."""
        return np.array([c.p_max.time for c in self.collective])

    @property
    def e_collective(self) -> np.ndarray:
        """Certified :math:`E_{max}` of the collective charger (on its window)."""
        return np.array([c.e_max.value for c in self.collective])

    @property
    def w_collective(self) -> np.ndarray:
        """Estimated :math:`W_{max}` of the collective charger (``nan`` if not computed)."""
        return np.array([np.nan if c.w_max is None else c.w_max.value for c in self.collective])

    @property
    def cutoffs(self) -> np.ndarray:
        """The photon cutoff of each collective run."""
        return np.array([c.cutoff.cutoff for c in self.collective])

    @property
    def p_parallel(self) -> np.ndarray:
        r""":math:`N_B P_{max,1}`."""
        return self.n_battery * self.single.p_max.value

    @property
    def e_parallel(self) -> np.ndarray:
        r""":math:`N_B E_{max,1}`."""
        return self.n_battery * self.single.e_max.value

    @property
    def w_parallel(self) -> np.ndarray:
        r""":math:`N_B W_{max,1}` (each cell discharged alone; ``nan`` if not computed)."""
        w = np.nan if self.single.w_max is None else self.single.w_max.value
        return self.n_battery * w

    @property
    def advantage(self) -> np.ndarray:
        r""":math:`\Gamma = P^{collective}_{max}/P^{\parallel}_{max}`."""
        return self.p_collective / self.p_parallel

    def exponent(self, window: tuple[int, int] | None = None) -> PowerLawFit:
        r"""Fit :math:`\Gamma = \beta N_B^\alpha` on ``window`` (Ferraro et al.: :math:`\alpha \to 1/2`)."""
        return fit_power_law(self.n_battery, self.advantage, window)

    def power_exponent(self, window: tuple[int, int] | None = None) -> PowerLawFit:
        r"""Fit :math:`P^{collective}_{max} = \beta N_B^\alpha` on ``window``."""
        return fit_power_law(self.n_battery, self.p_collective, window)


def dicke_advantage(
    n_battery,
    *,
    coupling: float,
    omega_c: float = 1.0,
    omega_a: float = 1.0,
    tol: float = CUTOFF_TOL,
    rtol: float = CERTIFIED_RTOL,
    ergotropy: bool = False,
    battery: Battery = DEFAULT_BATTERY,
    reference: str = "pairs",
    scaling: CouplingScaling = "fixed",
) -> DickeAdvantage:
    r"""Collective (one cavity, :math:`N_B` photons) against parallel (one photon per cell) charging.

    Parameters
    ----------
    n_battery : iterable of int
        Sizes :math:`N_B \ge 1`.
    coupling : float
        :math:`\lambda`.
    omega_c, omega_a : float, default 1
        Resonance by default, as in Ferraro et al.
    tol, rtol, ergotropy, battery
        As for :func:`dicke_maxima` (``ergotropy`` off by default: it is the slow part).
    reference : {"pairs"}, default "pairs"
        The parallel cell: one spin and one photon in its own cavity (Ferraro et al.'s Rabi
        battery), the Dicke counterpart of ``reference="pairs"`` of
        :func:`~qutip_centralspin.studies.advantage.quantum_advantage`.
    scaling : {"fixed", "dicke"}, default "fixed"
        :class:`~qutip_centralspin.models.dicke.DickeChargerModel`'s coupling convention
        (:math:`\lambda` or :math:`\lambda/\sqrt{N_B}`; the cell, :math:`N_B = 1`, has
        :math:`\lambda` in both). Ferraro et al.'s :math:`\sqrt{N_B}` is at ``"fixed"``.

    Examples
    --------
    >>> from qutip_centralspin.studies.dicke_advantage import dicke_advantage
    >>> res = dicke_advantage([1, 2], coupling=0.05)
    >>> float(res.advantage[0]), round(float(res.advantage[1]), 6)
    (1.0, 1.224269)
    """
    if reference not in DICKE_REFERENCES:
        raise ValueError(f"reference must be one of {tuple(DICKE_REFERENCES)}, got {reference!r}")
    sizes = np.array([_checks.positive_int("n_battery", int(n)) for n in n_battery])
    single_model = DickeChargerModel(1, omega_c, omega_a, coupling, scaling)
    kwargs = {"tol": tol, "rtol": rtol, "ergotropy": ergotropy, "battery": battery}
    single = dicke_maxima(single_model, (0, 1), **kwargs)
    collective = tuple(
        dicke_maxima(single_model.replace(n_battery=int(n)), (0, int(n)), **kwargs) for n in sizes
    )
    return DickeAdvantage(sizes, collective, single, reference)
