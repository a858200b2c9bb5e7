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
Unlike the Tavis-Cummings charger (:mod:`qutip_centralspin.models.cavity`, exact for a Fock state)
the counter-rotating terms reach every photon number, so the cavity is cut at :math:`K`
photons. :func:`~qutip_centralspin.solvers.dicke_engine.photon_cutoff` chooses :math:`K` by a
convergence check: :math:`K` grows until,
on the time window, (i) :math:`\Delta E_B(t)` changes by less than ``tol`` times
:math:`|\omega_a|N_B` from the previous cutoff and (ii) the population of the two highest
Fock levels (:math:`k = K-1, K`: one per :math:`m` in a parity sector) stays below ``tol``.
Both are checked on a time grid: this is an *estimate* of the truncation error, not a bound.
The chosen :math:`K` is reported with every result (``stats["photon cutoff"]``).

Certified maxima on the truncated model
---------------------------------------
:math:`E_B(t) = \sum_{ab} M_{ab}\cos(\omega_{ab}t)` is a finite sum once the sector is
diagonalised, so :class:`~qutip_centralspin.solvers.dicke_engine.DickeEvolution` is a
:class:`~qutip_centralspin.solvers.sector.SectorEvolution` and the certified branch and bound
of :mod:`qutip_centralspin.maxima.certified` applies unchanged: its brackets are rigorous for the
Hamiltonian *truncated at* :math:`K` (and for the initial state without its eigen-components of
total weight below ``dropped_weight``, whose effect is bounded rigorously by
:attr:`~qutip_centralspin.solvers.dicke_engine.DickeEvolution.spectral_error_bound`). The effect
of the cutoff itself is the estimate
above (:mod:`qutip_centralspin.studies.dicke_advantage` reports the change of each maximum between the
last two cutoffs).

Conventions: battery first, photon number second, ``dims = [[N_B+1, K+1], [N_B+1, K+1]]``;
``qutip.jmat`` order (:math:`|m\rangle` at index :math:`N_B - m`), photon index = photon number;
the time origin is ``tlist[0]`` (:mod:`qutip_centralspin.results`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import ClassVar, Literal

import numpy as np
import qutip

from .. import _checks
from .base import BatteryModel, photon_operators

__all__ = [
    "COUPLING_SCALINGS",
    "DickeChargerModel",
    "charging_window",
    "dicke_battery_hamiltonian",
    "dicke_fock_state",
    "dicke_hamiltonian",
    "dicke_parity",
    "check_dicke_model",
]

CouplingScaling = Literal["fixed", "dicke"]
#: How :class:`DickeChargerModel`'s coupling scales with N_B: lambda, or lambda / sqrt(N_B).
COUPLING_SCALINGS = ("fixed", "dicke")


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
    g=omega_c * coupling, B=omega_a)`` of :mod:`qutip_centralspin.models.cavity`.

    Examples
    --------
    >>> from qutip_centralspin.models.dicke import DickeChargerModel
    >>> DickeChargerModel(n_battery=4, omega_c=1.0, omega_a=1.0, coupling=0.05).B
    1.0
    """

    kind: ClassVar[str] = "dicke"
    energy_unit: ClassVar[str] = r"\omega_c"
    #: The counter-rotating terms break the excitation number the open block solver rests on.
    open_refusal: ClassVar[str] = (
        "processes and coupling protocols are not supported for a DickeChargerModel: its "
        "counter-rotating terms break the conservation of K = m + photons on which the "
        "exact open block solver rests (only the parity survives). Supported: closed "
        "charging with constant coupling, or the rotating-wave limit "
        "CavityModel(n_battery, omega=omega_c, g=omega_c*coupling, B=omega_a) with "
        "processes and protocols"
    )

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
        return photon_operators(self, dims, self.omega_c)

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


def check_dicke_model(model) -> DickeChargerModel:
    if not isinstance(model, DickeChargerModel):
        raise TypeError(f"model must be a DickeChargerModel, got {type(model).__name__}")
    return model


def charging_window(model: DickeChargerModel) -> float:
    r"""Default time window :math:`2\pi/(\omega_c\min(|\lambda_{eff}|, 1))` of the maxima and checks.

    Four times the full-charge time :math:`\pi/(2\omega_c\lambda_{eff})` of one spin with one
    photon in the rotating-wave limit (collective charging is faster), and at least one cavity
    period.
    """
    check_dicke_model(model)
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
    check_dicke_model(model)
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
    check_dicke_model(model)
    levels = _checks.int_in_range("cutoff", cutoff, 0, 10**9) + 1
    return model.omega_a * qutip.tensor(qutip.jmat(model.n_battery / 2, "z"), qutip.qeye(levels))


def dicke_parity(model: DickeChargerModel, cutoff: int) -> qutip.Qobj:
    r"""Parity :math:`\Pi = (-1)^{m + k}` (diagonal) on ``dims [[N_B+1, K+1], ...]``."""
    check_dicke_model(model)
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
    check_dicke_model(model)
    k = model.n_battery if k is None else _checks.int_in_range("k", k, 0, 10**9)
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    cutoff = k if cutoff is None else _checks.int_in_range("cutoff", cutoff, k, 10**9)
    return qutip.tensor(
        qutip.basis(model.n_battery + 1, model.n_battery - m), qutip.basis(cutoff + 1, k)
    )
