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
  at index :math:`N_g - m_g` (:func:`~qutip_centralspin.operators.dicke_index`, as for one
  group).
* :math:`H_B = \sum_a B_a S_a^z`: with unequal fields the battery energy is not a function of
  the total battery excitation :math:`\sum_a m_a` alone.

The exact engine
----------------
:math:`K = \sum_a m_a + \sum_b n_b` is conserved; the sector :math:`K` is spanned by the
group labels with that sum (about :math:`K^{G-1}` of them for :math:`G` groups). Each
sector's :math:`H` is built from the labels with the ladder coefficients of
:func:`~qutip_centralspin.operators.ladder_up` / :func:`~qutip_centralspin.operators.ladder_down`
and diagonalised densely (LAPACK ``syevd``). :class:`GroupEngine` is a
:class:`~qutip_centralspin.solvers.sectors.SectorBasis`, so its evolutions are
:class:`~qutip_centralspin.solvers.sector.SectorEvolution` objects: energies, power, states
and the certified maxima of :mod:`qutip_centralspin.maxima` work unchanged.

Thermal groups
--------------
Each group's :math:`\mathbf S_a^2` (:math:`\mathbf J_b^2`) is conserved, and :math:`H` acts
identically on the copies of a total spin :math:`j_g`. A group whose :math:`N_g` physical spins
start in the Gibbs state of its own field (:class:`Gibbs`) is the exact mixture over
:math:`j_g = N_g/2 - r` with the weights of :func:`~qutip_centralspin.thermal.log_ladder_weights`,
each ladder a group of :math:`2j_g` spins in its symmetric Gibbs state
(:mod:`qutip_centralspin.thermal`). :func:`mixture_evolution` runs one engine per combination
of ladders (:class:`~qutip_centralspin.solvers.mixture.WeightedEvolution`); a group at
:math:`j_g = 0` does not couple and is left out of its part.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import qutip

from . import _checks
from .expectation import normalize_e_ops
from .model import CentralSpinModel
from .models.base import BatteryModel
from .operators import ladder_down, ladder_up
from .resources import require
from .results import ChargingResult
from .solvers.exact import OPTIONS, exact_result
from .solvers.mixture import WeightedEvolution
from .solvers.sector import SectorEvolution
from .solvers.sectors import Sector, SectorBasis
from .statedata import ket_entries, operator_entries
from .states import validate_state
from .thermal import log_ladder_weights, thermal_populations

__all__ = [
    "GroupModel",
    "from_central_spin",
    "group_operators",
    "hamiltonian",
    "battery_hamiltonian",
    "dicke_state",
    "GroupEngine",
    "GroupEvolution",
    "Gibbs",
    "mixture_evolution",
    "charge_groups",
]

_FLOAT = 8
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
    >>> from qutip_centralspin.groups import GroupModel
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(3, 1.0), (4, 0.5)], A=[[1.0, -0.3]])
    >>> model.dims, model.n_battery, model.n_charger
    ([[3, 4, 5], [3, 4, 5]], 2, 7)
    >>> model.A
    array([[ 1. , -0.3]])
    """

    kind: ClassVar[str] = "groups"
    energy_unit: ClassVar[str] = "A"

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
            "battery": [list(g) for g in self.battery],
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
        if isinstance(state, tuple) and len(state) == 2 and not _has_gibbs(state):
            return _labels(self, *state)
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

    def closed_evolution(self, state, *, times=None):
        """The group engine's evolution (one engine per ladder with Gibbs groups)."""
        return _evolution(self, state), {"method": "group-sector diagonalisation (LAPACK syevd)"}

    def open_solver(self, processes):
        """Refused: the open block solver is built for one battery and one charger ladder.

        Raises
        ------
        ValueError
            Always (a product of (j_g, m_g) ladders over groups is not implemented).
        """
        raise ValueError(
            "processes and coupling protocols are not supported for a GroupModel: the exact "
            "open block solver works on one battery and one charger (j, m) ladder, not on a "
            "product over groups. Supported: closed charging of groups, or open charging of "
            "CentralSpinModel (one group each)"
        )


def from_central_spin(model: CentralSpinModel) -> GroupModel:
    """The one-group :class:`GroupModel` of a :class:`~qutip_centralspin.CentralSpinModel`.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.groups import from_central_spin
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


def _check_model(model) -> GroupModel:
    if not isinstance(model, GroupModel):
        raise TypeError(f"model must be a GroupModel, got {type(model).__name__}")
    return model


# -- operators and states (the full product space: references and small sizes) --------------
def group_operators(model: GroupModel) -> list[tuple[qutip.Qobj, qutip.Qobj, qutip.Qobj]]:
    r"""``(z, +, -)`` of every group's collective spin on the product space, battery groups
    first (from ``qutip.jmat`` and ``qutip.tensor``).

    Examples
    --------
    >>> from qutip_centralspin.groups import GroupModel, group_operators
    >>> ops = group_operators(GroupModel(battery=[(1, 1.0)], charger=[(2, 1.0)]))
    >>> len(ops), ops[1][0].dims
    (2, [[2, 3], [2, 3]])
    """
    _check_model(model)
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
    >>> from qutip_centralspin.groups import GroupModel, battery_hamiltonian
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
    >>> from qutip_centralspin.groups import GroupModel, hamiltonian
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


def _labels(
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


def _has_gibbs(state) -> bool:
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
    >>> from qutip_centralspin.groups import GroupModel, dicke_state
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(3, 1.0), (3, 2.0)])
    >>> psi0 = dicke_state(model, m=(0,), n=(3, 3))    # empty battery, full chargers
    >>> psi0.dims, int(psi0.full().argmax())            # |m> at index N - m of each factor
    ([[3, 4, 4], [1]], 32)
    """
    _check_model(model)
    m, n = _labels(model, m, n)
    sizes = model.battery_sizes + model.charger_sizes
    ket = qutip.tensor(
        [
            qutip.basis(size + 1, size - x, dtype="dia")
            for size, x in zip(sizes, m + n, strict=True)
        ]
    )
    return ket.proj() if dm else ket


# -- the exact engine ---------------------------------------------------------------------------
def _compositions(k: int, caps: np.ndarray) -> np.ndarray:
    """Every integer vector ``x`` with ``0 <= x_g <= caps_g`` and ``sum(x) = k`` (rows)."""
    after = np.concatenate([np.cumsum(caps[::-1])[::-1][1:], [0]])  # room in later groups
    rows = np.zeros((1, 0), dtype=np.int64)
    left = np.array([k], dtype=np.int64)
    for g, cap in enumerate(caps):
        low = np.maximum(0, left - after[g])
        high = np.minimum(cap, left)
        counts = np.maximum(high - low + 1, 0)
        parent = np.repeat(np.arange(left.size), counts)
        offset = np.arange(parent.size) - np.repeat(np.cumsum(counts) - counts, counts)
        value = low[parent] + offset
        rows = np.column_stack([rows[parent], value])
        left = left[parent] - value
    return rows


class GroupEngine(SectorBasis):
    r"""Exact diagonalisation of the multi-group :math:`H` per excitation sector (closed).

    A :class:`~qutip_centralspin.solvers.sectors.SectorBasis`: sector :math:`K` is spanned by
    the group labels :math:`(m_1, \dots, n_1, \dots)` with :math:`\sum = K`, ordered by their
    index in the QuTiP vector. Its :math:`H` is dense and real symmetric,

    .. math::

        H_{xx} = \sum_a B_a s_a + \sum_b h_b u_b + 2\sum_{ab}\Delta_{ab}s_a u_b, \quad
        H_{x + e_a - e_b,\,x} = A_{ab}\sqrt{(j_a - s_a)(j_a + s_a + 1)}
                                       \sqrt{(j_b + u_b)(j_b - u_b + 1)},

    with :math:`s_a = m_a - N_a/2`, :math:`u_b = n_b - N_b/2`, :math:`j_g = N_g/2`; it is
    diagonalised once (LAPACK ``syevd``) and cached on the instance.

    Parameters
    ----------
    model : GroupModel

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.groups import GroupEngine, GroupModel
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(10, 1.0), (10, 1.0)], A=1.0)
    >>> evo = GroupEngine(model).evolve(((0,), (10, 10)))
    >>> evo.sector_weights
    {20: 1.0}
    """

    def __init__(self, model: GroupModel):
        super().__init__(_check_model(model))
        if model.shape >= MAX_DIMENSION:
            raise ValueError(
                f"the product space of the groups must have fewer than 2**62 dimensions, got "
                f"{model.shape:.3g}; use fewer groups"
            )
        self.sizes = np.array(model.battery_sizes + model.charger_sizes, dtype=np.int64)
        dims = self.sizes + 1
        self.strides = np.cumprod(np.concatenate([[1], dims[::-1][:-1]]))[::-1].astype(np.int64)
        self.n_battery_groups = len(model.battery)
        self._tables: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    # -- the QuTiP vector ---------------------------------------------------------------------
    @property
    def shape(self) -> int:
        """Dimension of the product space."""
        return self.model.shape

    def group_labels(self, index) -> np.ndarray:
        """Group labels ``(m_1, ..., n_1, ...)`` (rows) of the QuTiP vector indices ``index``."""
        index = np.asarray(index, dtype=np.int64)
        return self.sizes - (index[..., None] // self.strides) % (self.sizes + 1)

    def label_index(self, labels) -> np.ndarray:
        """QuTiP vector index of group labels ``(m_1, ..., n_1, ...)`` (rows)."""
        return (self.sizes - np.asarray(labels, dtype=np.int64)) @ self.strides

    def labels_of(self, index) -> tuple[np.ndarray, np.ndarray]:
        """``(m, n)``: battery-group and charger-group labels (rows) of ``index``."""
        labels = self.group_labels(index)
        return labels[..., : self.n_battery_groups], labels[..., self.n_battery_groups :]

    def full_index(self, m, c):
        """QuTiP vector index of the battery labels ``m`` and charger labels ``c`` (rows)."""
        return self.label_index(np.concatenate([np.asarray(m), np.asarray(c)], axis=-1))

    def excitations_of(self, index) -> np.ndarray:
        """Excitation number :math:`K = \\sum_a m_a + \\sum_b n_b` of the indices ``index``."""
        return self.group_labels(index).sum(axis=-1)

    @functools.cached_property
    def excitations(self) -> np.ndarray:
        """:math:`K` of every index of the QuTiP vector (a full-space array)."""
        return self.excitations_of(np.arange(self.shape))

    # -- sectors --------------------------------------------------------------------------
    def sector_labels(self, k: int) -> np.ndarray:
        """Group labels (rows) of sector ``k``, ordered by their QuTiP vector index."""
        total = int(self.sizes.sum())
        k = _checks.int_in_range("k", k, 0, total)
        labels = _compositions(k, self.sizes)
        return labels[np.argsort(self.label_index(labels), kind="stable")]

    def sector_hamiltonian(self, k: int) -> np.ndarray:
        """The dense real symmetric :math:`H` of sector ``k`` (basis of :meth:`sector_labels`)."""
        labels = self.sector_labels(k)
        return self._hamiltonian(labels, self.label_index(labels))

    def _hamiltonian(self, labels: np.ndarray, index: np.ndarray) -> np.ndarray:
        mod, nb = self.model, self.n_battery_groups
        size = index.size
        require(3.0 * _FLOAT * size * size, f"the dense sector of size {size}")
        half = self.sizes / 2
        mz = labels - half  # s_a and u_b
        s, u = mz[:, :nb], mz[:, nb:]
        diag = (
            s @ mod.battery_fields
            + u @ mod.charger_fields
            + 2 * np.einsum("ia,ab,ib->i", s, mod.delta, u)
        )
        h = np.diag(diag)
        for a in range(nb):
            up = ladder_up(half[a], s[:, a])
            for b in range(len(mod.charger)):
                if mod.A[a, b] == 0:
                    continue
                amp = mod.A[a, b] * up * ladder_down(half[nb + b], u[:, b])
                src = np.flatnonzero(amp)
                dst = np.searchsorted(index, index[src] - self.strides[a] + self.strides[nb + b])
                h[dst, src] = amp[src]
                h[src, dst] = amp[src]
        return h

    def sector(self, k: int) -> Sector:
        """The (cached) sector with ``k`` excitations, diagonalised."""
        k = int(k)
        if k not in self._sectors:
            labels = self.sector_labels(k)
            index = self.label_index(labels)
            with np.errstate(over="ignore", invalid="ignore"):
                h = self._hamiltonian(labels, index)
            if not np.all(np.isfinite(h)):
                raise ValueError(
                    f"the Hamiltonian of sector K={k} overflows double precision: the model's "
                    "energies are too large; rescale B, h, A, delta (and times inversely)"
                )
            energies, vectors = np.linalg.eigh(h)
            nb = self.n_battery_groups
            z = (labels[:, :nb] - self.sizes[:nb] / 2) @ self.model.battery_fields
            self._tables[k] = (labels, index, z)
            self._sectors[k] = Sector(
                k,
                labels[:, :nb].sum(axis=1),
                labels[:, nb:].sum(axis=1),
                np.diagonal(h).copy(),
                np.empty(0),  # not tridiagonal
                energies,
                vectors,
            )
        return self._sectors[k]

    def sector_indices(self, sector: Sector) -> np.ndarray:
        """QuTiP vector indices of the sector's basis (ascending)."""
        return self._tables[sector.k][1]

    def positions(self, sector: Sector, index) -> np.ndarray:
        """Positions in the sector's basis of the QuTiP vector indices ``index``."""
        return np.searchsorted(self._tables[sector.k][1], np.asarray(index, dtype=np.int64))

    def battery_energies(self, sector: Sector) -> np.ndarray:
        r""":math:`\sum_a B_a(m_a - N_a/2)` on the sector's basis."""
        return self._tables[sector.k][2]

    # -- states ---------------------------------------------------------------------------
    def evolve(self, state) -> GroupEvolution:
        r"""Prepare the exact evolution of ``state``.

        Parameters
        ----------
        state : Qobj, tuple or dict
            * a ket or density matrix ``Qobj`` on the model's :attr:`~GroupModel.dims`, read
              from its nonzero entries;
            * ``(m, n)``: the product Dicke state, ``m`` and ``n`` one label per group;
            * ``{(m, n): amplitude, ...}``: a superposition (normalised here).
        """
        if _has_gibbs(state):
            raise ValueError(
                "engine must be None for a state with Gibbs groups (one engine per ladder, "
                "mixture_evolution)"
            )
        if isinstance(state, tuple):
            state = {state: 1.0}
        if isinstance(state, dict):
            return GroupEvolution(self, None, is_ket=True, blocks=self._label_blocks(state))
        state = _check_state(self.model, state)
        if state.isket:
            blocks = self.ket_blocks(*ket_entries(state))
            return GroupEvolution(self, None, is_ket=True, blocks=blocks, source=state)
        entries = self.operator_support(*operator_entries(state))
        return GroupEvolution(
            self,
            None,
            is_ket=False,
            blocks=self.dm_blocks(*entries),
            dm_entries=entries,
            source=state,
        )

    def evolve_mixture(self, populations: dict) -> GroupEvolution:
        r"""The exact evolution of :math:`\rho = \sum p_{mn}|m, n\rangle\langle m, n|`.

        Parameters
        ----------
        populations : dict
            ``{(m, n): p}`` with group labels ``m``, ``n`` and ``p >= 0``, not all zero
            (normalised here).
        """
        weights = {}
        for key, p in populations.items():
            if not (isinstance(p, numbers.Real) and math.isfinite(p) and p >= 0):
                raise ValueError(f"populations must be finite reals >= 0, got {key!r}: {p!r}")
            if p > 0:
                weights[key] = float(p)
        total = math.fsum(weights.values())
        if not total > 0:
            raise ValueError("populations must not all be zero")
        columns: dict[int, list] = {}
        for key, p in weights.items():
            ((k, column),) = self._label_blocks({key: 1.0}).items()
            columns.setdefault(k, []).append(column * math.sqrt(p / total))
        blocks = {k: np.hstack(cols) for k, cols in columns.items()}
        return GroupEvolution(self, None, is_ket=False, blocks=blocks)

    def _label_blocks(self, amplitudes: dict) -> dict[int, np.ndarray]:
        """Normalised sector blocks of ``{(m, n): amplitude}``."""
        norm = math.sqrt(sum(abs(a) ** 2 for a in amplitudes.values()))
        if norm == 0:
            raise ValueError("the superposition has zero norm")
        real = all(isinstance(a, numbers.Real) for a in amplitudes.values())
        blocks: dict[int, np.ndarray] = {}
        for key, amp in amplitudes.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ValueError(f"group labels must be (m, n) pairs of tuples, got {key!r}")
            m, n = _labels(self.model, *key)
            sec = self.sector(sum(m) + sum(n))
            block = blocks.get(sec.k)
            if block is None:
                block = blocks[sec.k] = np.zeros((sec.size, 1), dtype=float if real else complex)
            block[self.positions(sec, self.label_index(m + n)), 0] = amp / norm
        return blocks


def _check_state(model: GroupModel, state) -> qutip.Qobj:
    """A ket or density matrix on the model's dims, physical (else TypeError / ValueError)."""
    if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
        raise TypeError(
            f"state must be a ket or density-matrix Qobj, (m, n) group labels or a dict of "
            f"them, got {type(state).__name__}"
        )
    expected = model.dims[0]
    if state.dims[0] != expected or (state.isoper and state.dims[1] != expected):
        raise ValueError(
            f"state has dims {state.dims}, expected {model.ket_dims if state.isket else model.dims}"
        )
    return validate_state(state, "state")


class GroupEvolution(SectorEvolution):
    r"""Exact closed evolution of one initial state of a :class:`GroupModel`.

    A :class:`~qutip_centralspin.solvers.sector.SectorEvolution` on a :class:`GroupEngine`:
    ``battery_energy(t)`` (:math:`E_B = \sum_a B_a\langle S_a^z\rangle`), ``delta_energy``,
    ``power`` (:math:`\Delta E_B(t)/t`), ``states`` and the certification data of
    :mod:`qutip_centralspin.maxima` behave as for one group. Times are *elapsed* times
    :math:`t \ge 0` from the initial state (:func:`charge_groups` maps ``tlist`` to them with
    the origin ``tlist[0]``).

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.groups import GroupEngine, GroupModel
    >>> model = GroupModel(battery=[(1, 1.0), (1, 2.0)], charger=[(4, 1.0)], A=[[1.0], [0.5]])
    >>> evo = GroupEngine(model).evolve(((0, 0), (4,)))
    >>> float(evo.initial_energy)
    -1.5
    >>> bool(evo.delta_energy(np.array([0.3]))[0] > 0)
    True
    """

    def reduced_battery_matrices(self, t) -> np.ndarray:
        r""":math:`\rho_B(t) = \mathrm{tr}_C\,\rho(t)` on the battery groups, shape
        ``(len(t), D_B, D_B)`` with :math:`D_B = \prod_a (N_a + 1)` (``jmat`` order per group).

        Every column of the state (a ket; the factor of a density matrix) is evolved sector by
        sector and traced over the charger groups.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        d_b = math.prod(self.model.dims[0][: len(self.model.battery)])
        out = np.zeros((t.size, d_b, d_b), dtype=complex)
        if self.is_ket:
            columns = [[(comp[0], comp[1][:, 0]) for comp in self._components]]
        else:
            columns = self._dm_columns()
            if columns is None:  # no coherences between sectors: each column in its sector
                columns = [[(comp[0], col)] for comp in self._components for col in comp[1].T]
        dim = self.engine.shape
        chunk = max(1, int(4_000_000 // max(dim, 1)))
        for start in range(0, t.size, chunk):
            tt = t[start : start + chunk]
            for column in columns:
                psi = np.zeros((tt.size, dim), dtype=complex)
                for sec, c0 in column:
                    phases = np.exp(-1j * np.outer(tt, sec.energies))
                    psi[:, self.engine.sector_indices(sec)] = (
                        phases * c0[None, :]
                    ) @ sec.vectors.T
                mat = psi.reshape(tt.size, d_b, dim // d_b)
                out[start : start + chunk] += mat @ mat.conj().transpose(0, 2, 1)
        return out

    def reduced_battery_state(self, t):
        r""":math:`\rho_B(t)` as ``Qobj`` on the battery groups' dims; a list for an array ``t``."""
        dims = self.model.dims[0][: len(self.model.battery)]
        states = [qutip.Qobj(r, dims=[dims, dims]) for r in self.reduced_battery_matrices(t)]
        return states[0] if np.ndim(t) == 0 else states


def _ladders(size: int, field: float, label) -> list[tuple[float, int, np.ndarray]]:
    """``(weight, 2j, populations over n' = 0..2j)`` of one group's state."""
    if not isinstance(label, Gibbs):
        populations = np.zeros(size + 1)
        populations[label] = 1.0
        return [(1.0, size, populations)]
    out = []
    for r, log_w in enumerate(log_ladder_weights(size, field / label.T).tolist()):
        weight = math.exp(log_w)
        if weight == 0.0:  # below the double range
            continue
        spins = size - 2 * r
        populations = thermal_populations(spins, field, label.T) if spins else np.ones(1)
        out.append((weight, spins, populations))
    return out


def mixture_evolution(model: GroupModel, m, n) -> WeightedEvolution:
    r"""The exact evolution of a product state with :class:`Gibbs` groups (module notes).

    :math:`\rho = \bigotimes_g \rho_g`, each :math:`\rho_g` a Dicke state
    :math:`|m_g\rangle` (an ``int`` label) or the Gibbs state of its physical spins
    (:class:`Gibbs`). Part :math:`r` (one total spin per Gibbs group) is the
    :class:`GroupModel` with those groups resized to :math:`2j_g` spins, each in its symmetric
    Gibbs state; :math:`E_B(t) = \sum_r w_r E_B^{(r)}(t)`. Parts whose battery or charger groups
    all have :math:`j_g = 0` do not evolve and enter as a constant energy. Ladders whose weight
    underflows (below ~1e-308) are left out.

    Parameters
    ----------
    model : GroupModel
    m, n : sequence of int or Gibbs
        One label per battery group and per charger group.

    Returns
    -------
    WeightedEvolution
        ``battery_energy``, ``delta_energy``, ``power`` and the certification data of
        :mod:`qutip_centralspin.maxima` (no full-space states).

    Examples
    --------
    >>> from qutip_centralspin.groups import Gibbs, GroupModel, mixture_evolution
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(4, -1.0), (3, 1.0)], A=[[1.0, 0.5]])
    >>> evo = mixture_evolution(model, (0,), (Gibbs(1.0), 3))
    >>> len(evo.parts)   # j = 2, 1, 0 of the Gibbs group
    3
    """
    _check_model(model)
    m, n = _labels(model, m, n, gibbs=True)
    nb = len(model.battery)
    groups = list(model.battery) + list(model.charger)
    options = [_ladders(size, field, x) for (size, field), x in zip(groups, m + n, strict=True)]
    engines: dict[tuple[int, ...], tuple[GroupEngine, np.ndarray]] = {}
    parts, stationary = [], 0.0
    for combo in itertools.product(*options):
        weight = math.prod(w for w, _, _ in combo)
        spins = tuple(s for _, s, _ in combo)
        kept = np.flatnonzero(spins)
        battery, charger = kept[kept < nb], kept[kept >= nb]
        if battery.size == 0 or charger.size == 0:  # nothing couples: E_B stays
            stationary += weight * sum(
                groups[a][1] * float(combo[a][2] @ (np.arange(spins[a] + 1) - spins[a] / 2))
                for a in battery
            )
            continue
        if spins not in engines:
            part = GroupModel(
                battery=[(spins[a], groups[a][1]) for a in battery],
                charger=[(spins[b], groups[b][1]) for b in charger],
                A=model.A[np.ix_(battery, charger - nb)],
                delta=model.delta[np.ix_(battery, charger - nb)],
            )
            engines[spins] = (GroupEngine(part), kept)
        engine, kept = engines[spins]
        populations = {}
        for labels in itertools.product(*[np.flatnonzero(combo[g][2]) for g in kept]):
            p = math.prod(float(combo[g][2][x]) for g, x in zip(kept, labels, strict=True))
            if p > 0:
                ints = tuple(int(x) for x in labels)
                populations[(ints[: battery.size], ints[battery.size :])] = p
        parts.append((weight, engine.evolve_mixture(populations)))
    return WeightedEvolution(model, parts, stationary_energy=stationary)


def _evolution(model: GroupModel, state, engine: GroupEngine | None = None):
    """The exact evolution of ``state``: one engine (``engine`` if given, built for
    ``model``), or one per ladder with Gibbs groups (``engine`` must then be None)."""
    _check_model(model)
    if engine is not None and (not isinstance(engine, GroupEngine) or engine.model is not model):
        raise ValueError(
            f"engine must be a GroupEngine built for this model, got {type(engine).__name__}"
            + ("" if not isinstance(engine, GroupEngine) else " of another model")
        )
    if _has_gibbs(state):
        if engine is not None:
            raise ValueError("engine must be None for a state with Gibbs groups (one per ladder)")
        return mixture_evolution(model, *state)
    return (engine or GroupEngine(model)).evolve(state)


# -- entry points -------------------------------------------------------------------------------
def charge_groups(
    model: GroupModel, state, tlist, e_ops=None, options=None, *, engine: GroupEngine | None = None
) -> ChargingResult:
    r"""Exact closed charging of a :class:`GroupModel` on ``tlist``.

    :math:`\Delta E_B(t) = E_B(t) - E_B(t_0)` and :math:`P_B(t) = \Delta E_B(t)/(t - t_0)` with
    :math:`E_B = \sum_a B_a\langle S_a^z\rangle` and the time origin :math:`t_0` = ``tlist[0]``
    (``state`` is the state at :math:`t_0`; :mod:`qutip_centralspin.results`).

    Parameters
    ----------
    model : GroupModel
    state : Qobj, tuple or dict
        As :meth:`GroupEngine.evolve`: a ket or density matrix on ``model.dims``, group labels
        ``(m, n)``, or ``{(m, n): amplitude}``; or labels ``(m, n)`` with :class:`Gibbs`
        groups (:func:`mixture_evolution`; then no ``states`` or ``e_ops``).
    tlist : array_like
        Increasing times :math:`\ge 0`.
    e_ops : Qobj, callable, list or dict, optional
        QuTiP's forms, evaluated on the states (full product space).
    options : dict, optional
        ``store_states``, ``store_final_state``, ``progress_bar``, ``progress_kwargs``,
        ``max_memory``.
    engine : GroupEngine, optional
        Reuse the diagonalised sectors of an engine built for ``model``.

    Returns
    -------
    ChargingResult
        ``solver="exact"``.

    Examples
    --------
    >>> from qutip_centralspin.groups import GroupModel, charge_groups
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(3, 1.0), (3, -0.5)], A=[[1.0, 0.4]])
    >>> result = charge_groups(model, ((0,), (3, 3)), [1.0, 1.5, 2.0])
    >>> result.times.tolist(), bool(abs(result.delta_energy[0]) < 1e-12)
    ([1.0, 1.5, 2.0], True)
    """
    start = time.perf_counter()
    _check_model(model)
    times = _checks.time_list("tlist", tlist)
    options = _checks.solver_options("exact", options, OPTIONS)
    store = bool(options.get("store_states"))
    final = bool(options.get("store_final_state"))
    user_ops = normalize_e_ops(e_ops)
    evo = _evolution(model, state, engine)
    if isinstance(evo, WeightedEvolution) and (store or final or user_ops):
        raise ValueError(
            "states and e_ops are not available for a state with Gibbs groups (it lives on the "
            "groups' physical spins, a mixture over their total spins); got "
            f"options={options!r}, e_ops={e_ops!r}"
        )
    elapsed = times - times[0]
    if store or user_ops:
        states = evo.states(elapsed)
    elif final:
        states = evo.states(elapsed[-1:])
    else:
        states = []
    with np.errstate(over="ignore", invalid="ignore"):
        energy = evo.battery_energy(elapsed)
    return exact_result(
        model,
        times,
        energy,
        states,
        initial_energy=evo.initial_energy,
        initial_rate=evo.initial_rate(),
        options=options,
        user_ops=user_ops,
        method="group sector diagonalisation (LAPACK syevd)",
        start=start,
        groups=len(model.battery) + len(model.charger),
    )
