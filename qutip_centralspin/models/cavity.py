r"""Cavity (Tavis-Cummings) charger: :math:`N_B` battery spins and one bosonic mode.

.. math::

    H = B S^z + \omega a^\dagger a + g\,(S^+ a + S^- a^\dagger)

is the charger of Eq. (20) of Peng *et al.* (:math:`\omega = h`, :math:`g = A\sqrt N`, the
constant :math:`-hN/2` dropped): the Holstein-Primakoff limit :math:`N\to\infty` of the spin
charger, :math:`J^z = a^\dagger a - N/2`, :math:`J^- \approx \sqrt N a` (Eq. 19). The
photon number plays the part of the flipped charger spins ``n``; the map expands around the
empty charger and holds for :math:`n \ll N` (not for the paper's full charger :math:`n = N`).

Exact engine
------------
:math:`K = m + k` (battery excitations plus photons) is conserved. The sector :math:`K` is
spanned by :math:`|m, K-m\rangle`, :math:`0 \le m \le \min(N_B, K)` -- *at most*
:math:`N_B + 1` states, for any photon number -- and :math:`H` on it is the real symmetric
tridiagonal matrix

.. math::

    H_{mm} = B(m - N_B/2) + \omega (K - m), \qquad
    H_{m+1,m} = g\sqrt{(m+1)(N_B - m)}\,\sqrt{K - m},

diagonalised once (``eigh_tridiagonal``). No sector is ever truncated: a Fock state is exact.
:class:`~qutip_centralspin.solvers.cavity_engine.CavityEngine` reuses the machinery of
:class:`~qutip_centralspin.SectorEvolution`
(energies, power, rigorous derivative bounds, :math:`\rho_B(t)`), so :math:`P_{max}` is
certified by the same branch and bound (:func:`~qutip_centralspin.max_power`).

Truncation (coherent and thermal states only)
---------------------------------------------
A coherent or thermal photon state has weight on every photon number; it is cut at the
smallest :math:`k_{max}` whose neglected weight :math:`\varepsilon = \sum_{k>k_{max}} p_k`
is below ``tol`` (default :data:`PHOTON_TAIL_TOL`), and is *not* renormalised. Each neglected
sector evolves on its own and :math:`B S^z` is sector-diagonal, so at every time

.. math::

    |\Delta E_B^{exact}(t) - \Delta E_B^{trunc}(t)| \le \varepsilon\,|B|\,N_B, \qquad
    |P^{exact}(t) - P^{trunc}(t)| \le \varepsilon\,|B|\,N_B/t,

reported as
:attr:`~qutip_centralspin.solvers.cavity_engine.CavityEvolution.energy_error_bound`. Tests
check this against a larger
:math:`k_{max}`.

Reference path
--------------
:func:`cavity_hamiltonian` builds :math:`H` with ``qutip.tensor(jmat, destroy)`` on
``dims = [[N_B+1, D], [N_B+1, D]]`` (photon index = photon number) for ``qutip.sesolve``.

Ferraro et al. and the Holstein-Primakoff limit
-----------------------------------------------
:func:`tavis_cummings_scaling` computes, exactly, the resonant Tavis-Cummings analogue of the
set-up of Ferraro *et al.*, PRL **120**, 117702 (2018): :math:`N_B` spins in the ground state and
a cavity Fock state with :math:`N_B` photons (collective), against :math:`N_B` independent
spins, each with its own cavity holding one photon (parallel; exactly
:math:`P = N_B c^* B g` at resonance). Ferraro *et al.* studied the Dicke Hamiltonian (with
counter-rotating terms) and report a collective :math:`P_{max}\propto N_B^{3/2}` against a
parallel :math:`\propto N_B`, i.e. an advantage :math:`\propto\sqrt{N_B}`; we compute the RWA
(Tavis-Cummings) numbers and fit their exponent, we do not quote theirs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import qutip
from scipy.special import gammaln
from scipy.stats import poisson

from .. import _checks
from .base import BatteryModel, photon_operators
from .states import parse_spec

__all__ = [
    "PHOTON_TAIL_TOL",
    "CavityModel",
    "CavityState",
    "cavity_hamiltonian",
    "cavity_battery_hamiltonian",
    "cavity_fock_state",
    "cavity_coherent_state",
    "cavity_thermal_state",
    "cavity_state",
    "check_cavity_model",
]

#: Default largest neglected photon weight of a truncated coherent/thermal state.
PHOTON_TAIL_TOL = 1e-12
CAVITY_SPECS = ("fock:K", "coherent:THETA", "alpha:ALPHA", "thermal:T")
#: The grammar of :data:`CAVITY_SPECS` for :func:`qutip_centralspin.models.states.parse_spec`.
CAVITY_GRAMMAR = {"fock": (1, 1), "coherent": (1, 1), "alpha": (1, 1), "thermal": (1, 1)}


@dataclass(frozen=True)
class CavityModel(BatteryModel):
    r"""Tavis-Cummings battery: :math:`N_B` spins charged by one cavity mode.

    .. math::

        H = B S^z + \omega a^\dagger a + g\,(S^+ a + S^- a^\dagger)

    Parameters
    ----------
    n_battery : int
        Battery spins :math:`N_B \ge 1` (collective spin :math:`\mathbf S`, ``qutip.jmat``).
    omega : float
        Cavity frequency :math:`\omega` (the spin charger's ``h``).
    g : float
        Spin-cavity coupling (the spin charger's :math:`A\sqrt N`).
    B : float, default 1
        Battery field, :math:`H_B = B S^z`.

    Notes
    -----
    :math:`\hbar = 1`, one energy unit for ``B``, ``omega``, ``g``. Battery first, photon
    number second: ``dims = [[N_B+1, D], [N_B+1, D]]`` for a truncation at ``D`` photon levels.

    Examples
    --------
    >>> from qutip_centralspin.models.cavity import CavityModel
    >>> from qutip_centralspin.studies.cavity_limit import cavity_max_power
    >>> model = CavityModel(n_battery=1, omega=1.0, g=0.5)
    >>> round(cavity_max_power(model, (0, 1)).value, 10)   # c* B g, one photon
    0.3623056769
    """

    kind: ClassVar[str] = "cavity"
    energy_unit: ClassVar[str] = r"\omega"

    n_battery: int
    omega: float
    g: float
    B: float = 1.0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "n_battery", _checks.positive_int("n_battery", self.n_battery))
        for name in ("omega", "g", "B"):
            set_(self, name, _checks.finite_real(name, getattr(self, name)))

    def dims(self, n_photons: int) -> list[list[int]]:
        """Operator dims ``[[N_B+1, D], [N_B+1, D]]`` for ``D = n_photons`` photon levels."""
        n_photons = _checks.positive_int("n_photons", n_photons)
        shape = [self.n_battery + 1, n_photons]
        return [shape, list(shape)]

    def replace(self, **changes) -> CavityModel:
        """Return a copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    # -- the model interface (qutip_centralspin.models.base) -----------------------------------
    @property
    def battery_field(self) -> float:
        """:math:`B` of :math:`H_B = B S^z`."""
        return self.B

    def symbols(self) -> dict[str, str]:
        r""":math:`N_B`, :math:`\omega`, :math:`g` for figure titles."""
        return {"N_B": f"{self.n_battery}", r"\omega": f"{self.omega:g}", "g": f"{self.g:g}"}

    def label_state(self, m: int, c: int) -> qutip.Qobj:
        r"""The Fock product :math:`|m\rangle|k = c\rangle` on ``c + 1`` photon levels."""
        return cavity_fock_state(self, c, m=m).state

    def as_state(self, state, name: str = "psi0"):
        """A label ``(m, k)``, a ``Qobj`` or a :class:`CavityState`."""
        if isinstance(state, CavityState):
            return state
        return super().as_state(state, name)

    def empty_charger(self) -> int:
        """The empty cavity, :math:`k = 0`."""
        return 0

    def hamiltonian(self, charger_levels: int | None = None) -> qutip.Qobj:
        """:func:`cavity_hamiltonian` on ``charger_levels`` photon levels (default
        :math:`N_B + 1`)."""
        return cavity_hamiltonian(self, charger_levels or self.n_battery + 1)

    def charger_operators(self, dims: list[int]) -> dict[str, qutip.Qobj]:
        r""":math:`E_C = \omega a^\dagger a` and the photon number :math:`a^\dagger a`."""
        return photon_operators(self, dims, self.omega)


def check_cavity_model(model) -> None:
    if not isinstance(model, CavityModel):
        raise TypeError(f"model must be a CavityModel, got {type(model).__name__}")


# -- reference operators --------------------------------------------------------------------
def cavity_hamiltonian(model: CavityModel, n_photons: int) -> qutip.Qobj:
    r""":math:`H = BS^z + \omega a^\dagger a + g(S^+a + S^-a^\dagger)` on ``D = n_photons`` levels.

    Built from ``qutip.jmat`` and ``qutip.destroy`` (the reference path for ``sesolve``).
    Exact on every sector :math:`K \le D - 1`.
    """
    check_cavity_model(model)
    n_photons = _checks.positive_int("n_photons", n_photons)
    j = model.n_battery / 2
    a = qutip.destroy(n_photons)
    ib = qutip.qeye(model.n_battery + 1)
    H = (
        model.B * qutip.tensor(qutip.jmat(j, "z"), qutip.qeye(n_photons))
        + model.omega * qutip.tensor(ib, a.dag() * a)
        + model.g
        * (qutip.tensor(qutip.jmat(j, "+"), a) + qutip.tensor(qutip.jmat(j, "-"), a.dag()))
    )
    H.isherm = True
    return H


def cavity_battery_hamiltonian(model: CavityModel, n_photons: int) -> qutip.Qobj:
    r""":math:`H_B = B S^z \otimes 1` on ``dims [[N_B+1, D], [N_B+1, D]]``."""
    check_cavity_model(model)
    n_photons = _checks.positive_int("n_photons", n_photons)
    return model.B * qutip.tensor(qutip.jmat(model.n_battery / 2, "z"), qutip.qeye(n_photons))


# -- initial states -------------------------------------------------------------------------
@dataclass(frozen=True)
class CavityState:
    r"""An initial battery :math:`\otimes` photon state, possibly truncated.

    Attributes
    ----------
    state : Qobj
        Ket or density matrix on ``dims [[N_B+1, D], ...]`` (photon index = photon number).
    neglected_weight : float
        Photon weight :math:`\varepsilon` cut off by the truncation (0 for a Fock state).
    label : str
        What it is, e.g. ``"coherent alpha=2"``.
    """

    state: qutip.Qobj
    neglected_weight: float
    label: str

    @property
    def n_photons(self) -> int:
        """Photon levels ``D`` kept (``0 .. D-1``)."""
        return int(self.state.dims[0][1])


def _battery_ket(model: CavityModel, m: int) -> qutip.Qobj:
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    return qutip.basis(model.n_battery + 1, model.n_battery - m)


def cavity_fock_state(model: CavityModel, k: int, *, m: int = 0) -> CavityState:
    r"""Battery :math:`|m\rangle`, cavity Fock :math:`|k\rangle` (exact, nothing truncated)."""
    check_cavity_model(model)
    k = _checks.int_in_range("k", k, 0, 10**9)
    ket = qutip.tensor(_battery_ket(model, m), qutip.basis(k + 1, k))
    return CavityState(ket, 0.0, f"fock k={k}")


def cavity_coherent_state(
    model: CavityModel, alpha: complex, *, m: int = 0, tol: float = PHOTON_TAIL_TOL
) -> CavityState:
    r"""Battery :math:`|m\rangle`, cavity coherent :math:`|\alpha\rangle`, cut where the tail < ``tol``.

    :math:`|\alpha\rangle = e^{-|\alpha|^2/2}\sum_k \alpha^k/\sqrt{k!}\,|k\rangle`, kept for
    :math:`k\le k_{max}`, the smallest :math:`k_{max}` with Poisson tail
    :math:`P(k > k_{max}) \le` ``tol`` (not renormalised; see the module notes).
    """
    check_cavity_model(model)
    if not isinstance(alpha, (int, float, complex, np.number)) or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite complex number, got {alpha!r}")
    tol = _checks.positive_real("tol", tol)
    if tol >= 1:
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    mean = abs(alpha) ** 2
    k_max = int(poisson.isf(tol, mean)) if mean > 0 else 0
    while mean > 0 and poisson.sf(k_max, mean) > tol:
        k_max += 1
    k = np.arange(k_max + 1)
    if mean > 0:
        amps = np.exp(-mean / 2 + k * np.log(abs(alpha)) - 0.5 * gammaln(k + 1))
        amps = amps * np.exp(1j * np.angle(alpha) * k)
    else:
        amps = np.zeros(k.size, complex)
        amps[0] = 1.0
    tail = float(poisson.sf(k_max, mean)) if mean > 0 else 0.0
    photons = qutip.Qobj(amps.reshape(-1, 1))
    ket = qutip.tensor(_battery_ket(model, m), photons)
    return CavityState(ket, tail, f"coherent alpha={alpha}")


def cavity_thermal_state(
    model: CavityModel, T: float, *, m: int = 0, tol: float = PHOTON_TAIL_TOL
) -> CavityState:
    r"""Battery :math:`|m\rangle`, cavity thermal at :math:`T > 0`: :math:`p_k = (1-q)q^k`.

    :math:`q = e^{-\omega/T}` (:math:`k_B = 1`), mean photon number
    :math:`\bar n = 1/(e^{\omega/T} - 1)`; kept for :math:`k \le k_{max}` with
    :math:`q^{k_{max}+1} \le` ``tol``. Needs :math:`\omega > 0`.
    """
    check_cavity_model(model)
    T = _checks.positive_real("T", T)
    tol = _checks.positive_real("tol", tol)
    if tol >= 1:
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    if model.omega <= 0:
        raise ValueError(
            f"a thermal cavity needs omega > 0 (normalisable Gibbs state), got {model.omega!r}"
        )
    log_q = -model.omega / T
    k_max = max(0, int(math.ceil(math.log(tol) / log_q)) - 1)
    k = np.arange(k_max + 1)
    p = -math.expm1(log_q) * np.exp(log_q * k)
    tail = math.exp(log_q * (k_max + 1))
    photons = qutip.qdiags(p, 0)
    rho = qutip.tensor(_battery_ket(model, m).proj(), photons)
    return CavityState(rho, tail, f"thermal T={T}")


def cavity_state(
    model: CavityModel,
    spec: str,
    *,
    m: int = 0,
    n_charger: int | None = None,
    tol: float = PHOTON_TAIL_TOL,
) -> CavityState:
    r"""Initial cavity state from a short text ``spec`` (the command-line form).

    Parameters
    ----------
    spec : str
        * ``"fock:K"``: Fock :math:`|K\rangle`, the image of the Dicke charger
          :math:`|n = K\rangle`;
        * ``"coherent:THETA"``: the image of the spin-coherent charger at polar angle
          :math:`\theta` -- a coherent state with :math:`\alpha = \sqrt N\cos(\theta/2)`, the
          same mean excitation :math:`N\cos^2(\theta/2)` (binomial -> Poisson; needs
          ``n_charger``);
        * ``"alpha:ALPHA"``: coherent :math:`|\alpha\rangle`, real :math:`\alpha`;
        * ``"thermal:T"``: thermal photons at :math:`T > 0`.
    n_charger : int, optional
        :math:`N` of the spin charger being compared with (``"coherent:THETA"``).

    Notes
    -----
    The Holstein-Primakoff map (Eq. 19) expands around the *empty* charger: the cavity is the
    :math:`N\to\infty` limit of the spin charger only for charger excitations
    :math:`n \ll N` (``K``, :math:`N\cos^2(\theta/2)`, :math:`\bar n` small against ``N``).
    The paper's full charger :math:`|n = N\rangle` has no cavity image (its matrix elements
    are :math:`A\sqrt{b_{N,n}}\approx A\sqrt N`, those of :math:`N` photons
    :math:`g\sqrt N = AN`), so there is deliberately no ``"full"`` spec.
    """
    check_cavity_model(model)
    kind, numbers = parse_spec(spec, CAVITY_GRAMMAR)
    (x,) = numbers
    try:
        if kind == "fock":
            return cavity_fock_state(model, int(x) if x.is_integer() else x, m=m)
        if kind == "coherent":
            if n_charger is None:
                raise ValueError("'coherent' needs n_charger (the spin charger's N)")
            if not 0 <= x <= math.pi:
                raise ValueError(f"theta must be in [0, pi], got {x!r}")
            n = _checks.positive_int("n_charger", n_charger)
            return cavity_coherent_state(model, math.sqrt(n) * math.cos(x / 2), m=m, tol=tol)
        if kind == "alpha":
            return cavity_coherent_state(model, x, m=m, tol=tol)
        return cavity_thermal_state(model, x, m=m, tol=tol)
    except ValueError as err:
        raise ValueError(f"spec {spec!r}: {err}") from None
