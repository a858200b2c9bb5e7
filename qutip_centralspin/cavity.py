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
:class:`CavityEngine` reuses the machinery of :class:`~qutip_centralspin.SectorEvolution`
(energies, power, rigorous derivative bounds, :math:`\rho_B(t)`), so :math:`P_{max}` is
certified by the same branch and bound (:func:`cavity_max_power`); ``maxima.py`` is unchanged.

Truncation (coherent and thermal states only)
---------------------------------------------
A coherent or thermal photon state has weight on every photon number; it is cut at the
smallest :math:`k_{max}` whose neglected weight :math:`\varepsilon = \sum_{k>k_{max}} p_k`
is below ``tol`` (default :data:`PHOTON_TAIL_TOL`), and is *not* renormalised. Each neglected
sector evolves on its own and :math:`B S^z` is sector-diagonal, so at every time

.. math::

    |\Delta E_B^{exact}(t) - \Delta E_B^{trunc}(t)| \le \varepsilon\,|B|\,N_B, \qquad
    |P^{exact}(t) - P^{trunc}(t)| \le \varepsilon\,|B|\,N_B/t,

reported as :attr:`CavityEvolution.energy_error_bound`. Tests check this against a larger
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
import scipy.sparse as sp
from scipy.special import gammaln
from scipy.stats import poisson

from . import _checks
from .maxima import CERTIFIED_RTOL, certified_max_power
from .model import CentralSpinModel
from .models.base import BatteryModel
from .operators import ladder_up
from .results import Maximum
from .solvers.sector import SectorEvolution
from .solvers.sectors import Sector, SectorBasis
from .states import NORM_ATOL, parse_spec, validate_state

__all__ = [
    "PHOTON_TAIL_TOL",
    "CavityModel",
    "CavityState",
    "CavityEngine",
    "CavityEvolution",
    "cavity_hamiltonian",
    "cavity_battery_hamiltonian",
    "cavity_fock_state",
    "cavity_coherent_state",
    "cavity_thermal_state",
    "cavity_state",
    "cavity_max_power",
    "cavity_limit_model",
    "spin_charger_model",
    "SpinCavityConvergence",
    "spin_cavity_convergence",
    "TavisCummingsScaling",
    "tavis_cummings_scaling",
]

#: Default largest neglected photon weight of a truncated coherent/thermal state.
PHOTON_TAIL_TOL = 1e-12
CAVITY_SPECS = ("fock:K", "coherent:THETA", "alpha:ALPHA", "thermal:T")
#: The grammar of :data:`CAVITY_SPECS` for :func:`qutip_centralspin.states.parse_spec`.
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
    >>> from qutip_centralspin.cavity import CavityModel, cavity_max_power
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

    def parameters(self) -> dict:
        """Every parameter (and ``"charger": "cavity"``), e.g. for JSON."""
        return {
            "charger": self.kind,
            "n_battery": self.n_battery,
            "omega": self.omega,
            "g": self.g,
            "B": self.B,
        }

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
        if len(dims) != 2 or dims[0] != self.n_battery + 1:
            raise ValueError(
                f"charger observables need a full-space state of dims "
                f"[{self.n_battery + 1}, D], got {dims}"
            )
        n = qutip.tensor(qutip.qeye(dims[0]), qutip.num(dims[1]))
        return {"E_C": self.omega * n, "n_C": n}

    def closed_evolution(self, state, *, times=None):
        """:meth:`CavityEngine.evolve` (no photon truncation: :math:`K` is conserved)."""
        evo = CavityEngine(self).evolve(state)
        return evo, {"method": "excitation-sector diagonalisation (LAPACK dstevd)"}

    def open_solver(self, processes):
        """The exact block solver of the cavity charger (loss, dephasing, battery processes)."""
        from .solvers.cavity_blocks import CavityBlockSolver

        return CavityBlockSolver(self, processes)


def _check_cavity(model) -> None:
    if not isinstance(model, CavityModel):
        raise TypeError(f"model must be a CavityModel, got {type(model).__name__}")


# -- reference operators --------------------------------------------------------------------
def cavity_hamiltonian(model: CavityModel, n_photons: int) -> qutip.Qobj:
    r""":math:`H = BS^z + \omega a^\dagger a + g(S^+a + S^-a^\dagger)` on ``D = n_photons`` levels.

    Built from ``qutip.jmat`` and ``qutip.destroy`` (the reference path for ``sesolve``).
    Exact on every sector :math:`K \le D - 1`.
    """
    _check_cavity(model)
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
    _check_cavity(model)
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
    _check_cavity(model)
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
    _check_cavity(model)
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
    _check_cavity(model)
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
    _check_cavity(model)
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


# -- the exact engine -----------------------------------------------------------------------
class CavityEngine:
    r"""Exact diagonalisation of the Tavis-Cummings :math:`H` per excitation sector.

    Sectors (size :math:`\le N_B + 1`) are built lazily and cached on the instance.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.cavity import CavityModel, CavityEngine
    >>> evo = CavityEngine(CavityModel(n_battery=3, omega=1.0, g=1.0)).evolve((0, 3))
    >>> [round(float(e), 6) + 0.0 for e in evo.delta_energy(np.array([0.0, 0.3]))]
    [0.0, 0.700103]
    """

    def __init__(self, model: CavityModel):
        _check_cavity(model)
        self.model = model
        self._sectors: dict[int, Sector] = {}  # shared by the CavityBasis of every state

    def basis(self, n_photons: int) -> CavityBasis:
        """The sector basis with photon levels ``0 .. n_photons - 1`` (cache shared)."""
        return CavityBasis(self.model, n_photons, self._sectors)

    def sector(self, k: int) -> Sector:
        """The sector with ``k = m + photons`` excitations (any ``k >= 0``)."""
        return self.basis(1).sector(k)

    def evolve(self, state) -> CavityEvolution:
        """Prepare the exact evolution of ``state``.

        Parameters
        ----------
        state : CavityState, Qobj or tuple
            * a :class:`CavityState` (:func:`cavity_fock_state`, :func:`cavity_coherent_state`,
              :func:`cavity_thermal_state`), whose neglected weight is carried along;
            * a ket or density matrix on ``dims [[N_B+1, D], ...]`` (photon index = number);
            * ``(m, k)``: the Fock product :math:`|m\\rangle|k\\rangle`.
        """
        neglected = 0.0
        if isinstance(state, tuple):
            if len(state) != 2:
                raise ValueError(f"a Fock label must be (m, k), got {state!r}")
            state = cavity_fock_state(self.model, state[1], m=state[0])
        if isinstance(state, CavityState):
            neglected = state.neglected_weight
            state = state.state
        if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
            raise TypeError(
                f"state must be a CavityState, a ket/density-matrix Qobj or (m, k), "
                f"got {type(state).__name__}"
            )
        dims = state.dims[0]
        nb1 = self.model.n_battery + 1
        if len(dims) != 2 or dims[0] != nb1 or (state.isoper and state.dims[1] != dims):
            raise ValueError(f"state must have dims [[{nb1}, D], ...], got {state.dims}")
        # a truncated photon state lacks exactly its neglected weight (not renormalised)
        validate_state(state, "state", norm_atol=NORM_ATOL + neglected)
        d_in = dims[1]
        space = self.basis(d_in + self.model.n_battery)
        data = state.full()
        if state.isket:
            vec = np.zeros((nb1, space.n_photons), dtype=complex)
            vec[:, :d_in] = data.reshape(nb1, d_in)
            return CavityEvolution(space, vec.ravel(), is_ket=True, neglected_weight=neglected)
        rho = np.zeros((nb1, space.n_photons, nb1, space.n_photons), dtype=complex)
        rho[:, :d_in, :, :d_in] = data.reshape(nb1, d_in, nb1, d_in)
        flat = rho.reshape(nb1 * space.n_photons, -1)
        return CavityEvolution(space, flat, is_ket=False, neglected_weight=neglected)


class CavityBasis(SectorBasis):
    """Battery Dicke levels (``jmat`` order) (x) photon numbers ``0 .. D-1``: a sector basis.

    The photon space is padded to hold every sector an input state reaches (``D`` = input
    levels + :math:`N_B`), so nothing leaks out of it.
    """

    def __init__(self, model: CavityModel, n_photons: int, cache: dict | None = None):
        super().__init__(model, cache)
        self.n_photons = int(n_photons)
        self.charger_labels = np.arange(self.n_photons)  # photon index = photon number

    def charger_index(self, k):
        return np.asarray(k)

    def tridiagonal(self, k: int):
        r""":math:`H_{mm} = B(m - N_B/2) + \omega(K - m)`,
        :math:`H_{m+1,m} = g\langle S^+\rangle\sqrt{K - m}`."""
        mod = self.model
        nb = mod.n_battery
        if k < 0:
            raise ValueError(f"sector k must be >= 0, got {k}")
        m = np.arange(0, min(nb, k) + 1)
        photons = k - m
        diag = mod.B * (m - nb / 2) + mod.omega * photons
        off = mod.g * ladder_up(nb / 2, m[:-1] - nb / 2) * np.sqrt(photons[:-1])
        return m, photons, diag, off


class CavityEvolution(SectorEvolution):
    r"""Exact evolution of one cavity initial state (see :class:`SectorEvolution`).

    ``battery_energy``, ``delta_energy``, ``power``, ``derivative_bound``,
    ``reduced_battery_matrices`` ... behave as for the spin charger.

    Attributes
    ----------
    neglected_weight : float
        Photon weight :math:`\varepsilon` cut off by the initial state's truncation.
    energy_error_bound : float
        :math:`\varepsilon|B|N_B`: bound on :math:`|\Delta E_B^{exact} - \Delta E_B|` at every
        time (the power error is at most this over ``t``).
    n_photons : int
        Photon levels ``D`` of :meth:`states` (input levels + ``N_B``: no leakage).
    """

    def __init__(self, space: CavityBasis, data, *, is_ket: bool, neglected_weight: float):
        super().__init__(space, data, is_ket=is_ket)
        self.neglected_weight = float(neglected_weight)
        self.energy_error_bound = self.neglected_weight * abs(self.model.B) * self.model.n_battery
        self.n_photons = space.n_photons

    def propagator(self, t: float) -> sp.csr_matrix:
        r""":math:`e^{-iHt}` on the occupied sectors (identity elsewhere), QuTiP ordering."""
        eng = self.engine
        dim = self._data.shape[0]
        occupied = {comp[0].k for comp in self._components}
        rows, cols, vals = [], [], []
        covered = np.zeros(dim, dtype=bool)
        for k in sorted(occupied):
            sec = eng.sector(k)
            if sec.n.max() >= self.n_photons:
                continue  # cannot happen for states built by evolve(); guard only
            u = (sec.vectors * np.exp(-1j * sec.energies * t)) @ sec.vectors.T
            idx = eng.full_index(sec.m, sec.n)
            covered[idx] = True
            rows.append(np.repeat(idx, idx.size))
            cols.append(np.tile(idx, idx.size))
            vals.append(u.ravel())
        rest = np.flatnonzero(~covered)
        rows.append(rest)
        cols.append(rest)
        vals.append(np.ones(rest.size, dtype=complex))
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(dim, dim)
        )

    def states(self, t) -> list[qutip.Qobj]:
        """States at ``t`` on ``dims [[N_B+1, D], ...]`` with ``D =`` :attr:`n_photons`."""
        shape = [self.model.n_battery + 1, self.n_photons]
        out = []
        for tt in np.atleast_1d(np.asarray(t, dtype=float)):
            u = self.propagator(tt)
            if self.is_ket:
                out.append(qutip.Qobj(u @ self._data, dims=[shape, [1, 1]]))
            else:
                rho = u @ (u @ self._data).conj().T
                out.append(qutip.Qobj(rho, dims=[shape, shape]))
        return out


def cavity_max_power(
    model: CavityModel, state, *, rtol: float = CERTIFIED_RTOL, engine: CavityEngine | None = None
) -> Maximum:
    r"""Certified :math:`P_{max} = \max_{t>0}\Delta E_B(t)/t` for the cavity charger.

    The branch and bound of :func:`qutip_centralspin.maxima.certified_max_power`, on the
    exact cavity engine. For a truncated state (coherent, thermal) the bracket is that of the
    truncated state; the true value differs by at most ``evo.energy_error_bound / time``.

    Parameters
    ----------
    state : CavityState, Qobj or tuple
        As for :meth:`CavityEngine.evolve`; ``(m, k)`` for a Fock product.
    """
    _check_cavity(model)
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
    _check_cavity(model)
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
    _check_cavity(model)
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
    from .solvers.sector import SectorEngine

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
        from .scaling import fit_power_law

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
    >>> from qutip_centralspin.cavity import tavis_cummings_scaling
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
