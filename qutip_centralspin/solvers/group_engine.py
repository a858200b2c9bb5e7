"""The exact closed engine of the multi-group model.

The sectors of conserved total excitation, spanned by the group labels: diagonalised densely
up to the engine's ``dense_limit`` levels (:data:`DENSE_SECTOR_LIMIT` by default; certified
maxima), propagated on sparse sectors beyond it (:mod:`.group_sparse`; grid-estimated maxima).

One module because the sector tables of the group labels, the dense/sparse dispatch and the
mixtures over Gibbs ladders share one bookkeeping of labels and sectors; the sparse
propagation already lives apart (group_sparse.py).
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
import time
from typing import NamedTuple

import numpy as np
import qutip

from .. import _checks
from ..models.groups import (
    MAX_DIMENSION,
    Gibbs,
    GroupModel,
    check_group_model,
    group_labels,
    has_gibbs,
)
from ..models.states import validate_state
from ..models.thermal import log_ladder_weights, thermal_populations
from ..resources import require
from ..results import ChargingResult
from .exact import closed_result
from .group_sparse import (
    DENSE_SECTOR_LIMIT,
    SparseGroupEvolution,
    SparseSector,
    dm_columns,
    sector_elements,
    sparse_sector,
)
from .mixture import WeightedEvolution
from .sector import SectorEvolution
from .sectors import Sector, SectorBasis, mixture_weights

__all__ = [
    "GroupEngine",
    "GroupEvolution",
    "SectorTable",
    "DENSE_SECTOR_LIMIT",
    "mixture_evolution",
    "charge_groups",
    "group_evolution",
    "group_method",
]


_FLOAT = 8


class SectorTable(NamedTuple):
    """The basis of one sector, not diagonalised: group labels (rows), their ascending QuTiP
    indices and :math:`H_B` on them."""

    k: int
    labels: np.ndarray
    index: np.ndarray
    z: np.ndarray

    @property
    def size(self) -> int:
        return self.index.size


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

    with :math:`s_a = m_a - N_a/2`, :math:`u_b = n_b - N_b/2`, :math:`j_g = N_g/2`
    (:func:`~.group_sparse.sector_elements`). Which path runs is decided per evolution by the
    largest occupied sector:

    * up to ``dense_limit`` levels, the dense path: the sector is diagonalised once (LAPACK
      ``syevd``) and cached on the instance; :math:`E_B(t)` is then exact to round-off at any
      time and the maxima are certified (:mod:`qutip_centralspin.maxima.certified`);
    * beyond it, the sparse path: the sector is a CSR matrix (never dense) and the state is
      propagated by a Chebyshev sweep (:class:`~.group_sparse.SparseGroupEvolution`),
      accurate to ~1e-12 relative to :math:`|B|N_B`; the maxima are grid estimates
      (:mod:`qutip_centralspin.maxima.grid`, ``converged=False``).

    Parameters
    ----------
    model : GroupModel
    dense_limit : int, optional
        Largest sector (levels) diagonalised densely, ``>= 0``; default
        :data:`DENSE_SECTOR_LIMIT`. ``0`` forces the sparse path on every sector.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.solvers.group_engine import GroupEngine
    >>> from qutip_centralspin.models.groups import GroupModel
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(10, 1.0), (10, 1.0)], A=1.0)
    >>> evo = GroupEngine(model).evolve(((0,), (10, 10)))
    >>> evo.sector_weights
    {20: 1.0}
    >>> sparse = GroupEngine(model, dense_limit=0).evolve(((0,), (10, 10)))
    >>> t = np.array([0.1, 0.2])
    >>> bool(np.allclose(sparse.delta_energy(t), evo.delta_energy(t), atol=1e-12))
    True
    """

    def __init__(self, model: GroupModel, *, dense_limit: int | None = None):
        super().__init__(check_group_model(model))
        if model.shape >= MAX_DIMENSION:
            raise ValueError(
                f"the product space of the groups must have fewer than 2**62 dimensions, got "
                f"{model.shape:.3g}; use fewer groups"
            )
        self.dense_limit = (
            DENSE_SECTOR_LIMIT
            if dense_limit is None
            else _checks.int_in_range("dense_limit", dense_limit, 0, MAX_DIMENSION)
        )
        self.sizes = np.array(model.battery_sizes + model.charger_sizes, dtype=np.int64)
        dims = self.sizes + 1
        self.strides = np.cumprod(np.concatenate([[1], dims[::-1][:-1]]))[::-1].astype(np.int64)
        self.n_battery_groups = len(model.battery)
        self._tables: dict[int, SectorTable] = {}
        self._sparse: dict[int, SparseSector] = {}

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

    def block_basis(self, k: int) -> SectorTable:
        """The (cached) basis of sector ``k``, not diagonalised: what state blocks are
        written in, on either path."""
        k = int(k)
        if k not in self._tables:
            labels = self.sector_labels(k)
            nb = self.n_battery_groups
            z = (labels[:, :nb] - self.sizes[:nb] / 2) @ self.model.battery_fields
            self._tables[k] = SectorTable(k, labels, self.label_index(labels), z)
        return self._tables[k]

    def sector_hamiltonian(self, k: int) -> np.ndarray:
        """The dense real symmetric :math:`H` of sector ``k`` (basis of :meth:`sector_labels`)."""
        table = self.block_basis(k)
        return self._hamiltonian(table.labels, table.index)

    def _hamiltonian(self, labels: np.ndarray, index: np.ndarray) -> np.ndarray:
        size = index.size
        require(3.0 * _FLOAT * size * size, f"the dense sector of size {size}")
        diag, src, dst, amp = sector_elements(self, labels, index)
        h = np.diag(diag)
        h[dst, src] = amp
        h[src, dst] = amp
        return h

    def sector(self, k: int) -> Sector:
        """The (cached) sector with ``k`` excitations, diagonalised densely (whatever its size:
        the evolutions decide the path, :meth:`evolve`)."""
        k = int(k)
        if k not in self._sectors:
            table = self.block_basis(k)
            labels = table.labels
            with np.errstate(over="ignore", invalid="ignore"):
                h = self._hamiltonian(labels, table.index)
            if not np.all(np.isfinite(h)):
                raise ValueError(
                    f"the Hamiltonian of sector K={k} overflows double precision: the model's "
                    "energies are too large; rescale B, h, A, delta (and times inversely)"
                )
            energies, vectors = np.linalg.eigh(h)
            nb = self.n_battery_groups
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

    def sparse_sector(self, k: int) -> SparseSector:
        """The (cached) sector with ``k`` excitations as a sparse (CSR) matrix."""
        k = int(k)
        if k not in self._sparse:
            table = self.block_basis(k)
            self._sparse[k] = sparse_sector(self, k, table.labels, table.index, table.z)
        return self._sparse[k]

    def sector_indices(self, sector) -> np.ndarray:
        """QuTiP vector indices of the sector's basis (ascending)."""
        return self.block_basis(sector.k).index

    def positions(self, sector, index) -> np.ndarray:
        """Positions in the sector's basis of the QuTiP vector indices ``index``."""
        return np.searchsorted(self.block_basis(sector.k).index, np.asarray(index, dtype=np.int64))

    def battery_energies(self, sector) -> np.ndarray:
        r""":math:`\sum_a B_a(m_a - N_a/2)` on the sector's basis."""
        return self.block_basis(sector.k).z

    def is_sparse(self, blocks: dict) -> bool:
        """Whether the evolution of the sector ``blocks`` runs on the sparse path: a sector
        of more than ``dense_limit`` levels is occupied."""
        return any(self.block_basis(k).size > self.dense_limit for k in blocks)

    def _evolution(self, blocks: dict, *, is_ket: bool, source=None, dm_entries=None):
        """The dense :class:`GroupEvolution` or the :class:`SparseGroupEvolution` of the
        sector ``blocks`` (:meth:`is_sparse`)."""
        if not self.is_sparse(blocks):
            return GroupEvolution(
                self, None, is_ket=is_ket, blocks=blocks, source=source, dm_entries=dm_entries
            )
        columns = None if dm_entries is None else dm_columns(self, *dm_entries)
        return SparseGroupEvolution(
            self, blocks, is_ket=is_ket, columns=columns, dense_limit=self.dense_limit
        )

    # -- states ---------------------------------------------------------------------------
    def evolve(self, state) -> GroupEvolution | SparseGroupEvolution:
        r"""Prepare the exact evolution of ``state``: a :class:`GroupEvolution` (dense
        sectors) or, if an occupied sector has more than ``dense_limit`` levels, a
        :class:`~.group_sparse.SparseGroupEvolution` (class notes).

        Parameters
        ----------
        state : Qobj, tuple or dict
            * a ket or density matrix ``Qobj`` on the model's :attr:`~GroupModel.dims`, read
              from its nonzero entries;
            * ``(m, n)``: the product Dicke state, ``m`` and ``n`` one label per group;
            * ``{(m, n): amplitude, ...}``: a superposition (normalised here).
        """
        if has_gibbs(state):
            raise ValueError(
                "engine must be None for a state with Gibbs groups (one engine per ladder, "
                "mixture_evolution)"
            )
        if isinstance(state, tuple):
            state = {state: 1.0}
        if isinstance(state, dict):
            return self._evolution(self._label_blocks(state), is_ket=True)
        state = _check_state(self.model, state)
        return self.state_evolution(
            state, lambda engine, data, **kwargs: engine._evolution(**kwargs)
        )

    def evolve_mixture(self, populations: dict) -> GroupEvolution | SparseGroupEvolution:
        r"""The exact evolution of :math:`\rho = \sum p_{mn}|m, n\rangle\langle m, n|`.

        Parameters
        ----------
        populations : dict
            ``{(m, n): p}`` with group labels ``m``, ``n`` and ``p >= 0``, not all zero
            (normalised here).
        """
        weights, total = mixture_weights(populations)
        columns: dict[int, list] = {}
        for key, p in weights.items():
            ((k, column),) = self._label_blocks({key: 1.0}).items()
            columns.setdefault(k, []).append(column * math.sqrt(p / total))
        blocks = {k: np.hstack(cols) for k, cols in columns.items()}
        return self._evolution(blocks, is_ket=False)

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
            m, n = group_labels(self.model, *key)
            sec = self.block_basis(sum(m) + sum(n))
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
    :mod:`qutip_centralspin.maxima.certified` behave as for one group. Times are *elapsed* times
    :math:`t \ge 0` from the initial state (:func:`charge_groups` maps ``tlist`` to them with
    the origin ``tlist[0]``).

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.solvers.group_engine import GroupEngine
    >>> from qutip_centralspin.models.groups import GroupModel
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


def mixture_evolution(
    model: GroupModel, m, n, *, dense_limit: int | None = None
) -> WeightedEvolution:
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
    dense_limit : int, optional
        The ``dense_limit`` of each part's :class:`GroupEngine` (a part whose occupied
        sectors are larger runs on the sparse path).

    Returns
    -------
    WeightedEvolution
        ``battery_energy``, ``delta_energy``, ``power`` and the certification data of
        :mod:`qutip_centralspin.maxima.certified` (no full-space states).

    Examples
    --------
    >>> from qutip_centralspin.models.groups import Gibbs, GroupModel
    >>> from qutip_centralspin.solvers.group_engine import mixture_evolution
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(4, -1.0), (3, 1.0)], A=[[1.0, 0.5]])
    >>> evo = mixture_evolution(model, (0,), (Gibbs(1.0), 3))
    >>> len(evo.parts)   # j = 2, 1, 0 of the Gibbs group
    3
    """
    check_group_model(model)
    m, n = group_labels(model, m, n, gibbs=True)
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
            engines[spins] = (GroupEngine(part, dense_limit=dense_limit), kept)
        engine, kept = engines[spins]
        populations = {}
        for labels in itertools.product(*[np.flatnonzero(combo[g][2]) for g in kept]):
            p = math.prod(float(combo[g][2][x]) for g, x in zip(kept, labels, strict=True))
            if p > 0:
                ints = tuple(int(x) for x in labels)
                populations[(ints[: battery.size], ints[battery.size :])] = p
        parts.append((weight, engine.evolve_mixture(populations)))
    return WeightedEvolution(model, parts, stationary_energy=stationary)


def group_evolution(
    model: GroupModel, state, engine: GroupEngine | None = None, *, dense_limit=None
):
    """The exact evolution of ``state``: one engine (``engine`` if given, built for
    ``model``), or one per ladder with Gibbs groups (``engine`` must then be None); new
    engines get ``dense_limit`` (:class:`GroupEngine`)."""
    check_group_model(model)
    if engine is not None and dense_limit is not None:
        raise ValueError(
            f"dense_limit must be None when an engine is given (the engine has its own, "
            f"{getattr(engine, 'dense_limit', None)!r}), got {dense_limit!r}"
        )
    if engine is not None and (not isinstance(engine, GroupEngine) or engine.model is not model):
        raise ValueError(
            f"engine must be a GroupEngine built for this model, got {type(engine).__name__}"
            + ("" if not isinstance(engine, GroupEngine) else " of another model")
        )
    if has_gibbs(state):
        if engine is not None:
            raise ValueError("engine must be None for a state with Gibbs groups (one per ladder)")
        return mixture_evolution(model, *state, dense_limit=dense_limit)
    return (engine or GroupEngine(model, dense_limit=dense_limit)).evolve(state)


def group_method(evo) -> str:
    """What ran, for a result's ``stats``: the dense or the sparse path (or both, for the
    parts of a mixture)."""
    dense = "group-sector diagonalisation (LAPACK syevd)"
    parts = [e for _, e in evo.parts] if isinstance(evo, WeightedEvolution) else [evo]
    sparse = [e.method for e in parts if isinstance(e, SparseGroupEvolution)]
    if not sparse:
        return dense
    if len(sparse) == len(parts):
        return sparse[0] if len(parts) == 1 else f"{sparse[0]}, one engine per ladder"
    return f"{dense}; sparse parts: {sparse[0]}"


# -- entry points -------------------------------------------------------------------------------
def charge_groups(
    model: GroupModel,
    state,
    tlist,
    e_ops=None,
    options=None,
    *,
    engine: GroupEngine | None = None,
    dense_limit: int | None = None,
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
    dense_limit : int, optional
        Largest sector diagonalised densely (:class:`GroupEngine`; default
        :data:`DENSE_SECTOR_LIMIT`); only without ``engine``.

    Returns
    -------
    ChargingResult
        ``solver="exact"``; ``stats["method"]`` says which path ran: dense sectors (exact to
        round-off) or sparse sectors with Chebyshev propagation (~1e-12 relative to
        :math:`|B|N_B`).

    Examples
    --------
    >>> from qutip_centralspin.models.groups import GroupModel
    >>> from qutip_centralspin.solvers.group_engine import charge_groups
    >>> model = GroupModel(battery=[(2, 1.0)], charger=[(3, 1.0), (3, -0.5)], A=[[1.0, 0.4]])
    >>> result = charge_groups(model, ((0,), (3, 3)), [1.0, 1.5, 2.0])
    >>> result.times.tolist(), bool(abs(result.delta_energy[0]) < 1e-12)
    ([1.0, 1.5, 2.0], True)
    """
    start = time.perf_counter()
    check_group_model(model)
    times = _checks.time_list("tlist", tlist)
    evo = group_evolution(model, state, engine, dense_limit=dense_limit)
    return closed_result(
        model,
        evo,
        times,
        e_ops=e_ops,
        options=options,
        start=start,
        method=group_method(evo),
        groups=len(model.battery) + len(model.charger),
    )
