r"""The inhomogeneous (multi-group) central spin battery, and its exact closed engine.

The spins are split into groups of equal field and coupling: battery groups
:math:`a = 1..G_B` of :math:`N_a` spins in fields :math:`B_a`, charger groups
:math:`b = 1..G_C` of :math:`N_b` spins in fields :math:`h_b`, with

.. math::

    H = \sum_a B_a S_a^z + \sum_b h_b J_b^z
        + \sum_{a,b} A_{ab}\,(S_a^+ J_b^- + S_a^- J_b^+)
        + 2\sum_{a,b} \Delta_{ab}\, S_a^z J_b^z ,

:math:`\mathbf S_a` (:math:`\mathbf J_b`) the collective spin of a battery (charger) group.
One group of each is the box model of :class:`~qutip_centralspin.CentralSpinModel`
(:func:`from_central_spin`).

Conventions
-----------
* :math:`\hbar = 1`; ``B``, ``h``, ``A``, ``delta`` share one energy unit, times its inverse.
* The space is the product of the groups' symmetric (Dicke) spaces, battery groups first, in
  the order given, then charger groups: ``dims = [N_1 + 1, ..., N'_1 + 1, ...]``.
* Each factor is in ``qutip.jmat`` order (index 0 is :math:`m_z = +N_g/2`); the Dicke label
  :math:`m_g` counts *flipped* (up) spins of the group, :math:`m_g = 0` is all down, and sits
  at index :math:`N_g - m_g` (:func:`~qutip_centralspin.models.operators.dicke_index`, as for one
  group).
* :math:`H_B = \sum_a B_a S_a^z`: with unequal fields the battery energy is not a function of
  the total battery excitation :math:`\sum_a m_a` alone.

The exact engine
----------------
:math:`K = \sum_a m_a + \sum_b n_b` is conserved; the sector :math:`K` is spanned by the
group labels with that sum (about :math:`K^{G-1}` of them for :math:`G` groups). Each
sector's :math:`H` is built from the labels with the ladder coefficients of
:func:`~qutip_centralspin.models.operators.ladder_up` /
:func:`~qutip_centralspin.models.operators.ladder_down`
and diagonalised densely (LAPACK ``syevd``) up to ``dense_limit`` levels (default 4000).
:class:`~qutip_centralspin.solvers.group_engine.GroupEngine` is a
:class:`~qutip_centralspin.solvers.sectors.SectorBasis`, so its dense evolutions are
:class:`~qutip_centralspin.solvers.sector.SectorEvolution` objects: energies, power, states
and the certified maxima of :mod:`qutip_centralspin.maxima.certified` work unchanged. Larger
sectors are built as sparse (CSR) matrices and propagated by a Chebyshev sweep
(:mod:`qutip_centralspin.solvers.group_sparse`): the same observables, to ~1e-12 relative to
:math:`|B|N_B`, and grid-estimated (never certified) maxima.

Thermal groups
--------------
Each group's :math:`\mathbf S_a^2` (:math:`\mathbf J_b^2`) is conserved, and :math:`H` acts
identically on the copies of a total spin :math:`j_g`. A group whose :math:`N_g` physical spins
start in the Gibbs state of its own field (:class:`Gibbs`) is the exact mixture over
:math:`j_g = N_g/2 - r` with the weights of :func:`~qutip_centralspin.models.thermal.log_ladder_weights`,
each ladder a group of :math:`2j_g` spins in its symmetric Gibbs state
(:mod:`qutip_centralspin.models.thermal`).
:func:`~qutip_centralspin.solvers.group_engine.mixture_evolution` runs one engine per combination
of ladders (:class:`~qutip_centralspin.solvers.mixture.WeightedEvolution`); a group at
:math:`j_g = 0` does not couple and is left out of its part.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import qutip

from .. import _checks
from ..resources import require
from .base import BatteryModel
from .spin import CentralSpinModel

__all__ = [
    "GroupModel",
    "from_central_spin",
    "group_operators",
    "hamiltonian",
    "battery_hamiltonian",
    "dicke_state",
    "Gibbs",
    "check_group_model",
    "group_labels",
    "has_gibbs",
]

#: Largest product-space dimension the engine indexes (int64 flat indices, with margin).
MAX_DIMENSION = 1 << 62


# -- the model --------------------------------------------------------------------------------
def _groups(name: str, value, field: str) -> tuple[tuple[int, float], ...]:
    """``value`` as a tuple of ``(N, field)`` pairs, ``N >= 1`` integer, the field finite."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) == 0:
        raise ValueError(
            f"{name} must be a non-empty sequence of (N, {field}) pairs, got {value!r}"
        )
    out = []
    for i, pair in enumerate(value):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"{name}[{i}] must be a pair (N, {field}), got {pair!r}")
        size = _checks.positive_int(f"{name}[{i}] size N", pair[0])
        out.append((size, _checks.finite_real(f"{name}[{i}] field {field}", pair[1])))
    return tuple(out)


def _coupling(name: str, value, shape: tuple[int, int]) -> np.ndarray:
    """A scalar (every pair) or a ``shape`` matrix of finite reals, as a read-only array."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        arr = np.full(shape, _checks.finite_real(name, value))
    else:
        try:
            arr = np.array(value, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a finite real number or a {shape[0]} x {shape[1]} matrix "
                f"(battery groups x charger groups) of them, got {value!r}"
            ) from None
        if arr.ndim == 0:  # a 0-d array is a scalar
            arr = np.full(shape, float(arr))
        if arr.shape != shape:
            raise ValueError(
                f"{name} must be a finite real number or a {shape[0]} x {shape[1]} matrix "
                f"(battery groups x charger groups) of them, got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must have finite real entries, got {value!r}")
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class GroupModel(BatteryModel):
    r"""Central spin battery with several battery and charger groups (inhomogeneous fields and
    couplings).

    .. math::

        H = \sum_a B_a S_a^z + \sum_b h_b J_b^z + \sum_{a,b} A_{ab}(S_a^+J_b^- + S_a^-J_b^+)
            + 2\sum_{a,b}\Delta_{ab}S_a^zJ_b^z

    Parameters
    ----------
    battery : sequence of (int, float)
        ``[(N_1, B_1), ...]``: battery groups, :math:`N_a \ge 1` spins in the field :math:`B_a`.
    charger : sequence of (int, float)
        ``[(N_1, h_1), ...]``: charger groups, :math:`N_b \ge 1` spins in the field :math:`h_b`.
    A : float or array_like, default 1
        Flip-flop couplings :math:`A_{ab}`: a scalar for every pair, or a ``G_B x G_C`` matrix
        (any finite reals: zero and negative allowed). Stored as a read-only matrix.
    delta : float or array_like, default 0
        Ising couplings :math:`\Delta_{ab}`, as ``A``.

    Notes
    -----
    :math:`\hbar = 1`; energies share one unit, times its inverse. The space is the product of
    the groups' Dicke spaces, battery groups first (:attr:`dims`); see the module notes for the
    Dicke-label convention. Immutable and compared by identity (it holds arrays).

    Examples
    --------
    >>> from qutip_centralspin.models.groups import GroupModel
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(3, 1.0), (4, 0.5)], A=[[1.0, -0.3]])
    >>> model.dims, model.n_battery, model.n_charger
    ([[3, 4, 5], [3, 4, 5]], 2, 7)
    >>> model.A
    array([[ 1. , -0.3]])
    """

    kind: ClassVar[str] = "groups"
    energy_unit: ClassVar[str] = "A"
    #: The open block solver works on one battery and one charger ladder.
    open_refusal: ClassVar[str] = (
        "processes and coupling protocols are not supported for a GroupModel: the exact "
        "open block solver works on one battery and one charger (j, m) ladder, not on a "
        "product over groups. Supported: closed charging of groups, or open charging of "
        "CentralSpinModel (one group each)"
    )

    battery: tuple[tuple[int, float], ...]
    charger: tuple[tuple[int, float], ...]
    A: np.ndarray | float = 1.0
    delta: np.ndarray | float = 0.0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "battery", _groups("battery", self.battery, "B"))
        set_(self, "charger", _groups("charger", self.charger, "h"))
        shape = (len(self.battery), len(self.charger))
        set_(self, "A", _coupling("A", self.A, shape))
        set_(self, "delta", _coupling("delta", self.delta, shape))

    # -- sizes and fields -------------------------------------------------------------------
    @property
    def battery_sizes(self) -> tuple[int, ...]:
        """:math:`(N_1, \\dots, N_{G_B})`."""
        return tuple(n for n, _ in self.battery)

    @property
    def charger_sizes(self) -> tuple[int, ...]:
        """:math:`(N_1, \\dots, N_{G_C})` of the charger groups."""
        return tuple(n for n, _ in self.charger)

    @property
    def battery_fields(self) -> np.ndarray:
        """:math:`(B_1, \\dots, B_{G_B})`."""
        return np.array([b for _, b in self.battery])

    @property
    def charger_fields(self) -> np.ndarray:
        """:math:`(h_1, \\dots, h_{G_C})`."""
        return np.array([h for _, h in self.charger])

    @property
    def n_battery(self) -> int:
        """Total number of battery spins :math:`\\sum_a N_a`."""
        return sum(self.battery_sizes)

    @property
    def n_charger(self) -> int:
        """Total number of charger spins :math:`\\sum_b N_b`."""
        return sum(self.charger_sizes)

    @property
    def dims(self) -> list[list[int]]:
        """QuTiP operator dims: one factor :math:`N_g + 1` per group, battery groups first."""
        shape = [n + 1 for n in self.battery_sizes + self.charger_sizes]
        return [shape, list(shape)]

    @property
    def ket_dims(self) -> list[list[int]]:
        """QuTiP 5 ket dims ``[[N_1 + 1, ...], [1]]``."""
        return [self.dims[0], [1]]

    @property
    def shape(self) -> int:
        """Dimension :math:`\\prod_g (N_g + 1)` of the product of the groups' Dicke spaces."""
        return math.prod(self.dims[0])

    def replace(self, **changes) -> GroupModel:
        """Return a copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    # -- the model interface (qutip_centralspin.models.base) -----------------------------------
    @property
    def battery_field(self) -> float:
        """The common field of the battery groups.

        Raises
        ------
        ValueError
            If the battery groups have different fields: :math:`H_B = \\sum_a B_a S_a^z` is
            then not :math:`BS^z`, and what needs one field (the ergotropy of the package,
            whose levels are those of :math:`BS^z`) does not apply.
        """
        fields = self.battery_fields
        if not np.all(fields == fields[0]):
            raise ValueError(
                f"battery_field: the battery groups have different fields B_a = "
                f"{fields.tolist()}; H_B = sum_a B_a S_a^z is not B S^z (the ergotropy of a "
                "multi-group battery is not supported)"
            )
        return float(fields[0])

    @property
    def battery_spread(self) -> float:
        r""":math:`\sum_a |B_a| N_a`, the spread of :math:`H_B`'s spectrum."""
        return float(np.abs(self.battery_fields) @ np.array(self.battery_sizes))

    def battery_operator(self, dims: list[int]) -> qutip.Qobj:
        """:math:`H_B = \\sum_a B_a S_a^z` on the full product space."""
        if list(dims) != self.dims[0]:
            raise ValueError(
                f"the battery energy of a GroupModel needs a full-space state of dims "
                f"{self.dims[0]}, got {dims}"
            )
        return battery_hamiltonian(self)

    def parameters(self) -> dict:
        """Every parameter (and ``"charger": "groups"``), e.g. for JSON."""
        return {
            "charger": self.kind,
            "n_battery": self.n_battery,
            "n_charger": self.n_charger,
            "battery_groups": [list(g) for g in self.battery],
            "charger_groups": [list(g) for g in self.charger],
            "A": self.A.tolist(),
            "delta": self.delta.tolist(),
        }

    def symbols(self) -> dict[str, str]:
        r""":math:`N_B`, :math:`N` and the numbers of groups for figure titles."""
        return {
            "N_B": f"{self.n_battery}",
            "N": f"{self.n_charger}",
            "G": f"{len(self.battery)}+{len(self.charger)}",
        }

    def label_state(self, m, c) -> qutip.Qobj:
        """:func:`dicke_state`: ``m`` and ``c`` one excitation label per group."""
        return dicke_state(self, m, c)

    def as_state(self, state, name: str = "psi0"):
        """A ``Qobj``, ``(m, n)`` labels (one per group, :class:`Gibbs` allowed) or a
        ``{(m, n): amplitude}`` superposition."""
        if isinstance(state, tuple) and len(state) == 2 and not has_gibbs(state):
            return group_labels(self, *state)
        if isinstance(state, tuple | dict):
            return state
        if isinstance(state, qutip.Qobj) and (state.isket or state.isoper):
            return state
        raise TypeError(
            f"{name} must be a ket or density-matrix Qobj or (m, n) labels (one per group), "
            f"got {type(state).__name__}"
        )

    def empty_charger(self):
        """The charger groups' ground state: :math:`n_b = 0` where :math:`h_b \\ge 0`."""
        return tuple(0 if h >= 0 else n for n, h in self.charger)

    def hamiltonian(self, charger_levels: int | None = None) -> qutip.Qobj:
        """:math:`H` on the product space (``charger_levels`` must be ``None``)."""
        if charger_levels is not None:
            raise ValueError(
                f"charger_levels of a GroupModel must be None, got {charger_levels!r}"
            )
        return hamiltonian(self)

    def is_full_space(self, dims: list[int]) -> bool:
        """Whether ``dims`` are the product space's."""
        return list(dims) == self.dims[0]

    def hamiltonian_on(self, dims: list[int]) -> qutip.Qobj:
        """:meth:`hamiltonian` (the product space has one size)."""
        return self.hamiltonian()

    def charger_operators(self, dims: list[int]) -> dict[str, qutip.Qobj]:
        r""":math:`E_C = \sum_b h_b J_b^z` and the flipped charger spins."""
        if list(dims) != self.dims[0]:
            raise ValueError(
                f"charger observables need a full-space state of dims {self.dims[0]}, got {dims}"
            )
        ops = group_operators(self)[len(self.battery) :]
        e_c = sum(h * z for (_, h), (z, _, _) in zip(self.charger, ops, strict=True))
        n_c = sum(z + n / 2 for (n, _), (z, _, _) in zip(self.charger, ops, strict=True))
        return {"E_C": e_c, "n_C": n_c}


def from_central_spin(model: CentralSpinModel) -> GroupModel:
    """The one-group :class:`GroupModel` of a :class:`~qutip_centralspin.CentralSpinModel`.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.models.groups import from_central_spin
    >>> from_central_spin(CentralSpinModel(2, 5, B=1.5)).battery
    ((2, 1.5),)
    """
    if not isinstance(model, CentralSpinModel):
        raise TypeError(f"model must be a CentralSpinModel, got {type(model).__name__}")
    return GroupModel(
        battery=[(model.n_battery, model.B)],
        charger=[(model.n_charger, model.h)],
        A=model.A,
        delta=model.delta,
    )


def check_group_model(model) -> GroupModel:
    if not isinstance(model, GroupModel):
        raise TypeError(f"model must be a GroupModel, got {type(model).__name__}")
    return model


# -- operators and states (the full product space: references and small sizes) --------------
def group_operators(model: GroupModel) -> list[tuple[qutip.Qobj, qutip.Qobj, qutip.Qobj]]:
    r"""``(z, +, -)`` of every group's collective spin on the product space, battery groups
    first (from ``qutip.jmat`` and ``qutip.tensor``).

    Examples
    --------
    >>> from qutip_centralspin.models.groups import GroupModel, group_operators
    >>> ops = group_operators(GroupModel(battery=[(1, 1.0)], charger=[(2, 1.0)]))
    >>> len(ops), ops[1][0].dims
    (2, [[2, 3], [2, 3]])
    """
    check_group_model(model)
    dims = model.dims[0]
    require(60.0 * model.shape * 2 * len(dims), f"the operators of {len(dims)} groups")
    eyes = [qutip.qeye(d) for d in dims]
    out = []
    for g, d in enumerate(dims):
        triple = []
        for kind in ("z", "+", "-"):
            factors = list(eyes)
            factors[g] = qutip.jmat((d - 1) / 2, kind)
            triple.append(qutip.tensor(factors))
        out.append(tuple(triple))
    return out


def battery_hamiltonian(model: GroupModel) -> qutip.Qobj:
    r""":math:`H_B = \sum_a B_a S_a^z` on the product space.

    Examples
    --------
    >>> from qutip_centralspin.models.groups import GroupModel, battery_hamiltonian
    >>> H_B = battery_hamiltonian(GroupModel(battery=[(1, 2.0)], charger=[(1, 1.0)]))
    >>> H_B.diag().tolist()
    [1.0, 1.0, -1.0, -1.0]
    """
    ops = group_operators(model)
    out = 0 * ops[0][0]
    for (sz, _, _), (_, field) in zip(ops[: len(model.battery)], model.battery, strict=True):
        out = out + field * sz
    return out


def hamiltonian(model: GroupModel) -> qutip.Qobj:
    r"""The total :math:`H` of the model (see :class:`GroupModel`) on the product space.

    Examples
    --------
    >>> from qutip_centralspin.models.groups import GroupModel, hamiltonian
    >>> H = hamiltonian(GroupModel(battery=[(1, 1.0)], charger=[(2, 1.0), (1, 0.5)], A=0.3))
    >>> H.dims, H.isherm
    ([[2, 3, 2], [2, 3, 2]], True)
    """
    ops = group_operators(model)
    nb = len(model.battery)
    battery, charger = ops[:nb], ops[nb:]
    H = battery_hamiltonian(model)
    for (jz, _, _), (_, field) in zip(charger, model.charger, strict=True):
        H = H + field * jz
    for a, (sz, sp, sm) in enumerate(battery):
        for b, (jz, jp, jm) in enumerate(charger):
            H = H + model.A[a, b] * (sp * jm + sm * jp) + 2 * model.delta[a, b] * sz * jz
    H.isherm = True
    return H


@dataclass(frozen=True)
class Gibbs:
    r"""A group's :math:`N_g` physical spins in the Gibbs state of its own field, as a label.

    :math:`\rho_g = e^{-F_g S_g^z/T}/Z` on the :math:`2^{N_g}` spins (:math:`F_g = B_a` for a
    battery group, :math:`h_b` for a charger group; :math:`k_B = 1`, :math:`T` in energy
    units): every total spin :math:`j_g \le N_g/2` is populated (module notes). Use it in
    place of a Dicke label, e.g. ``((0,), (Gibbs(2.0), 10))``.

    Parameters
    ----------
    T : float
        Temperature :math:`T > 0`.
    """

    T: float

    def __post_init__(self):
        object.__setattr__(self, "T", _checks.positive_real("T", self.T))


def group_labels(
    model: GroupModel, m, n, *, gibbs: bool = False
) -> tuple[tuple[int | Gibbs, ...], tuple[int | Gibbs, ...]]:
    """``(m, n)`` checked: one excitation per battery group, one per charger group (or, with
    ``gibbs``, a :class:`Gibbs` label)."""
    out = []
    for name, value, sizes in (("m", m, model.battery_sizes), ("n", n, model.charger_sizes)):
        if isinstance(value, (numbers.Integral, Gibbs)) and len(sizes) == 1:
            value = (value,)
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise ValueError(
                f"{name} must be a sequence of {len(sizes)} excitation numbers, got {value!r}"
            )
        if len(value) != len(sizes):
            raise ValueError(
                f"{name} must have one excitation number per group ({len(sizes)}), got {value!r}"
            )
        out.append(
            tuple(
                v
                if gibbs and isinstance(v, Gibbs)
                else _checks.int_in_range(f"{name}[{g}]", v, 0, size)
                for g, (v, size) in enumerate(zip(value, sizes, strict=True))
            )
        )
    return out[0], out[1]


def has_gibbs(state) -> bool:
    """Whether ``state`` is ``(m, n)`` labels with a :class:`Gibbs` group."""
    if not (isinstance(state, tuple) and len(state) == 2):
        return False
    return any(
        isinstance(v, Gibbs)
        for part in state
        for v in (part if isinstance(part, Sequence) else (part,))
    )


def dicke_state(model: GroupModel, m, n, *, dm: bool = False) -> qutip.Qobj:
    r"""The product of the groups' Dicke states :math:`|m_1, \dots; n_1, \dots\rangle`.

    Parameters
    ----------
    model : GroupModel
    m : sequence of int
        Flipped spins of each battery group, :math:`0 \le m_a \le N_a` (``0``: empty).
    n : sequence of int
        Flipped spins of each charger group, :math:`0 \le n_b \le N_b` (``N_b``: full).
    dm : bool, default False
        Return the density matrix instead of the ket.

    Examples
    --------
    >>> from qutip_centralspin.models.groups import GroupModel, dicke_state
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(3, 1.0), (3, 2.0)])
    >>> psi0 = dicke_state(model, m=(0,), n=(3, 3))    # empty battery, full chargers
    >>> psi0.dims, int(psi0.full().argmax())            # |m> at index N - m of each factor
    ([[3, 4, 4], [1]], 32)
    """
    check_group_model(model)
    m, n = group_labels(model, m, n)
    sizes = model.battery_sizes + model.charger_sizes
    ket = qutip.tensor(
        [
            qutip.basis(size + 1, size - x, dtype="dia")
            for size, x in zip(sizes, m + n, strict=True)
        ]
    )
    return ket.proj() if dm else ket
