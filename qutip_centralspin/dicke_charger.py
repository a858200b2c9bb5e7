r"""Dicke (Ferraro) charger: :math:`N_B` two-level systems in one cavity, counter-rotating terms kept.

.. math::

    H = \omega_c a^\dagger a + \omega_a J^z + 2\omega_c\lambda\,J^x (a + a^\dagger),
    \qquad H_B = \omega_a J^z,

(:math:`\lambda` here is :attr:`DickeChargerModel.effective_coupling`: the coupling as given,
or :math:`\lambda/\sqrt{N_B}` with ``scaling="dicke"``), the "Dicke quantum battery" of
Ferraro, Campisi, Andolina, Pellegrini & Polini, PRL **120**, 117702 (2018)
(arXiv:1707.04930), with :math:`\hbar = 1`, :math:`\mathbf J = \tfrac12\sum_i
\boldsymbol\sigma_i` (``qutip.jmat``), the coupling :math:`\lambda` switched on at
:math:`t_0` (a step). Charging starts from the battery in its ground state :math:`|m = 0\rangle`
(all spins down) and the cavity in the Fock state :math:`|N_B\rangle` (one photon per spin);
:math:`\Delta E_B(t) = \omega_a(\langle J^z(t)\rangle - \langle J^z(t_0)\rangle)`.

What was checked against the literature: the abstract of arXiv:1707.04930 (N two-level systems
in one cavity mode, "Dicke QB", against each with its own cavity, "Rabi QB"; exact
diagonalisation; a charging-power advantage :math:`\propto\sqrt N` for :math:`N \gg 1`).
The full text was not available to us; the Hamiltonian above, the initial state
:math:`|N_B\rangle_{photons}\otimes|j, -j\rangle` and the parallel cell (one spin, one photon)
are as quoted by two independent re-implementations of the paper (public repositories
``WalterNadalin/QuantumBatteries``, README, and ``1024Person/Quatum-Battery``, a QuTiP
reproduction of its Figs. 2-3), which agree with each other.

Parity
------
There is no U(1): :math:`J^x(a + a^\dagger)` changes the excitation number
:math:`m + k` (:math:`m` battery excitations, :math:`k` photons) by 0 or :math:`\pm 2`. The
parity :math:`\Pi = e^{i\pi(a^\dagger a + J^z + N_B/2)} = (-1)^{m + k}` is conserved, and the
evolution runs in the parity sector(s) of the initial state: the states
:math:`|m, k\rangle`, :math:`0\le m\le N_B`, :math:`0 \le k \le K`, with :math:`m + k` of one
parity, about :math:`(N_B + 1)(K + 1)/2` of them. :math:`H` on a sector is a real symmetric
matrix (:math:`H_{mk,mk} = \omega_c k + \omega_a(m - N_B/2)`,
:math:`\langle m+1, k\pm1|H|m, k\rangle = \omega_c\lambda\sqrt{(m+1)(N_B-m)}\sqrt{k + (1\pm1)/2}`),
diagonalised once (LAPACK ``syevd``); every time is then one step.

Photon cutoff
-------------
Unlike the Tavis-Cummings charger (:mod:`qutip_centralspin.cavity`, exact for a Fock state)
the counter-rotating terms reach every photon number, so the cavity is cut at :math:`K`
photons. :func:`photon_cutoff` chooses :math:`K` by a convergence check: :math:`K` grows until,
on the time window, (i) :math:`\Delta E_B(t)` changes by less than ``tol`` times
:math:`|\omega_a|N_B` from the previous cutoff and (ii) the population of the two highest
Fock levels (:math:`k = K-1, K`: one per :math:`m` in a parity sector) stays below ``tol``.
Both are checked on a time grid: this is an *estimate* of the truncation error, not a bound.
The chosen :math:`K` is reported with every result (``stats["photon cutoff"]``).

Certified maxima on the truncated model
---------------------------------------
:math:`E_B(t) = \sum_{ab} M_{ab}\cos(\omega_{ab}t)` is a finite sum once the sector is
diagonalised, so :class:`DickeEvolution` is a
:class:`~qutip_centralspin.solvers.sector.SectorEvolution` and the certified branch and bound
of :mod:`qutip_centralspin.maxima` applies unchanged: its brackets are rigorous for the
Hamiltonian *truncated at* :math:`K` (and for the initial state without its eigen-components of
total weight below ``dropped_weight``, whose effect is bounded rigorously by
:attr:`DickeEvolution.spectral_error_bound`). The effect of the cutoff itself is the estimate
above (:mod:`qutip_centralspin.dicke_advantage` reports the change of each maximum between the
last two cutoffs).

Conventions: battery first, photon number second, ``dims = [[N_B+1, K+1], [N_B+1, K+1]]``;
``qutip.jmat`` order (:math:`|m\rangle` at index :math:`N_B - m`), photon index = photon number;
the time origin is ``tlist[0]`` (:mod:`qutip_centralspin.results`).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

import numpy as np
import qutip
import scipy.linalg
import scipy.sparse as sp

from . import _checks
from .expectation import evaluate_e_ops, normalize_e_ops
from .models.base import BatteryModel
from .operators import ladder_up
from .resources import require
from .results import ChargingResult
from .solvers.sector import SectorEvolution
from .solvers.sectors import Sector, SectorBasis
from .states import NORM_ATOL, validate_state

__all__ = [
    "COUPLING_SCALINGS",
    "CUTOFF_TOL",
    "DROPPED_WEIGHT",
    "DickeChargerModel",
    "DickeEngine",
    "DickeEvolution",
    "PhotonCutoff",
    "charging_window",
    "dicke_battery_hamiltonian",
    "dicke_charge",
    "dicke_fock_state",
    "dicke_hamiltonian",
    "dicke_parity",
    "photon_cutoff",
]

CouplingScaling = Literal["fixed", "dicke"]
#: How :class:`DickeChargerModel`'s coupling scales with N_B: lambda, or lambda / sqrt(N_B).
COUPLING_SCALINGS = ("fixed", "dicke")
#: Default tolerance of the photon-cutoff convergence check: the energy change relative to the
#: battery's range, and the population of the two highest Fock levels.
CUTOFF_TOL = 1e-10
#: Eigen-components of the initial state with a total weight below this are dropped (their
#: effect on the stored energy is bounded: ``DickeEvolution.spectral_error_bound``).
DROPPED_WEIGHT = 1e-26
#: The cutoff check stops here (then ``converged=False``).
MAX_CUTOFF = 4000
#: Time samples per period of the largest Bohr frequency on the cutoff-check grid ...
CHECK_SAMPLES_PER_PERIOD = 8
#: ... between these many points.
CHECK_POINTS = (256, 20_000)
_FLOAT = 8


# -- the model ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DickeChargerModel(BatteryModel):
    r"""Dicke quantum battery: :math:`N_B` spins and one cavity mode, rotating and counter-rotating.

    .. math::

        H = \omega_c a^\dagger a + \omega_a J^z + 2\omega_c\lambda_{eff}\,J^x(a + a^\dagger),
        \qquad
        \lambda_{eff} = \begin{cases} \lambda & \text{scaling = "fixed"} \\
                                       \lambda/\sqrt{N_B} & \text{scaling = "dicke"}
                         \end{cases}

    Parameters
    ----------
    n_battery : int
        Two-level systems :math:`N_B \ge 1` (collective spin :math:`\mathbf J`, ``qutip.jmat``).
    omega_c : float
        Cavity frequency :math:`\omega_c > 0`.
    omega_a : float
        Level splitting of each two-level system, :math:`H_B = \omega_a J^z`.
    coupling : float
        Dimensionless coupling :math:`\lambda` (Ferraro et al.'s :math:`\lambda`; the
        light-matter energy is :math:`\omega_c\lambda_{eff}`).
    scaling : {"fixed", "dicke"}, default "fixed"
        How the coupling scales with :math:`N_B` (:attr:`effective_coupling`). ``"fixed"``:
        :math:`\lambda_{eff} = \lambda` at every :math:`N_B`, the convention of Ferraro et al.
        (PRL 120, 117702 (2018)), whose power advantage :math:`\Gamma \propto \sqrt{N_B}` is
        at fixed :math:`\lambda`. ``"dicke"``: :math:`\lambda_{eff} = \lambda/\sqrt{N_B}`,
        the convention of the Dicke model's thermodynamic limit (Hepp-Lieb; the superradiant
        transition at :math:`\lambda\sqrt{\omega_c/\omega_a} = 1/2`, Emary & Brandes, PRE 67,
        066203 (2003)) under which the interaction energy per spin stays finite as
        :math:`N_B \to \infty`; with it the collective speed-up in :math:`\lambda` is scaled
        away and :math:`\Gamma` no longer grows like :math:`\sqrt{N_B}`.

    Notes
    -----
    :math:`\hbar = 1`; ``omega_c`` and ``omega_a`` in one energy unit, times in its inverse.
    :attr:`B` is :math:`\omega_a` under the name the battery-energy and ergotropy code of the
    package reads (:math:`H_B = B S^z`). For :math:`\lambda \ll 1` at resonance the rotating
    terms dominate: the Tavis-Cummings charger ``CavityModel(n_battery, omega=omega_c,
    g=omega_c * coupling, B=omega_a)`` of :mod:`qutip_centralspin.cavity`.

    Examples
    --------
    >>> from qutip_centralspin.dicke_charger import DickeChargerModel
    >>> DickeChargerModel(n_battery=4, omega_c=1.0, omega_a=1.0, coupling=0.05).B
    1.0
    """

    kind: ClassVar[str] = "dicke"
    energy_unit: ClassVar[str] = r"\omega_c"

    n_battery: int
    omega_c: float
    omega_a: float
    coupling: float
    scaling: CouplingScaling = "fixed"

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "n_battery", _checks.positive_int("n_battery", self.n_battery))
        set_(self, "omega_c", _checks.positive_real("omega_c", self.omega_c))
        set_(self, "omega_a", _checks.finite_real("omega_a", self.omega_a))
        set_(self, "coupling", _checks.finite_real("coupling", self.coupling))
        if self.scaling not in COUPLING_SCALINGS:
            raise ValueError(f"scaling must be one of {COUPLING_SCALINGS}, got {self.scaling!r}")

    @property
    def effective_coupling(self) -> float:
        r""":math:`\lambda_{eff}` of :math:`H`: :math:`\lambda` (``"fixed"``) or
        :math:`\lambda/\sqrt{N_B}` (``"dicke"``); the one place the scaling enters."""
        if self.scaling == "dicke":
            return self.coupling / math.sqrt(self.n_battery)
        return self.coupling

    @property
    def B(self) -> float:
        r""":math:`\omega_a`: :math:`H_B = \omega_a J^z` (what the ergotropy code reads as ``B``)."""
        return self.omega_a

    def dims(self, cutoff: int) -> list[list[int]]:
        """Operator dims ``[[N_B+1, K+1], [N_B+1, K+1]]`` for photon numbers 0 to ``cutoff``."""
        cutoff = _checks.int_in_range("cutoff", cutoff, 0, 10**9)
        shape = [self.n_battery + 1, cutoff + 1]
        return [shape, list(shape)]

    def replace(self, **changes) -> DickeChargerModel:
        """Return a copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    # -- the model interface (qutip_centralspin.models.base) -----------------------------------
    @property
    def battery_field(self) -> float:
        r""":math:`\omega_a` of :math:`H_B = \omega_a J^z`."""
        return self.omega_a

    def parameters(self) -> dict:
        """Every parameter (and ``"charger": "dicke"``), e.g. for JSON."""
        return {
            "charger": self.kind,
            "n_battery": self.n_battery,
            "omega_c": self.omega_c,
            "omega_a": self.omega_a,
            "coupling": self.coupling,
        }

    def symbols(self) -> dict[str, str]:
        r""":math:`N_B` and :math:`\lambda` for figure titles."""
        return {"N_B": f"{self.n_battery}", r"\lambda": f"{self.coupling:g}"}

    def label_state(self, m: int, c: int) -> qutip.Qobj:
        r"""The Fock product :math:`|m\rangle|k = c\rangle` on ``c + 1`` photon levels."""
        return dicke_fock_state(self, c, m=m)

    def hamiltonian(self, charger_levels: int | None = None) -> qutip.Qobj:
        """:func:`dicke_hamiltonian` with photon numbers below ``charger_levels`` (default
        :math:`2N_B + 1`)."""
        levels = charger_levels or 2 * self.n_battery + 1
        return dicke_hamiltonian(self, _checks.positive_int("charger_levels", levels) - 1)

    def charger_operators(self, dims: list[int]) -> dict[str, qutip.Qobj]:
        r""":math:`E_C = \omega_c a^\dagger a` and the photon number :math:`a^\dagger a`."""
        if len(dims) != 2 or dims[0] != self.n_battery + 1:
            raise ValueError(
                f"charger observables need a full-space state of dims "
                f"[{self.n_battery + 1}, D], got {dims}"
            )
        n = qutip.tensor(qutip.qeye(dims[0]), qutip.num(dims[1]))
        return {"E_C": self.omega_c * n, "n_C": n}

    def closed_evolution(self, state, *, times=None):
        """The parity-sector engine at the photon cutoff chosen by :func:`photon_cutoff`
        (checked on ``times``, or on :func:`charging_window` without them)."""
        check = photon_cutoff(self, state, tlist=times)
        evo = DickeEngine(self, check.cutoff).evolve(state)
        return evo, {
            "solver": "dicke",
            "method": "parity-sector diagonalisation (scipy.linalg.eig_banded)",
            "photon cutoff": check.cutoff,
            "cutoff energy change": check.energy_change,
            "cutoff top population": check.top_population,
            "cutoff converged": check.converged,
            "parity sector size": evo.sector_size,
            "kept components": evo.kept_components,
            "spectral error bound": evo.spectral_error_bound,
        }

    def empty_charger(self) -> int:
        """The empty cavity, :math:`k = 0`."""
        return 0

    def certification_caveat(self, evolution) -> str:
        """The photon cutoff: a bracket holds for :math:`H` truncated at it, and the cutoff
        was checked on a time window only (an estimate of the truncation error)."""
        return (
            f"certified for H truncated at {evolution.cutoff} photons; the cutoff was "
            "checked numerically on a time window (photon_cutoff), not bounded rigorously"
        )

    def open_solver(self, processes):
        r"""Refused: no exact open solver for the Dicke charger.

        Raises
        ------
        ValueError
            Always: the counter-rotating terms :math:`S^+a^\dagger + S^-a` break the
            conservation of :math:`K = m + k` on which the open block solver rests (only the
            parity of :math:`K` survives).
        """
        raise ValueError(
            "processes and coupling protocols are not supported for a DickeChargerModel: its "
            "counter-rotating terms break the conservation of K = m + photons on which the "
            "exact open block solver rests (only the parity survives). Supported: closed "
            "charging with constant coupling, or the rotating-wave limit "
            "CavityModel(n_battery, omega=omega_c, g=omega_c*coupling, B=omega_a) with "
            "processes and protocols"
        )


def _check_model(model) -> DickeChargerModel:
    if not isinstance(model, DickeChargerModel):
        raise TypeError(f"model must be a DickeChargerModel, got {type(model).__name__}")
    return model


def charging_window(model: DickeChargerModel) -> float:
    r"""Default time window :math:`2\pi/(\omega_c\min(|\lambda_{eff}|, 1))` of the maxima and checks.

    Four times the full-charge time :math:`\pi/(2\omega_c\lambda_{eff})` of one spin with one
    photon in the rotating-wave limit (collective charging is faster), and at least one cavity
    period.
    """
    _check_model(model)
    scale = min(abs(model.effective_coupling), 1.0)
    if scale == 0:
        return 2 * math.pi / model.omega_c
    return 2 * math.pi / (model.omega_c * scale)


# -- reference operators (full space, for qutip.sesolve) -------------------------------------
def dicke_hamiltonian(model: DickeChargerModel, cutoff: int) -> qutip.Qobj:
    r""":math:`H` on photon numbers 0 to ``cutoff``, from ``qutip.jmat`` and ``qutip.destroy``.

    ``dims = [[N_B+1, K+1], [N_B+1, K+1]]``, battery first. The reference path for
    ``qutip.sesolve``; the engine never builds it.
    """
    _check_model(model)
    levels = _checks.int_in_range("cutoff", cutoff, 1, 10**9) + 1
    j = model.n_battery / 2
    a = qutip.destroy(levels)
    ib, ic = qutip.qeye(model.n_battery + 1), qutip.qeye(levels)
    H = (
        model.omega_c * qutip.tensor(ib, a.dag() * a)
        + model.omega_a * qutip.tensor(qutip.jmat(j, "z"), ic)
        + 2
        * model.omega_c
        * model.effective_coupling
        * qutip.tensor(qutip.jmat(j, "x"), a + a.dag())
    )
    H.isherm = True
    return H


def dicke_battery_hamiltonian(model: DickeChargerModel, cutoff: int) -> qutip.Qobj:
    r""":math:`H_B = \omega_a J^z \otimes 1` on ``dims [[N_B+1, K+1], ...]``."""
    _check_model(model)
    levels = _checks.int_in_range("cutoff", cutoff, 0, 10**9) + 1
    return model.omega_a * qutip.tensor(qutip.jmat(model.n_battery / 2, "z"), qutip.qeye(levels))


def dicke_parity(model: DickeChargerModel, cutoff: int) -> qutip.Qobj:
    r"""Parity :math:`\Pi = (-1)^{m + k}` (diagonal) on ``dims [[N_B+1, K+1], ...]``."""
    _check_model(model)
    levels = _checks.int_in_range("cutoff", cutoff, 0, 10**9) + 1
    m = np.repeat(np.arange(model.n_battery, -1, -1), levels)
    k = np.tile(np.arange(levels), model.n_battery + 1)
    return qutip.Qobj(np.diag((-1.0) ** (m + k)), dims=model.dims(levels - 1))


def dicke_fock_state(
    model: DickeChargerModel, k: int | None = None, *, m: int = 0, cutoff: int | None = None
) -> qutip.Qobj:
    r"""Battery :math:`|m\rangle` (default the ground state), cavity Fock :math:`|k\rangle`.

    Parameters
    ----------
    k : int, optional
        Photons; default :math:`N_B` (Ferraro et al.'s initial state).
    m : int, default 0
        Battery excitations (flipped spins).
    cutoff : int, optional
        Highest photon number of the space, default ``k``.
    """
    _check_model(model)
    k = model.n_battery if k is None else _checks.int_in_range("k", k, 0, 10**9)
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    cutoff = k if cutoff is None else _checks.int_in_range("cutoff", cutoff, k, 10**9)
    return qutip.tensor(
        qutip.basis(model.n_battery + 1, model.n_battery - m), qutip.basis(cutoff + 1, k)
    )


# -- the exact engine -----------------------------------------------------------------------
class DickeEngine(SectorBasis):
    r"""Exact diagonalisation of the Dicke :math:`H` per parity sector, photons 0 to ``cutoff``.

    A :class:`~qutip_centralspin.solvers.sectors.SectorBasis` whose two sectors are the
    parities ``p`` (:math:`(-1)^{m+k} = (-1)^p`): battery levels (``jmat`` order) times photon
    numbers 0 to ``cutoff``. The sectors are dense, not tridiagonal (:meth:`sector` replaces
    the tridiagonal construction), diagonalised lazily and cached on the instance.

    Parameters
    ----------
    model : DickeChargerModel
    cutoff : int
        Highest photon number :math:`K \ge 1` kept.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.dicke_charger import DickeChargerModel, DickeEngine
    >>> model = DickeChargerModel(n_battery=2, omega_c=1.0, omega_a=1.0, coupling=0.1)
    >>> evo = DickeEngine(model, cutoff=30).evolve((0, 2))
    >>> round(float(evo.delta_energy(np.array([5.0]))[0]), 8)
    0.79775278
    """

    #: A parity sector holds every battery level many times (with different photon numbers).
    battery_label_unique = False

    def __init__(self, model: DickeChargerModel, cutoff: int):
        super().__init__(_check_model(model))
        self.cutoff = _checks.int_in_range("cutoff", cutoff, 1, 10**9)
        self.charger_labels = np.arange(self.cutoff + 1)  # photon index = photon number

    def charger_index(self, k):
        return np.asarray(k)

    @functools.cached_property
    def excitations(self) -> np.ndarray:
        """The sector label of every index of the QuTiP vector: the parity ``(m + k) % 2``."""
        nb = self.model.n_battery
        m_of = np.repeat(np.arange(nb, -1, -1), self.cutoff + 1)
        return (m_of + np.tile(self.charger_labels, nb + 1)) % 2

    def sector_labels(self, parity: int) -> tuple[np.ndarray, np.ndarray]:
        """``(m, k)`` of the sector's basis, ``m`` ascending (then ``k``)."""
        parity = _checks.int_in_range("parity", parity, 0, 1)
        m, k = np.meshgrid(np.arange(self.model.n_battery + 1), self.charger_labels, indexing="ij")
        keep = (m + k) % 2 == parity
        return m[keep], k[keep]

    def _couplings(self, parity: int):
        """``(m, k, diagonal, rows, cols, values)``: :math:`H` of a sector, upper triangle."""
        mod = self.model
        m, k = self.sector_labels(parity)
        size = m.size
        position = np.full((mod.n_battery + 2, self.cutoff + 2), -1)
        position[m, k] = np.arange(size)
        diag = mod.omega_c * k + mod.omega_a * (m - mod.n_battery / 2)
        lam = mod.omega_c * mod.effective_coupling
        up = ladder_up(mod.n_battery / 2, m - mod.n_battery / 2)  # <m+1|J^+|m>, 0 at m = N_B
        rows, cols, vals = [], [], []
        for dk, amp in ((1, np.sqrt(k + 1.0)), (-1, np.sqrt(k.astype(float)))):
            inside = (k + dk >= 0) & (k + dk <= self.cutoff) & (up > 0) & (amp > 0)
            src = np.flatnonzero(inside)
            rows.append(src)
            cols.append(position[m[src] + 1, k[src] + dk])
            vals.append(lam * up[src] * amp[src])
        rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        return m, k, diag, rows, cols, vals

    def sector_hamiltonian(self, parity: int) -> np.ndarray:
        """The dense real symmetric :math:`H` of one parity sector (basis of :meth:`sector_labels`)."""
        m, _, diag, rows, cols, vals = self._couplings(parity)
        require(_FLOAT * m.size * m.size, f"the dense parity sector of size {m.size}")
        h = np.diag(diag)
        h[rows, cols] = vals
        h[cols, rows] = vals
        return h

    def sector(self, k: int) -> Sector:
        """The (cached) parity sector ``k`` (0 or 1), diagonalised.

        Ordered by photon number first, the sector matrix is banded (half-width about
        :math:`N_B/2 + 1`): ``scipy.linalg.eig_banded`` (LAPACK ``sbevd``), then the
        eigenvectors are put back in the order of :meth:`sector_labels`.
        """
        k = int(k)
        if k not in self._sectors:
            m, photons, diag, rows, cols, vals = self._couplings(k)
            size = m.size
            require(3.0 * _FLOAT * size * size, f"diagonalising the parity sector of size {size}")
            band = np.lexsort((m, photons))  # photon number first
            where = np.empty(size, dtype=int)
            where[band] = np.arange(size)
            r, c = where[rows], where[cols]
            lo, hi = np.minimum(r, c), np.maximum(r, c)
            width = int(np.max(hi - lo)) if hi.size else 0
            upper = np.zeros((width + 1, size))
            upper[width] = diag[band]
            upper[width + lo - hi, hi] = vals  # LAPACK upper band storage: a[w + i - j, j]
            energies, vectors = scipy.linalg.eig_banded(upper, check_finite=False)
            vectors = vectors[where]  # rows back in sector_labels order
            self._sectors[k] = Sector(k, m, photons, diag, np.empty(0), energies, vectors)
        return self._sectors[k]

    # -- states ----------------------------------------------------------------------------
    def evolve(self, state=None, *, dropped_weight: float = DROPPED_WEIGHT) -> DickeEvolution:
        r"""Prepare the exact evolution of ``state`` under :math:`H` cut at :attr:`cutoff` photons.

        Parameters
        ----------
        state : tuple or Qobj, optional
            ``(m, k)``: the product :math:`|m\rangle|k\rangle` (default ``(0, N_B)``); or a ket
            or density matrix on ``dims [[N_B+1, D], ...]`` with ``D <= cutoff + 1`` (photon
            index = number), padded with empty levels.
        dropped_weight : float, default 1e-26
            Eigen-components of total weight up to this are dropped (the smallest first); see
            :attr:`DickeEvolution.spectral_error_bound`. ``0`` keeps every one.
        """
        dropped_weight = _checks.nonnegative_real("dropped_weight", dropped_weight)
        data, is_ket = self._full_state(state)
        return DickeEvolution(self, data, is_ket=is_ket, dropped_weight=dropped_weight)

    def _full_state(self, state) -> tuple[np.ndarray, bool]:
        nb1 = self.model.n_battery + 1
        levels = self.cutoff + 1
        if state is None:
            state = (0, self.model.n_battery)
        if isinstance(state, tuple):
            if len(state) != 2:
                raise ValueError(f"a Fock label must be (m, k), got {state!r}")
            m = _checks.int_in_range("m", state[0], 0, self.model.n_battery)
            k = _checks.int_in_range("k", state[1], 0, self.cutoff)
            vec = np.zeros(nb1 * levels, dtype=complex)
            vec[self.full_index(m, k)] = 1.0
            return vec, True
        if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
            raise TypeError(
                f"state must be (m, k) or a ket/density-matrix Qobj, got {type(state).__name__}"
            )
        dims = state.dims[0]
        if len(dims) != 2 or dims[0] != nb1 or (state.isoper and state.dims[1] != dims):
            raise ValueError(f"state must have dims [[{nb1}, D], ...], got {state.dims}")
        if dims[1] > levels:
            raise ValueError(
                f"state has {dims[1]} photon levels, more than cutoff + 1 = {levels}; raise cutoff"
            )
        validate_state(state, "state", norm_atol=NORM_ATOL)
        d_in = dims[1]
        data = state.full()
        if state.isket:
            vec = np.zeros((nb1, levels), dtype=complex)
            vec[:, :d_in] = data.reshape(nb1, d_in)
            return vec.ravel(), True
        rho = np.zeros((nb1, levels, nb1, levels), dtype=complex)
        rho[:, :d_in, :, :d_in] = data.reshape(nb1, d_in, nb1, d_in)
        return rho.reshape(nb1 * levels, -1), False


class _KeptBasis(SectorBasis):
    """The sectors of a :class:`DickeEngine` restricted to the eigenvectors one state occupies."""

    battery_label_unique = False

    def __init__(self, engine: DickeEngine, kept: dict[int, np.ndarray]):
        super().__init__(engine.model)
        self.cutoff = engine.cutoff
        self.charger_labels = engine.charger_labels
        self.excitations = engine.excitations
        for p, idx in kept.items():
            full = engine.sector(p)
            self._sectors[p] = Sector(
                p, full.m, full.n, full.diagonal, full.off_diagonal,
                full.energies[idx], full.vectors[:, idx],
            )  # fmt: skip

    def charger_index(self, k):
        return np.asarray(k)

    @property
    def parities(self) -> list[int]:
        """The occupied parity sectors."""
        return sorted(self._sectors)

    def sector(self, k: int) -> Sector:
        return self._sectors[int(k)]


class DickeEvolution(SectorEvolution):
    r"""Exact evolution of one initial state of the Dicke charger (cut at ``cutoff`` photons).

    A :class:`~qutip_centralspin.solvers.sector.SectorEvolution`: ``battery_energy``,
    ``delta_energy``, ``power``, ``reduced_battery_matrices`` and the certification data of
    :mod:`qutip_centralspin.maxima` behave as for the spin charger (times are elapsed times,
    :math:`t \ge 0`).

    Attributes
    ----------
    cutoff : int
        Highest photon number :math:`K`.
    dropped_weight : float
        Total weight :math:`w` of the eigen-components dropped from the initial state.
    spectral_error_bound : float
        :math:`|\omega_a|N_B(2\sqrt w + w)`: a rigorous bound, at every time, on the change of
        :math:`\Delta E_B` caused by the dropping (the state is
        :math:`\psi = \psi' + \delta`, :math:`\psi'\perp\delta`, both evolving in their own
        eigenspaces, and :math:`\lVert\omega_a J^z\rVert = |\omega_a|N_B/2`).
    kept_components : int
        Eigenvectors kept, over all occupied sectors.
    sector_size : int
        Size of the largest occupied parity sector.
    """

    def __init__(
        self, engine: DickeEngine, data: np.ndarray, *, is_ket: bool, dropped_weight: float
    ):
        blocks, kept, dropped = {}, {}, 0.0
        populations = np.abs(data) ** 2 if is_ket else np.real(np.diagonal(data))
        for p in np.unique(engine.excitations[np.flatnonzero(populations > 0)]):
            sec = engine.sector(int(p))
            idx = engine.full_index(sec.m, sec.n)
            block = data[idx][:, None] if is_ket else _factor(data[np.ix_(idx, idx)])
            if block.shape[1] == 0:
                continue
            coeff = sec.vectors.T @ block
            weights = np.sum(np.abs(coeff) ** 2, axis=1)
            order = np.argsort(weights)
            cumulative = np.cumsum(weights[order])
            n_drop = int(np.searchsorted(cumulative, dropped_weight, side="right"))
            keep = np.sort(order[n_drop:])
            dropped += float(cumulative[n_drop - 1]) if n_drop else 0.0
            if keep.size == 0:
                continue  # the whole sector weighs less than dropped_weight
            kept[int(p)] = keep
            blocks[int(p)] = sec.vectors[:, keep] @ coeff[keep]  # the state without dropped parts
        view = _KeptBasis(engine, kept)
        full = np.zeros(data.shape, dtype=complex)
        for p, block in blocks.items():
            idx = engine.full_index(view.sector(p).m, view.sector(p).n)
            if is_ket:
                full[idx] = block[:, 0]
            else:
                full[np.ix_(idx, idx)] = block @ block.conj().T
        if not is_ket:
            full = _with_coherences(data, full, engine, view)
        super().__init__(view, full, is_ket=is_ket, blocks=blocks)
        self.parent = engine
        self.cutoff = engine.cutoff
        self.dropped_weight = dropped
        self.spectral_error_bound = (
            abs(self.model.omega_a) * self.model.n_battery * (2 * math.sqrt(dropped) + dropped)
        )
        self.kept_components = int(sum(idx.size for idx in kept.values()))
        self.sector_size = max((engine.sector(p).size for p in kept), default=0)

    # -- diagonal observables without the full state ------------------------------------------
    def photon_populations(self, t) -> np.ndarray:
        r"""Photon-number distribution :math:`p_k(t)`, shape ``(len(t), cutoff + 1)``.

        Only the sector-diagonal blocks of the state enter (a diagonal observable), so this
        never builds a full-space state.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros((t.size, self.cutoff + 1))
        for sec, coeff, *_ in self._components:
            phases = np.exp(-1j * np.outer(t, sec.energies))  # (T, r)
            for col in coeff.T:
                amp = (phases * col[None, :]) @ sec.vectors.T  # (T, d) over the sector basis
                np.add.at(out, (slice(None), sec.n), amp.real**2 + amp.imag**2)
        return out

    def top_population(self, t, levels: int = 2) -> np.ndarray:
        """Population of the ``levels`` highest Fock levels (``cutoff - levels + 1 .. cutoff``)."""
        levels = _checks.int_in_range("levels", levels, 1, self.cutoff + 1)
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros(t.size)
        for sec, coeff, *_ in self._components:
            rows = np.flatnonzero(sec.n > self.cutoff - levels)
            if rows.size == 0:
                continue
            phases = np.exp(-1j * np.outer(t, sec.energies))
            top = sec.vectors[rows]  # (rows, r)
            for col in coeff.T:
                amp = (phases * col[None, :]) @ top.T
                out += np.sum(amp.real**2 + amp.imag**2, axis=1)
        return out

    # -- states --------------------------------------------------------------------------------
    def propagator(self, t: float) -> sp.csr_matrix:
        r""":math:`e^{-iHt}` on the span of the kept eigenvectors (where the state lives), 0 elsewhere."""
        eng = self.engine
        rows, cols, vals = [], [], []
        for sec in self.occupied_sectors:
            u = (sec.vectors * np.exp(-1j * sec.energies * t)) @ sec.vectors.T
            idx = eng.full_index(sec.m, sec.n)
            rows.append(np.repeat(idx, idx.size))
            cols.append(np.tile(idx, idx.size))
            vals.append(u.ravel())
        dim = self._data.shape[0]
        if not vals:
            return sp.csr_matrix((dim, dim), dtype=complex)
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(dim, dim)
        )

    def states(self, t) -> list[qutip.Qobj]:
        """States at the elapsed times ``t`` on ``dims [[N_B+1, cutoff+1], ...]``."""
        shape = [self.model.n_battery + 1, self.cutoff + 1]
        times = np.atleast_1d(np.asarray(t, dtype=float))
        if self.is_ket:
            vectors = np.zeros((self._data.shape[0], times.size), dtype=complex)
            for sec, coeff, *_ in self._components:
                idx = self.engine.full_index(sec.m, sec.n)
                phases = np.exp(-1j * np.outer(sec.energies, times))
                vectors[idx] = sec.vectors @ (phases * coeff[:, :1])
            return [
                qutip.Qobj(vectors[:, i : i + 1], dims=[shape, [1, 1]]) for i in range(times.size)
            ]
        out = []
        for tt in times:
            u = self.propagator(tt)
            rho = u @ (u @ self._data).conj().T
            out.append(qutip.Qobj(rho, dims=[shape, shape]))
        return out


def _factor(rho: np.ndarray) -> np.ndarray:
    """``L`` with ``rho = L L^dagger`` (eigenvalues below 1e-14 of the largest dropped)."""
    if float(np.trace(rho).real) <= 0:
        return np.zeros((rho.shape[0], 0))
    p, w = np.linalg.eigh((rho + rho.conj().T) / 2)
    keep = p > p.max() * 1e-14
    return w[:, keep] * np.sqrt(p[keep])


def _with_coherences(data, blocks_only, engine, view):
    """Add the inter-parity coherences of ``data``, projected on the kept eigenvectors."""
    parities = view.parities
    if len(parities) < 2:
        return blocks_only
    out = blocks_only.copy()
    p, q = parities
    sp_, sq = view.sector(p), view.sector(q)
    ip, iq = engine.full_index(sp_.m, sp_.n), engine.full_index(sq.m, sq.n)
    proj_p, proj_q = sp_.vectors @ sp_.vectors.T, sq.vectors @ sq.vectors.T
    cross = proj_p @ data[np.ix_(ip, iq)] @ proj_q
    out[np.ix_(ip, iq)] = cross
    out[np.ix_(iq, ip)] = cross.conj().T
    return out


# -- the photon cutoff ----------------------------------------------------------------------
@dataclass(frozen=True)
class PhotonCutoff:
    r"""The photon cutoff chosen by the convergence check, and the evidence.

    Attributes
    ----------
    cutoff : int
        :math:`K`, the highest photon number kept.
    previous : int
        The cutoff it was compared with.
    energy_change : float
        :math:`\max_t|\Delta E_B^{(K)}(t) - \Delta E_B^{(K_{prev})}(t)|` on the check grid.
    top_population : float
        :math:`\max_t` population of the Fock levels :math:`K-1, K` on the check grid.
    tolerance : float
        ``tol``: the energy change is compared with ``tol`` :math:`|\omega_a|N_B`, the
        population with ``tol``.
    window : float
        The check grid spans elapsed times ``[0, window]`` ...
    points : int
        ... with this many points.
    converged : bool
        Both criteria met (an estimate on a grid, not a proof).
    history : tuple
        ``(cutoff, energy_change, top_population)`` of every cutoff tried.
    reason : str
        Why not converged (empty when converged).
    """

    cutoff: int
    previous: int
    energy_change: float
    top_population: float
    tolerance: float
    window: float
    points: int
    converged: bool
    history: tuple
    reason: str = ""


def _next_cutoff(cutoff: int, top: float, tol: float, max_cutoff: int) -> int:
    """Grow by half while the top levels hold more than sqrt(tol), else by a quarter (>= 4)."""
    factor = 0.5 if top > math.sqrt(tol) else 0.25
    return min(max_cutoff, cutoff + max(4, int(cutoff * factor)))


def _check_grid(model, evo, window, tlist):
    if tlist is not None:
        times = _checks.time_list("tlist", tlist)
        return times - times[0], float(times[-1] - times[0])
    window = charging_window(model) if window is None else _checks.positive_real("window", window)
    omega = max(evo.max_frequency(), model.omega_c)
    count = int(math.ceil(window * omega * CHECK_SAMPLES_PER_PERIOD / (2 * math.pi)))
    count = min(max(count, CHECK_POINTS[0]), CHECK_POINTS[1])
    return np.linspace(0.0, window, count + 1), window


def photon_cutoff(
    model: DickeChargerModel,
    state=None,
    *,
    window: float | None = None,
    tlist=None,
    tol: float = CUTOFF_TOL,
    start: int | None = None,
    max_cutoff: int = MAX_CUTOFF,
    engines: dict | None = None,
) -> PhotonCutoff:
    r"""Choose the photon cutoff :math:`K` by a convergence check on a time window.

    :math:`K` starts at ``start`` and grows by half while the two highest Fock levels hold more
    than :math:`\sqrt{tol}`, then by a quarter (at least 4) each step. It is
    accepted when, on the check grid, :math:`\Delta E_B` differs from that of the previous
    cutoff by at most ``tol`` :math:`|\omega_a|N_B` and the two highest Fock levels hold at most
    ``tol`` of the population at every grid time.

    Parameters
    ----------
    model : DickeChargerModel
    state : tuple or Qobj, optional
        As for :meth:`DickeEngine.evolve`; default :math:`|m=0\rangle|k=N_B\rangle`.
    window : float, optional
        Elapsed-time window of the check; default :func:`charging_window`. Sampled with
        :data:`CHECK_SAMPLES_PER_PERIOD` points per period of the largest Bohr frequency of
        the first cutoff (at least 256, at most 20,000 points).
    tlist : array_like, optional
        Check on these times instead (elapsed from ``tlist[0]``).
    tol : float, default 1e-10
    start : int, optional
        First cutoff; default :math:`k_0 + N_B + 4` (:math:`k_0` the initial photon number,
        or the highest one of a ``Qobj``'s space: the rotating-wave manifold and a margin).
    max_cutoff : int, default 4000
        Give up there (``converged=False``).
    engines : dict, optional
        Filled with the :class:`DickeEngine` of every cutoff tried (``{cutoff: engine}``, its
        sectors diagonalised), and reused if it already holds one: pass the same dict to
        evolve at the chosen and the previous cutoff without diagonalising again.

    Examples
    --------
    >>> from qutip_centralspin.dicke_charger import DickeChargerModel, photon_cutoff
    >>> model = DickeChargerModel(n_battery=2, omega_c=1.0, omega_a=1.0, coupling=0.1)
    >>> best = photon_cutoff(model)
    >>> best.converged, best.top_population < 1e-10
    (True, True)
    """
    _check_model(model)
    tol = _checks.positive_real("tol", tol)
    max_cutoff = _checks.int_in_range("max_cutoff", max_cutoff, 1, 10**9)
    if start is None:
        start = _initial_photons(model, state) + model.n_battery + 4
    start = _checks.int_in_range("start", start, 1, max_cutoff)
    scale = abs(model.omega_a) * model.n_battery
    history, grid, previous, prev_energy = [], None, None, None
    span = 0.0
    engines = {} if engines is None else engines
    cutoff = start
    while True:
        engine = engines.get(cutoff)
        if engine is None or engine.model != model:
            engine = engines[cutoff] = DickeEngine(model, cutoff)
        evo = engine.evolve(state)
        if grid is None:
            grid, span = _check_grid(model, evo, window, tlist)
        energy = evo.delta_energy(grid)
        top = float(np.max(evo.top_population(grid)))
        change = math.inf if prev_energy is None else float(np.max(np.abs(energy - prev_energy)))
        history.append((cutoff, change, top))
        if change <= tol * scale and top <= tol:
            return PhotonCutoff(
                cutoff, previous, change, top, tol, span, grid.size, True, tuple(history)
            )
        if cutoff >= max_cutoff:
            break
        previous, prev_energy = cutoff, energy
        cutoff = _next_cutoff(cutoff, top, tol, max_cutoff)
    return PhotonCutoff(
        cutoff,
        previous if previous is not None else cutoff,
        change,
        top,
        tol,
        span,
        grid.size,
        False,
        tuple(history),
        reason=f"not converged to tol={tol:g} by max_cutoff={max_cutoff}",
    )


def _initial_photons(model, state) -> int:
    """Highest photon number of the initial state's space."""
    if state is None:
        return model.n_battery
    if isinstance(state, tuple):
        if len(state) != 2:
            raise ValueError(f"a Fock label must be (m, k), got {state!r}")
        return _checks.int_in_range("k", state[1], 0, 10**9)
    if isinstance(state, qutip.Qobj) and len(state.dims[0]) == 2:
        return int(state.dims[0][1]) - 1  # the state's own photon space (checked by evolve)
    raise TypeError(
        f"state must be (m, k) or a ket/density-matrix Qobj, got {type(state).__name__}"
    )


# -- the charging run -----------------------------------------------------------------------
#: Options understood by :func:`dicke_charge`.
OPTIONS = _checks.COMMON_OPTIONS


def dicke_charge(
    model: DickeChargerModel,
    tlist,
    *,
    state=None,
    cutoff: int | None = None,
    tol: float = CUTOFF_TOL,
    e_ops=None,
    options: dict | None = None,
) -> ChargingResult:
    r"""Charge the Dicke battery from ``state`` and record :math:`\Delta E_B(t)`, :math:`P_B(t)`.

    Parameters
    ----------
    model : DickeChargerModel
    tlist : array_like
        Increasing times :math:`\ge 0`; the state is the one at ``tlist[0]``.
    state : tuple or Qobj, optional
        ``(m, k)`` or a ket/density matrix on ``dims [[N_B+1, D], ...]``; default
        :math:`|m=0\rangle|k=N_B\rangle`.
    cutoff : int, optional
        Highest photon number. Default: chosen by :func:`photon_cutoff` on the elapsed times
        of ``tlist`` with ``tol``. Give it to fix the dims of ``Qobj`` ``e_ops``.
    e_ops : optional
        As in :func:`~qutip_centralspin.charge` (Qobj on ``dims [[N_B+1, K+1], ...]``, QobjEvo,
        or callables ``f(t, state)``), evaluated on the full states.
    options : dict, optional
        ``store_states``, ``store_final_state``, ``progress_bar``, ``progress_kwargs``,
        ``max_memory``.

    Returns
    -------
    ChargingResult
        ``solver = "dicke"``; ``stats`` has ``"photon cutoff"`` (:math:`K`), the check's
        ``"cutoff energy change"``, ``"cutoff top population"``, ``"cutoff converged"`` (``None``
        entries when ``cutoff`` was given), ``"parity sector size"``, ``"kept components"``,
        ``"spectral error bound"``, ``"init time"`` and ``"run time"``.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.dicke_charger import DickeChargerModel, dicke_charge
    >>> model = DickeChargerModel(n_battery=2, omega_c=1.0, omega_a=1.0, coupling=0.1)
    >>> res = dicke_charge(model, np.linspace(0, 10, 101))
    >>> res.stats["photon cutoff"], round(res.e_max, 4)
    (16, 1.6393)
    """
    start = time.perf_counter()
    _check_model(model)
    times = _checks.time_list("tlist", tlist)
    options = _checks.solver_options("dicke", options, OPTIONS)
    store = bool(options.get("store_states"))
    final = bool(options.get("store_final_state"))
    user_ops = normalize_e_ops(e_ops)
    check = None
    if cutoff is None:
        check = photon_cutoff(model, state, tlist=times, tol=tol)
        cutoff = check.cutoff
    else:
        cutoff = _checks.int_in_range("cutoff", cutoff, 1, 10**9)
    evo = DickeEngine(model, cutoff).evolve(state)
    init = time.perf_counter() - start
    elapsed = times - times[0]
    if store or user_ops:
        states = evo.states(elapsed)
    elif final:
        states = evo.states(elapsed[-1:])
    else:
        states = []
    e_data = evaluate_e_ops(user_ops, times, states) if user_ops else {}
    return ChargingResult.from_energy(
        model,
        times,
        evo.battery_energy(elapsed),
        initial_energy=evo.initial_energy,
        initial_rate=evo.initial_rate(),
        solver="dicke",
        states=states,
        store_states=store,
        store_final_state=final,
        e_data=e_data,
        stats={
            "solver": "dicke",
            "method": "parity-sector diagonalisation (scipy.linalg.eigh)",
            "photon cutoff": cutoff,
            "cutoff energy change": None if check is None else check.energy_change,
            "cutoff top population": None if check is None else check.top_population,
            "cutoff converged": None if check is None else check.converged,
            "parity sector size": evo.sector_size,
            "kept components": evo.kept_components,
            "spectral error bound": evo.spectral_error_bound,
            "init time": init,
            "run time": time.perf_counter() - start,
        },
    )
