r"""The invariant block space of the open block solver and its assembled (CSR) generator.

:class:`BlockSpace` is the table of the blocks :math:`X_{jlK}` of :math:`\rho` (battery and
charger ladders :math:`q, r`, total excitation :math:`K`, first battery excitation and size of
each block) that :class:`~qutip_centralspin.solvers.blocks.BlockSolver` evolves;
:class:`Assembler` builds the packed real generator on it term by term, vectorised over the
block elements, and :class:`AssembledGenerator` holds it ready for the Chebyshev recurrence
(:mod:`.chebyshev`). The packed layout stores the upper triangle of :math:`\mathrm{Re}\,X` and
the strict upper triangle of :math:`\mathrm{Im}\,X` of every block; under the chiral symmetry
only the half allowed by :func:`parity_mask` is kept. The matrix-free generator
(:mod:`.matrix_free`) uses the same :class:`BlockSpace` with its own layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .chebyshev import CsrRecurrence

__all__ = ["AssembledGenerator", "Assembler", "BlockSpace", "chiral_real", "parity_mask"]

#: Matrix entries turned into CSR at a time (bounds the memory of assembly).
ASSEMBLY_BATCH = 600_000


@dataclass
class BlockSpace:
    """Block table and element labels of the evolved subspace (all NumPy arrays)."""

    q: np.ndarray  # per block: battery ladder
    r: np.ndarray  # per block: charger ladder
    K: np.ndarray  # per block: total excitation
    kmin: np.ndarray  # per block: smallest battery excitation
    d: np.ndarray  # per block: size
    offset: np.ndarray  # per block: first packed index (blocks hold d^2 reals)
    table: np.ndarray  # (q, r, K) -> block id, -1 if absent

    @property
    def size(self) -> int:
        return int(self.offset[-1] + self.d[-1] ** 2) if self.d.size else 0

    @property
    def sectors(self) -> np.ndarray:
        return np.unique(self.K)

    def elements(self, dtype=np.int64):
        """Block id and (a, b) of every element of every full block, a, b in [0, d)."""
        sizes = self.d * self.d
        blk = np.repeat(np.arange(self.d.size, dtype=dtype), sizes)
        local = np.arange(blk.size, dtype=dtype) - self.offset[blk].astype(dtype)
        a, b = np.divmod(local, self.d[blk].astype(dtype))
        return blk, a, b


def chiral_real(X: np.ndarray) -> bool:
    """Whether a block is real on even :math:`k_a - k_b` and imaginary on odd (exactly)."""
    a, b = np.indices(X.shape)
    odd = (a - b) % 2 == 1
    return not (np.any(X.imag[~odd]) or np.any(X.real[odd]))


def parity_mask(S: BlockSpace) -> np.ndarray:
    """Packed entries allowed by the chiral symmetry: Re X_ab for even k_a + k_b, Im X_ab odd."""
    blk, a, b = S.elements()
    upper = a <= b
    even = (a + b) % 2 == 0  # k_a + k_b = 2 kmin + a + b
    d = S.d[blk]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    off = S.offset[blk]
    mask = np.zeros(S.size, dtype=bool)
    sel = upper & even
    mask[(off + lo * d - lo * (lo - 1) // 2 + (hi - lo))[sel]] = True
    sel = (a < b) & ~even
    mask[(off + d * (d + 1) // 2 + lo * (d - 1) - lo * (lo - 1) // 2 + (hi - lo - 1))[sel]] = True
    return mask


@dataclass
class AssembledGenerator:
    """The packed real generator, ready for the Chebyshev recurrence.

    ``Y2 = 2 (M - c) / scale`` where ``M`` is the packed generator of :math:`d/dt`, ``c`` the
    centre of the real part of its numerical range and ``scale`` the half-width of the
    expansion interval (imaginary axis, or real axis if ``modified``).
    """

    space: BlockSpace
    Y2: sp.csr_matrix
    c: float
    scale: float
    modified: bool
    omega: float  # half-width of the imaginary part of the numerical range
    re_low: float  # bounds of the real part of the numerical range
    re_high: float
    pop_rows: np.ndarray  # packed index of every diagonal element (real part)
    pop_blk: np.ndarray  # its block id
    pop_k: np.ndarray  # its battery excitation k
    weights: np.ndarray  # per packed entry: 1/sqrt(d_j d_l), the physical-norm weight
    keep: np.ndarray | None = None  # packed entries evolved (None: all; else chiral half)

    def apply(self, v: np.ndarray) -> np.ndarray:
        """``M @ v``: the time derivative of the packed state ``v``."""
        if self.scale == 0:
            return self.c * v
        return 0.5 * self.scale * (self.Y2 @ v) + self.c * v

    @property
    def dim(self) -> int:
        """Length of the evolved vector."""
        return int(self.Y2.shape[0])

    def recurrence(self, num_cpus=None) -> CsrRecurrence:
        """The Chebyshev step ``out <- Y2 x + sign out`` on the CSR matrix."""
        return CsrRecurrence(self.Y2, num_cpus)

    @property
    def nnz(self) -> int:
        return int(self.Y2.nnz)


class Assembler:
    """Builds the packed real generator term by term, vectorised over the block elements.

    Every term maps each full-block element ``(a, b)`` to at most one image with one
    coefficient; :meth:`add` turns these into entries of the packed real matrix (real part of
    the upper triangle, imaginary part of the strict upper triangle). The element labels exist
    for one *chunk* of consecutive blocks at a time (:meth:`set_chunk`), and entries are turned
    into CSR in batches, so the memory of assembly stays close to that of the result.
    """

    def __init__(self, S: BlockSpace, log_mult: np.ndarray, keep: np.ndarray | None = None):
        self.S = S
        self.log_mult = log_mult
        self.itype = np.int32 if S.size < 2**31 - 1 else np.int64
        # packed index -> evolved index (-1: dropped by the chiral symmetry); None: all kept
        self.remap = None
        self.dim = S.size
        if keep is not None:
            self.remap = np.full(S.size, -1, dtype=self.itype)
            self.remap[keep] = np.arange(keep.size, dtype=self.itype)
            self.dim = int(keep.size)
        self.diss_row = np.zeros(S.size)  # off-diagonal |D| row sums (physical norm)
        self.diss_col = np.zeros(S.size)  # off-diagonal |D| column sums
        self.diss_diag = np.zeros(S.size)  # diagonal of D
        self._pending: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._n_pending = 0
        self._parts: list[sp.csr_matrix] = []  # partial sums, nnz decreasing (binary counter)

    def chunks(self, max_elements: int):
        """Consecutive block ranges ``(b0, b1)`` of at most ``max_elements`` elements each."""
        sizes = self.S.d.astype(np.int64) ** 2
        b0, count = 0, 0
        for b, size in enumerate(sizes):
            if count and count + size > max_elements:
                yield b0, b
                b0, count = b, 0
            count += int(size)
        if sizes.size:
            yield b0, sizes.size

    def set_chunk(self, b0: int, b1: int) -> None:
        """Make the element labels of blocks ``b0 .. b1-1`` current."""
        S, it = self.S, self.itype
        sizes = S.d[b0:b1].astype(np.int64) ** 2
        self.blk = np.repeat(np.arange(b0, b1, dtype=it), sizes)
        self.elem0 = int(S.offset[b0]) if b1 > b0 else 0
        self.size = self.blk.size
        self.same = (self.elem0 + np.arange(self.size, dtype=np.int64)).astype(it)
        local = self.same - S.offset[self.blk].astype(it)
        self.a, self.b = (x.astype(it) for x in np.divmod(local, S.d[self.blk].astype(it)))
        kmin = S.kmin[self.blk]
        self.ka, self.kb = (kmin + self.a).astype(it), (kmin + self.b).astype(it)
        self.r_pos, self.i_pos, self.sign, self.upper = self._geometry(self.same, self.blk)

    def _geometry(self, elements, blk=None):
        """Packed positions (Re, Im), sign of b - a and ``a <= b`` of global elements."""
        S, it = self.S, self.itype
        if blk is None:
            blk = np.searchsorted(S.offset, elements, side="right") - 1
        d = S.d[blk].astype(np.int64)
        off = S.offset[blk]
        a, b = np.divmod(elements.astype(np.int64) - off, d)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        r_pos = (off + lo * d - lo * (lo - 1) // 2 + (hi - lo)).astype(it)
        i_pos = (
            off + d * (d + 1) // 2 + lo * (d - 1) - lo * (lo - 1) // 2 + (hi - lo - 1)
        ).astype(it)
        return r_pos, i_pos, np.sign(b - a).astype(np.int8), a <= b

    def target(self, dq, dr, dka, dna, dkb, dnb) -> np.ndarray:
        """Global element index of the image of every current element under a move, or -1."""
        S = self.S
        tq = S.q[self.blk] + dq
        tr = S.r[self.blk] + dr
        tka = self.ka + dka
        tK = tka + (S.K[self.blk] - self.ka) + dna
        ok = (tq >= 0) & (tq < S.table.shape[0]) & (tr >= 0) & (tr < S.table.shape[1])
        ok &= (tK >= 0) & (tK < S.table.shape[2])
        tb = np.full(self.size, -1, dtype=np.int64)
        tb[ok] = S.table[tq[ok], tr[ok], tK[ok]]
        del tq, tr, tK
        ok &= tb >= 0
        tb[~ok] = 0
        ta = tka - S.kmin[tb]
        tbb = self.kb + dkb - S.kmin[tb]
        ok &= (ta >= 0) & (ta < S.d[tb]) & (tbb >= 0) & (tbb < S.d[tb])
        out = np.full(self.size, -1, dtype=self.itype)
        tb = tb[ok]
        out[ok] = S.offset[tb] + ta[ok] * S.d[tb] + tbb[ok]
        return out

    def add(self, tgt, value, coherent: bool):
        """Add ``value * X[src]`` (times ``-i`` if ``coherent``) to ``X[tgt]``, all ``src``."""
        keep = (tgt >= 0) & (value != 0)
        t_r, t_i, t_sign, t_upper = self._geometry(tgt[keep])
        keep_t = t_upper  # the lower triangle is implied by Hermiticity
        src = np.nonzero(keep)[0][keep_t].astype(self.itype)
        t_r, t_i, t_sign = t_r[keep_t], t_i[keep_t], t_sign[keep_t]
        v = value[keep][keep_t]
        s = self.sign[src].astype(float)
        if coherent:  # -i v (R + iI):  R' += v s I,  I' += -v R
            sel = s != 0
            self._push(t_r[sel], self.i_pos[src[sel]], v[sel] * s[sel])
            sel = t_sign != 0
            self._push(t_i[sel], self.r_pos[src[sel]], -v[sel])
        else:  # real v:  R' += v R,  I' += v s I
            self._push(t_r, self.r_pos[src], v)
            sel = (s != 0) & (t_sign != 0)
            self._push(t_i[sel], self.i_pos[src[sel]], v[sel] * s[sel])

    def add_diagonal(self, value):
        """A term diagonal in the elements (part of the dissipator)."""
        self.diss_diag[self.elem0 : self.elem0 + self.size] += value
        self.add(self.same, value, coherent=False)

    @staticmethod
    def _accumulate(target: np.ndarray, index: np.ndarray, weights: np.ndarray) -> None:
        """``target[index] += weights`` (repeated indices summed) over the span of ``index``."""
        if index.size == 0:
            return
        lo = int(index.min())
        target[lo : int(index.max()) + 1] += np.bincount(index - lo, weights=weights)

    def add_jump(self, tgt, value, d_ladder_b: int, d_ladder_c: int):
        """A jump term of the dissipator; also records its Gershgorin data."""
        keep = (tgt >= 0) & (value != 0)
        src = np.nonzero(keep)[0]
        t = tgt[keep].astype(np.int64)
        val = value[keep]
        sq, sr = self.S.q[self.blk[src]], self.S.r[self.blk[src]]
        # physical-norm entry: D[t, s] sqrt(d_src / d_tgt) with the ladder multiplicities
        w = np.exp(0.5 * (self.log_mult[sq, sr] - self.log_mult[sq + d_ladder_b, sr + d_ladder_c]))
        mag = np.abs(val) * w
        src_global = src + self.elem0
        same = t == src_global
        self._accumulate(self.diss_diag, t[same], val[same])
        off = ~same
        self._accumulate(self.diss_row, t[off], mag[off])
        self._accumulate(self.diss_col, src_global[off], mag[off])
        self.add(tgt, value, coherent=False)

    def dissipator_bounds(self) -> tuple[float, float, float]:
        """Real-part bounds and imaginary half-width of the dissipator's numerical range.

        Gershgorin discs of its Hermitian and anti-Hermitian parts in the physical
        (Hilbert-Schmidt) norm, where the commutator part is anti-Hermitian.
        """
        if self.S.size == 0:
            return 0.0, 0.0, 0.0
        radius = 0.5 * (self.diss_row + self.diss_col)
        return (
            float(np.min(self.diss_diag - radius)),
            float(np.max(self.diss_diag + radius)),
            float(radius.max()),
        )

    def _push(self, rows, cols, vals):
        if self.remap is not None:  # drop the entries that vanish by the chiral symmetry
            rows, cols = self.remap[rows], self.remap[cols]
            ok = (rows >= 0) & (cols >= 0)
            rows, cols, vals = rows[ok], cols[ok], vals[ok]
        if rows.size == 0:
            return
        self._pending.append((rows, cols, vals))
        self._n_pending += rows.size
        if self._n_pending >= ASSEMBLY_BATCH:
            self._flush()

    def _flush(self):
        """Turn the pending entries into CSR and merge partial sums of similar size.

        Merging only parts within a factor 2 in size (a binary counter) costs
        O(nnz log(batches)) and keeps the peak near twice the final matrix.
        """
        if not self._pending:
            return
        dim = self.dim
        rows, cols, vals = (np.concatenate(x) for x in zip(*self._pending, strict=True))
        self._pending, self._n_pending = [], 0
        part = sp.coo_matrix((vals, (rows, cols)), shape=(dim, dim)).tocsr()
        del rows, cols, vals
        parts = self._parts
        parts.append(part)
        while len(parts) > 1 and parts[-2].nnz <= 2 * parts[-1].nnz:
            top = parts.pop()
            parts[-1] = parts[-1] + top
            del top

    def populations(self):
        """Packed index, block and battery excitation of every diagonal element."""
        S = self.S
        d = S.d.astype(np.int64)
        blk = np.repeat(np.arange(d.size), d)
        a = np.arange(blk.size) - np.repeat(np.cumsum(d) - d, d)
        rows = S.offset[blk] + a * d[blk] - a * (a - 1) // 2
        if self.remap is not None:
            rows = self.remap[rows]  # diagonal entries are always even: never dropped
        return rows.astype(np.int64), blk.astype(np.int64), (S.kmin[blk] + a).astype(np.int64)

    def finish(self, shift: float, factor: float) -> sp.csr_matrix:
        """``factor * (M + shift)`` as CSR with 32-bit indices when they fit.

        Drops the element labels first: the assembler cannot add terms afterwards.
        """
        for name in ("blk", "a", "b", "ka", "kb", "r_pos", "i_pos", "sign", "upper", "same"):
            setattr(self, name, None)
        diag = np.arange(self.S.size, dtype=self.itype)
        self._push(diag, diag, np.full(self.S.size, shift))
        self._flush()
        M = sp.csr_matrix((self.dim, self.dim))
        while self._parts:
            M = M + self._parts.pop()
        M.sum_duplicates()
        M.data *= factor
        M.eliminate_zeros()
        if self.itype == np.int32:
            M.indices = M.indices.astype(np.int32, copy=False)
            M.indptr = M.indptr.astype(np.int32, copy=False)
        return M
