r"""The sparse path of the multi-group engine: large excitation sectors without a spectrum.

A sector of the multi-group model (:mod:`qutip_centralspin.models.groups`) holds about
:math:`K^{G-1}` group labels; a dense eigendecomposition costs :math:`O(d^3)` time and
:math:`O(d^2)` memory, out of reach beyond ~:math:`10^4` levels. Its :math:`H` is sparse:
a diagonal and, per flip-flop pair :math:`(a, b)` with :math:`A_{ab} \ne 0`, one
off-diagonal entry per label and its transpose, so at most
:math:`d\,(1 + 2G_BG_C)` entries. Here the sector is built as a CSR matrix from the same
closed-form elements as the dense path (:func:`sector_elements`) and the state is propagated
with a Chebyshev expansion of the real-time propagator,

.. math::

    e^{-iHt} = e^{-ict}\sum_{k\ge0}(2 - \delta_{k0})(-i)^k J_k(st)\,T_k(\tilde H), \qquad
    \tilde H = (H - c)/s,

with :math:`[c - s, c + s]` the Gershgorin interval of :math:`H` (rigorous), the series cut
where every remaining Bessel coefficient is below
:data:`~qutip_centralspin.solvers.chebyshev.CHEBYSHEV_TAIL` (1e-17), and the times swept in
segments of at most :data:`SEGMENT_TERMS` terms (bounded memory, any number of times).
Measured on this path's sectors it is 2-4 times faster than
``scipy.sparse.linalg.expm_multiply`` at equal accuracy (``benchmarks/bench_groups.py
--sparse``); both agree with the dense path to ~1e-12 relative to :math:`|B|N_B`.

No spectrum is computed, so :class:`SparseGroupEvolution` offers the observables
(:math:`E_B`, power, states, ``e_ops``, :math:`\rho_B`) but not the certification data of
:mod:`qutip_centralspin.maxima.certified`: its maxima are grid estimates
(:mod:`qutip_centralspin.maxima.grid`), never ``converged``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import qutip
import scipy.sparse as sp

from ..models.operators import ladder_down, ladder_up
from ..resources import require
from .chebyshev import bessel_table
from .sectors import EMPTY_SECTOR_WEIGHT

__all__ = [
    "DENSE_SECTOR_LIMIT",
    "SEGMENT_TERMS",
    "SparseSector",
    "SparseGroupEvolution",
    "sector_elements",
    "sparse_sector",
    "sparse_bytes",
]

#: Sectors with more levels than this run on the sparse path (the dense path's eigh costs
#: ~4.5 s at 3003 levels on one core of the reference machine and grows as d^3; up to here
#: the dense path is kept because it gives certified maxima and any time at no extra cost).
DENSE_SECTOR_LIMIT = 4000
#: Most Chebyshev terms (sparse products) of one sweep segment.
SEGMENT_TERMS = 2000
#: Largest state buffer of one segment, in bytes (times x sector x columns, complex).
SEGMENT_BYTES = 1 << 25
_MAX_CHUNK = 64  # recurrence vectors summed into the states per matrix product
_COMPLEX = 16


def sector_elements(engine, labels: np.ndarray, index: np.ndarray):
    r"""The closed-form matrix elements of sector :math:`H` on the basis ``labels``.

    Returns ``(diagonal, src, dst, amplitude)``: :math:`H_{xx}` for every label and the
    flip-flop elements :math:`H_{dst, src} = H_{src, dst}` (positions in the basis, one
    per pair and label; the transposes are not listed). ``index`` is the ascending QuTiP
    index of ``labels``; ``engine`` a :class:`~.group_engine.GroupEngine` (sizes, strides).
    """
    mod, nb = engine.model, engine.n_battery_groups
    half = engine.sizes / 2
    mz = labels - half  # s_a and u_b
    s, u = mz[:, :nb], mz[:, nb:]
    diag = (
        s @ mod.battery_fields
        + u @ mod.charger_fields
        + 2 * np.einsum("ia,ab,ib->i", s, mod.delta, u)
    )
    srcs, dsts, amps = [], [], []
    for a in range(nb):
        up = ladder_up(half[a], s[:, a])
        for b in range(len(mod.charger)):
            if mod.A[a, b] == 0:
                continue
            amp = mod.A[a, b] * up * ladder_down(half[nb + b], u[:, b])
            src = np.flatnonzero(amp)
            target = index[src] - engine.strides[a] + engine.strides[nb + b]
            srcs.append(src)
            dsts.append(np.searchsorted(index, target))
            amps.append(amp[src])
    empty = np.zeros(0, dtype=np.int64)
    return (
        diag,
        np.concatenate(srcs) if srcs else empty,
        np.concatenate(dsts) if dsts else empty,
        np.concatenate(amps) if amps else np.zeros(0),
    )


def sparse_bytes(size: int, groups: tuple[int, int], columns: int = 1) -> float:
    """Estimated peak bytes of the sparse path on a sector of ``size`` levels: the CSR matrix
    (at most ``1 + 2 G_B G_C`` entries a row, value and column index) twice (``H`` and
    :math:`\\tilde H`), the labels, and the propagation buffers for ``columns`` columns."""
    nnz = size * (1 + 2 * groups[0] * groups[1])
    matrices = 2 * (12.0 * nnz + 8.0 * (size + 1))
    labels = 8.0 * size * (groups[0] + groups[1] + 2)
    vectors = _COMPLEX * size * columns * (4 + _MAX_CHUNK)
    return matrices + labels + vectors + SEGMENT_BYTES


@dataclass(frozen=True, eq=False)
class SparseSector:
    """One excitation sector on the sparse path: its basis and its CSR Hamiltonian.

    ``hamiltonian`` is :math:`H` on the basis of ``index`` (ascending QuTiP indices);
    ``centre`` :math:`c` and ``half_width`` :math:`s` the Gershgorin interval
    :math:`[c - s, c + s]` of its spectrum; ``scaled`` :math:`(H - c)/s` (zero if ``s = 0``).
    """

    k: int
    index: np.ndarray
    z: np.ndarray  # H_B on the basis
    hamiltonian: sp.csr_matrix
    scaled: sp.csr_matrix
    centre: float
    half_width: float

    @property
    def size(self) -> int:
        return self.index.size


def sparse_sector(engine, k: int, labels: np.ndarray, index: np.ndarray, z) -> SparseSector:
    """Sector ``k`` of ``engine`` as a :class:`SparseSector` (never a dense matrix).

    Raises
    ------
    ResourceError
        If :func:`sparse_bytes` exceeds the memory limit.
    ValueError
        If an element overflows double precision.
    """
    size = index.size
    groups = (engine.n_battery_groups, len(engine.model.charger))
    require(sparse_bytes(size, groups), f"the sparse sector K={k} of size {size}")
    with np.errstate(over="ignore", invalid="ignore"):
        diag, src, dst, amp = sector_elements(engine, labels, index)
    if not (np.all(np.isfinite(diag)) and np.all(np.isfinite(amp))):
        raise ValueError(
            f"the Hamiltonian of sector K={k} overflows double precision: the model's "
            "energies are too large; rescale B, h, A, delta (and times inversely)"
        )
    rows = np.concatenate([np.arange(size), dst, src])
    cols = np.concatenate([np.arange(size), src, dst])
    vals = np.concatenate([diag, amp, amp])
    h = sp.csr_matrix((vals, (rows, cols)), shape=(size, size))
    radius = np.asarray(abs(h).sum(axis=1)).ravel() - np.abs(diag)
    lo, hi = float(np.min(diag - radius)), float(np.max(diag + radius))
    centre, half = (hi + lo) / 2, (hi - lo) / 2
    if half > 0:
        half *= 1 + 4 * np.finfo(float).eps  # the rounding of c and of the radii
        scaled = ((h - centre * sp.identity(size, format="csr")) / half).tocsr()
    else:  # H = c: a phase
        scaled = sp.csr_matrix((size, size))
    return SparseSector(int(k), index, np.asarray(z, dtype=float), h, scaled, centre, half)


def _sweep(sec: SparseSector, v: np.ndarray, rel: np.ndarray, sign: float) -> np.ndarray:
    """States :math:`e^{-i\\,sign\\,H t}v` at the times ``rel >= 0`` (one Chebyshev sweep),
    shape ``(len(rel), d, r)`` for ``v`` of shape ``(d, r)``."""
    d, r = v.shape
    s, c = sec.half_width, sign * sec.centre
    coef = bessel_table(s * rel).astype(complex)  # (n_terms, n_times)
    n_terms = coef.shape[0]
    coef *= np.array([1, -1j, -1, 1j])[np.arange(n_terms) % 4, None] ** (1 if sign > 0 else -1)
    coef[1:] *= 2.0
    coef *= np.exp(-1j * c * rel)[None, :]
    out = np.zeros((rel.size, d * r), dtype=complex)
    chunk = int(max(1, min(_MAX_CHUNK, SEGMENT_BYTES // (_COMPLEX * d * r))))
    buf = np.empty((chunk, d * r), dtype=v.dtype)
    prev = v
    cur = sec.scaled @ v
    filled = first = 0
    for k in range(n_terms):
        buf[filled] = (prev if k == 0 else cur).ravel()
        filled += 1
        if filled == chunk or k == n_terms - 1:
            out += coef[first : first + filled].T @ buf[:filled]
            first += filled
            filled = 0
        if 1 <= k < n_terms - 1:
            prev, cur = cur, 2.0 * (sec.scaled @ cur) - prev
    return out.reshape(rel.size, d, r)


def propagate(
    sec: SparseSector,
    v: np.ndarray,
    times: np.ndarray,
    consume: Callable[[int, int, np.ndarray], None],
    *,
    start: float = 0.0,
) -> np.ndarray:
    """Propagate ``v`` (shape ``(d, r)``, the state at ``start``) to the ascending ``times``
    (all ``>= start``, or all ``<= start`` descending), calling ``consume(i, j, states)`` with
    the states at ``times[i:j]`` (shape ``(j - i, d, r)``); returns the state at the last
    time. Segments hold at most :data:`SEGMENT_TERMS` terms and :data:`SEGMENT_BYTES`."""
    d, r = v.shape
    per = max(1, SEGMENT_BYTES // (_COMPLEX * d * r))
    span = SEGMENT_TERMS / sec.half_width if sec.half_width > 0 else math.inf
    gaps = np.abs(np.asarray(times, dtype=float) - start)
    sign = 1.0 if times.size == 0 or times[-1] >= start else -1.0
    now, i = 0.0, 0
    while i < gaps.size:
        if gaps[i] - now > span:  # a long gap without output
            v = _sweep(sec, v, np.array([span]), sign)[0]
            now += span
            continue
        j = min(int(np.searchsorted(gaps, now + span, side="right")), i + per)
        states = _sweep(sec, v, gaps[i:j] - now, sign)
        consume(i, j, states)
        v, now, i = states[-1], float(gaps[j - 1]), j
    return v


class SparseGroupEvolution:
    r"""Exact closed evolution of one initial state of a :class:`GroupModel` on sparse sectors.

    Made by :meth:`~qutip_centralspin.solvers.group_engine.GroupEngine.evolve` when an
    occupied sector has more levels than the engine's ``dense_limit``
    (:data:`DENSE_SECTOR_LIMIT` by default). Each occupied sector's block :math:`C_K`
    (:math:`\rho_{KK} = C_KC_K^\dagger`) is propagated by a Chebyshev sweep (module notes):
    ``battery_energy``, ``delta_energy``, ``power``, ``initial_rate``, ``states`` (hence
    ``e_ops``) and ``reduced_battery_matrices`` agree with the dense path to ~1e-12 relative
    to :math:`|B|N_B` (tested to 1e-9). Times are elapsed times from the initial state, in
    any order (negative ones run backwards). The states at the first and last times evaluated
    and a few earlier ones are kept, so scans and refinements (the grid maxima) do not restart
    from :math:`t = 0`.

    ``certifiable`` is ``False``: there is no spectrum, so no certified maxima
    (:mod:`qutip_centralspin.maxima.grid` estimates them).
    """

    certifiable = False

    def __init__(self, engine, blocks: dict, *, is_ket: bool, columns=None, dense_limit: int):
        self.engine = engine
        self.model = engine.model
        self.is_ket = is_ket
        self.dense_limit = int(dense_limit)
        self._blocks: dict[int, np.ndarray] = {}
        self._sectors: dict[int, SparseSector] = {}
        energy = top = 0.0
        for k in sorted(blocks):
            block = np.asarray(blocks[k])
            weight = float(np.sum(np.abs(block) ** 2))
            if weight <= EMPTY_SECTOR_WEIGHT:
                continue
            sec = engine.sparse_sector(int(k))
            self._sectors[sec.k] = sec
            self._blocks[sec.k] = block
            energy += float(sec.z @ np.sum(np.abs(block) ** 2, axis=1))
            top += weight * float(sec.z.max())
        self.initial_energy = energy
        self._top = top
        self._columns = columns  # inter-sector factor columns of a density matrix, or None
        self._checkpoints = [(0.0, dict(self._blocks))]  # (time, blocks) states known
        self._initial_rate = math.fsum(
            2.0 * float(np.sum(np.imag(np.conj(sec.z[:, None] * b) * (sec.hamiltonian @ b))))
            for sec, b in ((self._sectors[k], self._blocks[k]) for k in self._blocks)
        )

    # -- what it is -------------------------------------------------------------------------
    @property
    def method(self) -> str:
        """How it runs (for a result's ``stats``)."""
        largest = max((sec.size for sec in self._sectors.values()), default=0)
        return (
            f"sparse group sectors, Chebyshev propagation (largest occupied sector {largest} "
            f"> dense limit {self.dense_limit})"
        )

    @property
    def sector_weights(self) -> dict[int, float]:
        """Population of each occupied excitation sector ``{k: weight}``."""
        return {k: float(np.sum(np.abs(b) ** 2)) for k, b in self._blocks.items()}

    @property
    def sector_sizes(self) -> dict[int, int]:
        """Levels of each occupied excitation sector ``{k: size}``."""
        return {k: sec.size for k, sec in self._sectors.items()}

    def energy_ceiling(self) -> float:
        """Rigorous upper bound on :math:`\\Delta E_B(t)`: each sector keeps its population,
        :math:`\\sum_K w_K\\max z_K - E_B(0)`."""
        return self._top - self.initial_energy

    def max_frequency(self) -> float:
        """Upper bound on the Bohr frequencies: the largest Gershgorin width of a sector."""
        return max((2 * sec.half_width for sec in self._sectors.values()), default=0.0)

    def _no_spectrum(self, name: str):
        largest = max((sec.size for sec in self._sectors.values()), default=0)
        raise ValueError(
            f"{name} needs the spectrum of the occupied sectors, which the sparse path does not "
            f"compute: the largest occupied sector has {largest} levels, above dense_limit = "
            f"{self.dense_limit} (allowed for the dense path: sizes <= dense_limit; pass a "
            "larger dense_limit to GroupEngine if it fits in memory)"
        )

    def derivative_bound(self, order: int) -> float:
        """Not available on the sparse path (``ValueError`` naming the sector size)."""
        self._no_spectrum("derivative_bound (certified maxima)")

    def state_derivative_bound(self, order: int) -> float:
        """Not available on the sparse path (``ValueError`` naming the sector size)."""
        self._no_spectrum("state_derivative_bound (certified ergotropy)")

    # -- observables ------------------------------------------------------------------------
    def battery_energy(self, t) -> np.ndarray:
        r""":math:`E_B(t) = \sum_a B_a\langle S_a^z\rangle` at the elapsed times ``t``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.zeros(t.shape)
        flat, times = out.reshape(-1), t.reshape(-1)
        forward = np.flatnonzero(times >= 0)
        backward = np.flatnonzero(times < 0)
        if forward.size:
            order = forward[np.argsort(times[forward], kind="stable")]
            first = float(times[order[0]])
            start, blocks = max(
                (cp for cp in self._checkpoints if cp[0] <= first), key=lambda cp: cp[0]
            )
            self._energies(blocks, times[order], start, flat, order, keep=True)
        if backward.size:
            order = backward[np.argsort(-times[backward], kind="stable")]
            self._energies(self._blocks, times[order], 0.0, flat, order, keep=False)
        return out

    def _energies(self, blocks, times, start, flat, order, *, keep) -> None:
        """Add E_B at ``times`` (ordered away from ``start``) into ``flat[order]``; with
        ``keep``, remember the states at the first and the last time as checkpoints."""
        firsts, ends = {}, {}
        for k, block in blocks.items():
            sec = self._sectors[k]

            def consume(i, j, states, z=sec.z, k=k):
                if i == 0:
                    firsts[k] = states[0]
                w = (states.real**2 + states.imag**2).sum(axis=2)  # (n, d)
                flat[order[i:j]] += w @ z

            ends[k] = propagate(sec, block, times, consume, start=start)
        if keep and blocks:
            new = [(float(times[0]), firsts), (float(times[-1]), ends)]
            self._checkpoints = [self._checkpoints[0]] + self._checkpoints[1:][-6:] + new

    def delta_energy(self, t) -> np.ndarray:
        """Stored energy :math:`\\Delta E_B(t) = E_B(t) - E_B(0)`."""
        return self.battery_energy(t) - self.initial_energy

    def power(self, t) -> np.ndarray:
        """Average power :math:`\\Delta E_B(t)/t`; at ``t <= 0`` the limit :math:`\\dot E_B(0)`
        (as the dense path)."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.full(t.shape, self._initial_rate)
        pos = t > 0
        if pos.any():
            out[pos] = self.delta_energy(t[pos]) / t[pos]
        return out

    def initial_rate(self) -> float:
        """:math:`\\dot E_B(0) = i\\langle[H, H_B]\\rangle = 2\\,\\mathrm{Im}\\,\\mathrm{tr}
        (C^\\dagger H_B H C)` summed over the sectors."""
        return self._initial_rate

    # -- states -----------------------------------------------------------------------------
    def _column_sets(self) -> list[list[tuple[int, np.ndarray]]]:
        """Each ket column of the state as ``[(k, block column (d, 1)), ...]`` over sectors."""
        if self.is_ket:
            return [[(k, b[:, :1]) for k, b in self._blocks.items()]]
        if self._columns is not None:
            return self._columns
        return [[(k, b[:, j : j + 1])] for k, b in self._blocks.items() for j in range(b.shape[1])]

    def _full_columns(self, times: np.ndarray, consume) -> None:
        """``consume(column, i, j, psi)`` with ``psi`` the full-space kets ``(j - i, dim)`` of
        one column at ``times[i:j]`` (``times`` ascending, >= 0)."""
        dim = self.engine.shape
        per = max(1, SEGMENT_BYTES // (_COMPLEX * dim))
        for c, column in enumerate(self._column_sets()):
            now = {k: (0.0, v) for k, v in column}
            for i in range(0, times.size, per):
                tt = times[i : i + per]
                psi = np.zeros((tt.size, dim), dtype=complex)
                for k, _ in column:
                    sec = self._sectors[k]

                    def put(a, b, states, sec=sec, psi=psi):
                        psi[a:b, sec.index] = states[:, :, 0]

                    start, v = now[k]
                    now[k] = (float(tt[-1]), propagate(sec, v, tt, put, start=start))
                consume(c, i, i + tt.size, psi)

    def states(self, t) -> list[qutip.Qobj]:
        """The full states at the elapsed times ``t >= 0`` (ascending) as ``Qobj`` (kets, or
        density matrices :math:`\\sum_j\\psi_j\\psi_j^\\dagger` over the columns)."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        dim = self.engine.shape
        require(_COMPLEX * dim * (1 if self.is_ket else dim) * times.size, "the stored states")
        model = self.model
        if self.is_ket:
            out = [None] * times.size

            def keep(c, i, j, psi):
                for n in range(i, j):
                    out[n] = qutip.Qobj(psi[n - i][:, None], dims=model.ket_dims)

            self._full_columns(times, keep)
            return out
        rhos = np.zeros((times.size, dim, dim), dtype=complex)

        def add(c, i, j, psi):
            rhos[i:j] += psi[:, :, None] * psi.conj()[:, None, :]

        self._full_columns(times, add)
        return [qutip.Qobj(r, dims=model.dims) for r in rhos]

    def reduced_battery_matrices(self, t) -> np.ndarray:
        r""":math:`\rho_B(t) = \mathrm{tr}_C\,\rho(t)` on the battery groups, shape
        ``(len(t), D_B, D_B)`` (``jmat`` order per group), ``t >= 0`` ascending."""
        times = np.atleast_1d(np.asarray(t, dtype=float))
        d_b = math.prod(self.model.dims[0][: len(self.model.battery)])
        dim = self.engine.shape
        out = np.zeros((times.size, d_b, d_b), dtype=complex)

        def add(c, i, j, psi):
            mat = psi.reshape(j - i, d_b, dim // d_b)
            out[i:j] += mat @ mat.conj().transpose(0, 2, 1)

        self._full_columns(times, add)
        return out

    def reduced_battery_state(self, t):
        r""":math:`\rho_B(t)` as ``Qobj`` on the battery groups' dims; a list for an array ``t``."""
        dims = self.model.dims[0][: len(self.model.battery)]
        states = [qutip.Qobj(r, dims=[dims, dims]) for r in self.reduced_battery_matrices(t)]
        return states[0] if np.ndim(t) == 0 else states


def dm_columns(engine, support: np.ndarray, sub: np.ndarray):
    """Ket columns of a density matrix with coherences between sectors, each split by sector
    as ``[(k, block (d_k, 1)), ...]`` in the sectors' label bases; ``None`` if it has none
    (then the sector blocks alone describe it)."""
    occ = np.flatnonzero(np.real(np.diagonal(sub)) > EMPTY_SECTOR_WEIGHT)
    rho = sub[np.ix_(occ, occ)]
    exc = engine.excitations_of(support[occ])
    cross = exc[:, None] != exc[None, :]
    scale = float(np.abs(rho).max()) if rho.size else 0.0
    if not cross.any() or float(np.abs(rho[cross]).max()) <= 1e-15 * scale:
        return None
    p, w = np.linalg.eigh((rho + rho.conj().T) / 2)
    keep = p > p.max() * 1e-14
    factor = w[:, keep] * np.sqrt(p[keep])
    columns = []
    for col in factor.T:
        column = []
        for k in np.unique(exc).tolist():
            mine = exc == k
            table = engine.block_basis(k)
            block = np.zeros((table.size, 1), dtype=complex)
            block[engine.positions(table, support[occ][mine]), 0] = col[mine]
            if np.any(block):
                column.append((k, block))
        columns.append(column)
    return columns
