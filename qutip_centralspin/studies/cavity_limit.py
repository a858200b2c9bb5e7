"""The cavity charger as the limit of the spin charger, and the Tavis-Cummings scaling.

:math:`g = A\\sqrt N` (Eq. 20): the convergence of the spin charger to the cavity, and
the collective advantage of the Tavis-Cummings battery.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _checks
from ..maxima.certified import CERTIFIED_RTOL, certified_max_power
from ..models.cavity import CavityModel, check_cavity_model
from ..models.spin import CentralSpinModel
from ..results import Maximum
from ..solvers.cavity_engine import CavityEngine

__all__ = [
    "cavity_max_power",
    "cavity_limit_model",
    "spin_charger_model",
    "SpinCavityConvergence",
    "spin_cavity_convergence",
    "TavisCummingsScaling",
    "tavis_cummings_scaling",
]


def cavity_max_power(
    model: CavityModel, state, *, rtol: float = CERTIFIED_RTOL, engine: CavityEngine | None = None
) -> Maximum:
    r"""Certified :math:`P_{max} = \max_{t>0}\Delta E_B(t)/t` for the cavity charger.

    The branch and bound of :func:`qutip_centralspin.maxima.certified.certified_max_power`, on the
    exact cavity engine. For a truncated state (coherent, thermal) the bracket is that of the
    truncated state; the true value differs by at most ``evo.energy_error_bound / time``.

    Parameters
    ----------
    state : CavityState, Qobj or tuple
        As for :meth:`CavityEngine.evolve`; ``(m, k)`` for a Fock product.
    """
    check_cavity_model(model)
    rtol = _checks.positive_real("rtol", rtol)
    if engine is None:
        engine = CavityEngine(model)
    elif engine.model != model:
        raise ValueError("engine was built for a different model")
    return certified_max_power(engine.evolve(state), rtol=rtol)


# -- spin <-> cavity ------------------------------------------------------------------------
def cavity_limit_model(model: CentralSpinModel) -> CavityModel:
    r"""The Tavis-Cummings limit of a spin charger: :math:`\omega = h`, :math:`g = A\sqrt N` (Eq. 20).

    Raises
    ------
    ValueError
        If ``delta != 0`` (the Ising term has no Tavis-Cummings image).
    """
    if not isinstance(model, CentralSpinModel):
        raise TypeError(f"model must be a CentralSpinModel, got {type(model).__name__}")
    if model.delta != 0:
        raise ValueError(f"the cavity limit needs delta = 0, got delta={model.delta!r}")
    return CavityModel(model.n_battery, model.h, model.A * math.sqrt(model.n_charger), model.B)


def spin_charger_model(model: CavityModel, n_charger: int) -> CentralSpinModel:
    r"""The spin charger with :math:`N` spins whose HP limit is ``model``.

    :math:`A = g/\sqrt N`, :math:`h = \omega`, same ``B``, :math:`\Delta = 0`.
    """
    check_cavity_model(model)
    n_charger = _checks.positive_int("n_charger", n_charger)
    return CentralSpinModel(
        model.n_battery, n_charger, B=model.B, h=model.omega, A=model.g / math.sqrt(n_charger)
    )


@dataclass(frozen=True)
class SpinCavityConvergence:
    r"""Spin charger (:math:`N` spins, :math:`A = g/\sqrt N`) against its cavity limit.

    Attributes
    ----------
    n_charger : ndarray of int
    energy_error : ndarray
        :math:`\max_{t\in\texttt{times}}|\Delta E_B^{spin}(t) - \Delta E_B^{cavity}(t)|`.
    p_max_spin : ndarray
        Certified :math:`P_{max}` of each spin charger.
    p_max_cavity : float
        Certified :math:`P_{max}` of the cavity charger.
    times : ndarray
    """

    n_charger: np.ndarray
    energy_error: np.ndarray
    p_max_spin: np.ndarray
    p_max_cavity: float
    times: np.ndarray

    @property
    def p_max_error(self) -> np.ndarray:
        """:math:`|P_{max}^{spin} - P_{max}^{cavity}|`."""
        return np.abs(self.p_max_spin - self.p_max_cavity)


def spin_cavity_convergence(
    model: CavityModel, n_charger, *, k: int, m: int = 0, tlist=None
) -> SpinCavityConvergence:
    r"""Show the spin charger converging to the cavity as :math:`N\to\infty` at fixed :math:`g = A\sqrt N`.

    The spin charger starts in :math:`|m, n = k\rangle` (``k`` flipped charger spins), the
    cavity in :math:`|m\rangle|k\rangle` (``k`` photons). Their sector matrices differ only in the
    couplings :math:`g\sqrt{n(N-n+1)/N}` against :math:`g\sqrt n`, a relative difference
    :math:`\approx (n-1)/(2N)`: errors fall like :math:`1/N`.

    Parameters
    ----------
    model : CavityModel
    n_charger : iterable of int
        Spin charger sizes :math:`N \ge k`.
    k : int
        Initial excitations of the charger (photons / flipped spins).
    tlist : array_like, optional
        Times of the energy comparison; default 401 points over
        :math:`[0, 4\pi/\Omega]`, :math:`\Omega = 2g\sqrt{k\,N_B}` (two collective Rabi periods).
    """
    check_cavity_model(model)
    k = _checks.int_in_range("k", k, 0, 10**9)
    sizes = np.array(
        [_checks.int_in_range("n_charger", int(n), max(k, 1), 10**9) for n in n_charger]
    )
    if tlist is None:
        omega = 2 * abs(model.g) * math.sqrt(max(k, 1) * model.n_battery)
        tlist = np.linspace(0.0, 4 * math.pi / max(omega, 1e-300), 401)
    times = _checks.time_list("tlist", tlist)
    cav = CavityEngine(model).evolve((m, k))
    e_cav = cav.delta_energy(times)
    p_cav = certified_max_power(cav).value
    errors, powers = [], []
    from ..solvers.sector import SectorEngine

    for n in sizes:
        spin = SectorEngine(spin_charger_model(model, int(n))).evolve((m, k))
        errors.append(float(np.max(np.abs(spin.delta_energy(times) - e_cav))))
        powers.append(certified_max_power(spin).value)
    return SpinCavityConvergence(sizes, np.array(errors), np.array(powers), p_cav, times)


@dataclass(frozen=True)
class TavisCummingsScaling:
    r"""Collective against parallel Tavis-Cummings battery, resonant, exact.

    Attributes
    ----------
    n_battery : ndarray of int
    p_collective : ndarray
        Certified :math:`P_{max}` of :math:`N_B` spins, one cavity with :math:`N_B` photons.
    t_collective : ndarray
        Its time :math:`\tau`.
    p_parallel : ndarray
        :math:`N_B` copies of one spin with a one-photon cavity (certified, :math:`= N_B c^*Bg`).
    model : CavityModel
        The one-spin model (``n_battery = 1``) giving ``omega``, ``g``, ``B``.
    """

    n_battery: np.ndarray
    p_collective: np.ndarray
    t_collective: np.ndarray
    p_parallel: np.ndarray
    model: CavityModel

    @property
    def advantage(self) -> np.ndarray:
        r""":math:`\Gamma = P^{collective}_{max}/P^{parallel}_{max}`."""
        return self.p_collective / self.p_parallel

    def exponent(self, window: tuple[int, int] | None = None) -> tuple[float, float]:
        r"""Least-squares :math:`(\alpha, \beta)` of :math:`P^{collective}_{max} = \beta N_B^\alpha`."""
        from ..studies.scaling import fit_power_law

        fit = fit_power_law(self.n_battery, self.p_collective, window)
        return fit.alpha, fit.beta


def tavis_cummings_scaling(
    n_battery, *, g: float = 1.0, B: float = 1.0, omega: float | None = None
) -> TavisCummingsScaling:
    r"""Exact resonant Tavis-Cummings :math:`P_{max}` for Ferraro's set-up, collective vs parallel.

    Collective: :math:`N_B` spins in :math:`|m = 0\rangle`, cavity Fock :math:`|N_B\rangle`
    (one photon per spin), one sector of size :math:`N_B + 1`. Parallel: :math:`N_B` spins, each
    with its own cavity in :math:`|1\rangle`; at resonance :math:`\Delta E_B = B\sin^2(gt)` per
    cell and :math:`P = N_B c^* B g`.

    Parameters
    ----------
    n_battery : iterable of int
    g, B : float
        Coupling and battery field.
    omega : float, optional
        Cavity frequency; default ``B`` (resonance).

    Examples
    --------
    >>> from qutip_centralspin.studies.cavity_limit import tavis_cummings_scaling
    >>> res = tavis_cummings_scaling([1, 2])
    >>> round(float(res.advantage[0]), 12)
    1.0
    """
    sizes = np.array([_checks.positive_int("n_battery", int(n)) for n in n_battery])
    omega = B if omega is None else omega
    single = CavityModel(1, omega, g, B)
    p_single = cavity_max_power(single, (0, 1)).value
    p_col, t_col = [], []
    for nb in sizes:
        best = cavity_max_power(single.replace(n_battery=int(nb)), (0, int(nb)))
        p_col.append(best.value)
        t_col.append(best.time)
    return TavisCummingsScaling(
        n_battery=sizes,
        p_collective=np.array(p_col),
        t_collective=np.array(t_col),
        p_parallel=sizes * p_single,
        model=single,
    )
