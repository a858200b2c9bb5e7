r"""Thermal chargers: the Gibbs state of :math:`H_C = hJ^z`, symmetric or physical.

Two states answer "the charger at temperature :math:`T`" (:math:`k_B = 1`, :math:`T` in the
energy unit of ``h``); the battery starts in its Dicke state :math:`|m\rangle` in both.

:func:`thermal_charger` -- the Gibbs state *within the symmetric multiplet* :math:`j = N/2`
    (the model's charger space): :math:`p_n \propto e^{-h(n - N/2)/T}`, ``n = 0..N`` flipped
    spins. A density matrix on the model's dims.

:func:`physical_thermal_charger` -- the Gibbs state of the :math:`N` *physical* charger spins,
    :math:`\rho_C \propto e^{-h\sum_i\tau^z_i/T} = \bigotimes_i e^{-h\tau^z_i/T}`. It occupies
    every total charger spin :math:`j_C = N/2 - r`, :math:`r = 0..\lfloor N/2\rfloor`, with
    multiplicity :math:`d_r = \binom{N}{r} - \binom{N}{r-1}`:

    .. math::

        \rho_C = \sum_r \frac{d_r Z_r}{Z}\,\frac{1}{d_r}\sum_{\alpha=1}^{d_r}
                 \rho_{j_C = N/2 - r}^{Gibbs} \otimes |\alpha\rangle\langle\alpha|,
        \qquad Z_r = \sum_{n'=0}^{N-2r} e^{-h(n' - N/2 + r)/T},
        \qquad Z = (2\cosh\tfrac{h}{2T})^N.

    :math:`H` conserves :math:`\mathbf J^2` and acts identically on the :math:`d_r` copies of a
    ladder, so ladder :math:`r` is exactly the central-spin problem
    ``CentralSpinModel(N_B, N - 2r)`` (same ``B, h, A, delta``) whose charger starts in *its*
    symmetric Gibbs state (:math:`n = n' + r` flipped spins: the energies
    :math:`h(n - N/2) = h(n' - (N-2r)/2)` agree). Every quantity linear in the state is the
    weighted sum over ladders, :math:`w_r = d_r Z_r / Z`:

    .. math::

        \Delta E_B(t) = \sum_r w_r\,\Delta E_B^{(r)}(t), \qquad
        \rho_B(t) = \sum_r w_r\,\rho_B^{(r)}(t),

    evaluated by the exact engine of each ladder (:class:`~.solvers.mixture.MixtureEvolution`):
    no approximation. For even :math:`N` the singlet :math:`j_C = 0` does not couple to the
    battery (:math:`J^\pm = J^z = 0` there): its weight keeps the battery in :math:`|m\rangle`.

The battery's spins thermal (alone, or with the charger's: the product Gibbs state of all
spins) are :func:`qutip_centralspin.models.thermal_battery.physical_thermal_state`, a mixture over the
blocks :math:`(j_B, j_C)`; both it and :class:`PhysicalThermalCharger` are a
:class:`ThermalMixture`.

The two differ: at :math:`N = 5`, :math:`T = 4`, :math:`h = 1.3` the mean number of flipped
charger spins is :math:`\langle n\rangle = 1.61` in the symmetric multiplet and
:math:`2.10 = N/(1 + e^{h/T})` for the physical spins. They agree for :math:`N = 1` and as
:math:`T \to 0` (:math:`|n = 0\rangle` for :math:`h > 0`, :math:`|n = N\rangle` for
:math:`h < 0`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import qutip
from scipy.special import gammaln, logsumexp

from .. import _checks
from .operators import check_model
from .spin import CentralSpinModel
from .states import battery_dicke

if TYPE_CHECKING:  # annotations only: the engines import this module
    from ..solvers.mixture import MixtureEvolution
    from ..solvers.sector import SectorEngine

__all__ = [
    "thermal_populations",
    "thermal_charger",
    "ladder_weights",
    "log_ladder_weights",
    "energy_rate_bound",
    "ThermalMixture",
    "ThermalLadder",
    "PhysicalThermalCharger",
    "physical_thermal_charger",
]

#: Default of ``tol`` in :func:`physical_thermal_charger`: keep every ladder whose weight is a
#: double (only weights below ~5e-324, which round to 0, are left out).
LADDER_WEIGHT_TOL = 0.0


def thermal_populations(n_charger: int, h: float, T: float) -> np.ndarray:
    r"""Gibbs weights :math:`p_n = e^{-h(n - N/2)/T}/Z` of :math:`hJ^z` on the :math:`j = N/2` multiplet.

    Parameters
    ----------
    n_charger : int
        :math:`N \ge 1`.
    h : float
        Charger field.
    T : float
        Temperature :math:`T > 0` in energy units (:math:`k_B = 1`).

    Returns
    -------
    ndarray, shape ``(N + 1,)``
        ``p[n]`` for ``n = 0..N`` flipped charger spins (paper's labels, not ``jmat`` order).

    Examples
    --------
    >>> from qutip_centralspin.models.thermal import thermal_populations
    >>> thermal_populations(1, h=1.0, T=1e9).round(6)   # T -> infinity: uniform
    array([0.5, 0.5])
    """
    n_charger = _checks.positive_int("n_charger", n_charger)
    h = _checks.finite_real("h", h)
    T = _checks.positive_real("T", T)
    return _gibbs(n_charger, h, T)


def _gibbs(n: int, h: float, T: float) -> np.ndarray:
    exponent = -h * np.arange(n + 1) / T
    w = np.exp(exponent - exponent.max())
    return w / w.sum()


def _product_state(model: CentralSpinModel, populations: np.ndarray, m: int) -> qutip.Qobj:
    """:math:`|m\\rangle\\langle m| \\otimes \\sum_n p_n|n\\rangle\\langle n|` on the model dims."""
    size = model.n_charger + 1
    charger = qutip.qdiags(populations[::-1], 0, dims=[[size], [size]])  # jmat order
    return qutip.tensor(battery_dicke(model, m).proj(), charger)


def thermal_charger(model: CentralSpinModel, T: float, *, m: int = 0) -> qutip.Qobj:
    r"""Battery in :math:`|m\rangle`, charger in the Gibbs state of :math:`hJ^z` *on the symmetric
    multiplet* :math:`j = N/2`: a density matrix.

    .. math::

        \rho(0) = |m\rangle\langle m| \otimes \sum_{n=0}^{N} p_n |n\rangle\langle n|,
        \qquad p_n = \frac{e^{-h(n - N/2)/T}}{Z}

    on the model dims ``[[N_B+1, N+1], [N_B+1, N+1]]`` (sparse, diagonal). :math:`T \to 0^+`
    gives :math:`|n = 0\rangle` for ``h > 0`` (an empty charger); :math:`T\to\infty` the
    maximally mixed multiplet, mean :math:`\langle n\rangle = N/2`. This is *not* the Gibbs
    state of :math:`N` physical spins, which also populates :math:`j < N/2`: that is
    :func:`physical_thermal_charger` (module notes).

    Parameters
    ----------
    model : CentralSpinModel
    T : float
        Temperature :math:`T > 0` (:math:`k_B = 1`, energy units of ``h``).
    m : int, default 0
        Battery Dicke state.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, max_power
    >>> from qutip_centralspin.models.thermal import thermal_charger
    >>> model = CentralSpinModel(n_battery=2, n_charger=6)
    >>> rho0 = thermal_charger(model, T=2.0)
    >>> rho0.dims, round(rho0.tr(), 12)
    ([[3, 7], [3, 7]], 1.0)
    """
    check_model(model)
    p = thermal_populations(model.n_charger, model.h, T)
    return _product_state(model, p, m)


def ladder_weights(n_charger: int, h: float, T: float) -> np.ndarray:
    r"""Weights :math:`w_r = d_r Z_r/Z` of the total charger spins :math:`j_C = N/2 - r`.

    The share of the Gibbs state of :math:`N` physical spins, :math:`e^{-hJ^z/T}/Z`, in all
    :math:`d_r = \binom{N}{r} - \binom{N}{r-1}` copies of the ladder :math:`j_C = N/2 - r`
    (module notes), computed in logarithms (no overflow at any :math:`N`, :math:`h/T`).

    Parameters
    ----------
    n_charger : int
        :math:`N \ge 1`.
    h : float
        Charger field.
    T : float
        Temperature :math:`T > 0` (:math:`k_B = 1`).

    Returns
    -------
    ndarray, shape ``(N//2 + 1,)``
        :math:`w_r` for ``r = 0..floor(N/2)``, summing to 1 (a weight below the double
        range is 0).

    Examples
    --------
    >>> from qutip_centralspin.models.thermal import ladder_weights
    >>> ladder_weights(2, h=0.0, T=1.0).round(12).tolist()   # triplet and singlet, 3 : 1
    [0.75, 0.25]
    """
    n = _checks.positive_int("n_charger", n_charger)
    h = _checks.finite_real("h", h)
    T = _checks.positive_real("T", T)
    return np.exp(log_ladder_weights(n, h / T))


def log_ladder_weights(n_spins: int, beta_field: float) -> np.ndarray:
    r"""``log w_r``: the weights of the total spins :math:`j = N/2 - r` (``r = 0..N//2``) in the
    Gibbs state :math:`e^{-\beta F\sum_{i=1}^N\sigma^z_i/2}/Z` of :math:`N` spins, every term
    finite for any finite ``beta_field`` :math:`= \beta F = F/T`.

    The weights of :func:`ladder_weights` (charger, :math:`F = h`) and of the battery
    (:mod:`qutip_centralspin.models.thermal_battery`, :math:`F = B`). With :math:`x = |\beta F|`
    (the weights are even in :math:`\beta F`: :math:`n' \to N' - n'`) and
    :math:`N' = N - 2r`, :math:`Z_r = e^{xN'/2}\sum_{n'} e^{-xn'}` and
    :math:`Z = e^{xN/2}(1 + e^{-x})^N`, so
    :math:`\log w_r = \log d_r - xr + \log\sum_{n'=0}^{N'} e^{-xn'} - N\log(1 + e^{-x})`.
    """
    n = n_spins
    x = abs(beta_field)
    r = np.arange(n // 2 + 1)
    log_d = gammaln(n + 1) - gammaln(r + 1) - gammaln(n - r + 1)
    log_d += np.log((n - 2 * r + 1) / (n - r + 1))  # C(n, r) - C(n, r-1) = C(n, r)(n-2r+1)/(n-r+1)
    if x == 0:
        log_sum = np.log(n - 2 * r + 1.0)
    else:  # log sum_{n'=0}^{N'} e^{-x n'} = log((1 - e^{-x(N'+1)}) / (1 - e^{-x}))
        log_sum = np.log(-np.expm1(-x * (n - 2 * r + 1))) - math.log(-math.expm1(-x))
    log_w = log_d - x * r + log_sum - n * math.log1p(math.exp(-x))
    return log_w - logsumexp(log_w)  # (sums to 1 up to rounding already; make it exact)


def energy_rate_bound(model: CentralSpinModel) -> float:
    r""":math:`|BA|(N_B+1)(N+1)/2 \ge \sup|\dot E_B|` for every state of every block
    :math:`(j_B, j_C)` of ``model``: :math:`\dot E_B = iB\langle[H, S^z]\rangle`,
    :math:`|\dot E_B| \le 2|BA|\,\|S^+\|\,\|J^-\|` and :math:`\|S^\pm\| \le (N_B+1)/2`,
    :math:`\|J^\pm\| \le (N+1)/2`. Bounds :math:`|P_B|` at all times (:math:`P_B` is a mean of
    :math:`\dot E_B`): what left-out parts of a mixture can contribute."""
    return abs(model.B * model.A) * (model.n_battery + 1) * (model.n_charger + 1) / 2


class ThermalMixture:
    r"""A state that is an exact mixture over total-spin blocks :math:`(j_B, j_C)`.

    The Gibbs states of physical spins (:class:`PhysicalThermalCharger`,
    :class:`~qutip_centralspin.models.thermal_battery.PhysicalThermalState`): no single ``Qobj`` on
    ``model.dims`` holds them, they run block by block on the exact closed engine.
    :func:`~qutip_centralspin.charge`, :func:`~qutip_centralspin.max_power`,
    :func:`~qutip_centralspin.max_energy` take one as ``psi0``; :meth:`evolution` goes to
    :func:`~qutip_centralspin.maxima.ergotropy.max_ergotropy`.
    """

    model: CentralSpinModel
    neglected_weight: float

    def evolution(self) -> MixtureEvolution:
        """The exact evolution of the mixture, one sector engine per moving block."""
        raise NotImplementedError

    def check_model(self, model, name: str = "psi0") -> None:
        """Raise ``ValueError`` unless the state was made for ``model``."""
        if self.model != model:
            raise ValueError(
                f"{name} (a {type(self).__name__}) was made for a different model: "
                f"{self.model!r}, got {model!r}"
            )

    @property
    def power_error_bound(self) -> float:
        r"""Bound on :math:`|P_B|` of the left-out blocks, all t: their weight times
        :func:`energy_rate_bound`."""
        return self.neglected_weight * energy_rate_bound(self.model)


@dataclass(frozen=True, eq=False)
class ThermalLadder:
    r"""One total charger spin :math:`j_C = N/2 - r` of a physical thermal charger.

    Attributes
    ----------
    r : int
        :math:`r = N/2 - j_C` (``0``: the symmetric multiplet).
    j : float
        :math:`j_C`.
    multiplicity : int
        :math:`d_r = \binom{N}{r} - \binom{N}{r-1}` (exact).
    weight : float
        :math:`w_r = d_r Z_r / Z`: the share of the Gibbs state in all copies of this ladder.
    model : CentralSpinModel or None
        ``CentralSpinModel(N_B, N - 2r)`` with the parent's ``B, h, A, delta``; ``None`` for
        the singlet :math:`j_C = 0` (even :math:`N`), which does not couple to the battery.
    populations : ndarray
        Gibbs weights :math:`p_{n'}` of :math:`hJ^z` within the ladder, ``n' = 0..N - 2r``
        (:math:`n = n' + r` physical flipped spins).
    m : int
        Battery Dicke state.
    """

    r: int
    j: float
    multiplicity: int
    weight: float
    model: CentralSpinModel | None
    populations: np.ndarray
    m: int

    @property
    def state(self) -> qutip.Qobj:
        r""":math:`|m\rangle\langle m|\otimes\sum_{n'}p_{n'}|n'\rangle\langle n'|` on ``model.dims``
        (the initial state of this ladder's problem; not defined for the singlet)."""
        if self.model is None:
            raise ValueError("the singlet ladder j_C = 0 has no charger model (it stays still)")
        return _product_state(self.model, self.populations, self.m)

    def evolution(self, engine: SectorEngine | None = None):
        """The exact evolution of :attr:`state` (sector blocks, no full space)."""
        if self.model is None:
            raise ValueError("the singlet ladder j_C = 0 has no charger model (it stays still)")
        from ..solvers.sector import SectorEngine

        engine = SectorEngine(self.model) if engine is None else engine
        return engine.evolve_mixture({(self.m, n): p for n, p in enumerate(self.populations)})


@dataclass(frozen=True, eq=False)
class PhysicalThermalCharger(ThermalMixture):
    r"""Battery in :math:`|m\rangle`, :math:`N` physical charger spins in their Gibbs state.

    A mixture over the total charger spins (module notes); made by
    :func:`physical_thermal_charger`. Pass it where an initial state is expected:
    :func:`~qutip_centralspin.charge` (exact closed path), :func:`~qutip_centralspin.max_power`,
    :func:`~qutip_centralspin.max_energy`; or take :meth:`evolution` to
    :func:`~qutip_centralspin.maxima.ergotropy.max_ergotropy`.

    Attributes
    ----------
    model : CentralSpinModel
        The model with :math:`N` physical charger spins.
    T : float
        Temperature.
    m : int
        Battery Dicke state.
    ladders : tuple of ThermalLadder
        The ladders kept, ``r`` ascending.
    neglected_weight : float
        Total weight of the ladders left out (each below ``tol``; not renormalised).
    tol : float
        The weight below which a ladder was left out.
    """

    model: CentralSpinModel
    T: float
    m: int
    ladders: tuple[ThermalLadder, ...]
    neglected_weight: float
    tol: float

    @property
    def mean_excitation(self) -> float:
        r""":math:`\langle n\rangle = \sum_r w_r(r + \sum_{n'}n'p_{n'})` (kept ladders)."""
        return math.fsum(
            lad.weight * (lad.r + float(np.arange(lad.populations.size) @ lad.populations))
            for lad in self.ladders
        )

    def evolution(self) -> MixtureEvolution:
        """The exact evolution of the mixture, one sector engine per ladder."""
        nb1 = self.model.n_battery + 1
        parts, still = [], 0.0
        for lad in self.ladders:
            if lad.model is None:
                still += lad.weight
            else:
                parts.append((lad.weight, lad.evolution()))
        rho_b = np.zeros((nb1, nb1))
        rho_b[self.model.n_battery - self.m, self.model.n_battery - self.m] = 1.0  # jmat order
        from ..solvers.mixture import MixtureEvolution

        return MixtureEvolution(
            self.model,
            parts,
            stationary=[(still, rho_b)] if still else [],
            basis="symmetric",
            neglected_weight=self.neglected_weight,
            power_error_bound=self.power_error_bound,
        )


def physical_thermal_charger(
    model: CentralSpinModel, T: float, *, m: int = 0, tol: float = LADDER_WEIGHT_TOL
) -> PhysicalThermalCharger:
    r"""Battery in :math:`|m\rangle`, the :math:`N` physical charger spins thermal at :math:`T`.

    The Gibbs state :math:`\bigotimes_{i=1}^N e^{-h\tau^z_i/T}/z` of the charger spins, as the
    exact mixture over total charger spins :math:`j_C = N/2 - r` with weights
    :math:`w_r = d_r Z_r/Z` (module notes). Compare :func:`thermal_charger`, the Gibbs state
    on the symmetric multiplet only.

    Parameters
    ----------
    model : CentralSpinModel
        :math:`N` = ``model.n_charger`` physical charger spins.
    T : float
        Temperature :math:`T > 0` (:math:`k_B = 1`, energy units of ``h``).
    m : int, default 0
        Battery Dicke state.
    tol : float, default 0
        Ladders with :math:`w_r <` ``tol`` are left out (their total weight is
        ``neglected_weight``, at most ``(N//2 + 1) * tol``; not renormalised). The certified
        maxima widen their bracket by what the left-out ladders can contribute
        (:attr:`PhysicalThermalCharger.power_error_bound`, and
        ``neglected_weight * |B| N_B`` for the energy).

    Returns
    -------
    PhysicalThermalCharger

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.models.thermal import physical_thermal_charger, thermal_charger
    >>> model = CentralSpinModel(n_battery=1, n_charger=5, h=1.3)
    >>> gibbs = physical_thermal_charger(model, T=4.0)
    >>> [lad.j for lad in gibbs.ladders], round(gibbs.mean_excitation, 2)
    ([2.5, 1.5, 0.5], 2.1)
    """
    check_model(model)
    T = _checks.positive_real("T", T)
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    tol = _checks.nonnegative_real("tol", tol)
    n = model.n_charger
    log_w = log_ladder_weights(n, model.h / T)
    ladders, dropped = [], []
    for r, lw in enumerate(log_w.tolist()):
        weight = math.exp(lw)
        if weight == 0.0 or weight < tol:
            dropped.append(lw)
            continue
        size = n - 2 * r
        ladders.append(
            ThermalLadder(
                r=r,
                j=size / 2,
                multiplicity=math.comb(n, r) - (math.comb(n, r - 1) if r else 0),
                weight=weight,
                model=model.replace(n_charger=size) if size > 0 else None,
                populations=_gibbs(size, model.h, T),
                m=m,
            )
        )
    neglected = math.exp(logsumexp(dropped)) if dropped else 0.0
    return PhysicalThermalCharger(model, T, m, tuple(ladders), neglected, tol)
