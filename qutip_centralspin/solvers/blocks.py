r"""Exact open-system solver on the invariant excitation blocks (j-resolved Dicke basis).

The master equation (convention of :mod:`qutip_centralspin.models.processes`)

.. math::

    \dot\rho = \mathcal L\rho = -i[H,\rho]
        + \sum_k \big(L_k\rho L_k^\dagger - \tfrac12\{L_k^\dagger L_k,\rho\}\big)

is evolved on the smallest subspace that contains the state, with no approximation.

Basis and invariant blocks
--------------------------
Every Lindblad operator is either collective or the same on every spin of a target, so the
state stays permutation invariant within the battery and within the charger. By Schur-Weyl
duality it is then

.. math::

    \rho = \bigoplus_{j, l} X_{jl} \otimes \frac{\mathbb 1_{d_j}}{d_j}
                                \otimes \frac{\mathbb 1_{d_l}}{d_l},

with battery spin :math:`j = N_B/2 - q` (:math:`q = 0, 1, \dots, \lfloor N_B/2\rfloor`, only
:math:`q = 0` without local battery processes), multiplicity
:math:`d_j = \binom{N_B}{q} - \binom{N_B}{q-1}`, and likewise charger spin :math:`l = N/2 - r`.
:math:`X_{jl}` is a matrix on :math:`|j, m\rangle \otimes |l, \mu\rangle`; it is normalised as in
``qutip.piqs`` (the multiplicity is traced out: :math:`\sum_{jl}\mathrm{tr}\,X_{jl} = 1`). We
label battery states by the number of up spins :math:`k = N_B/2 + m` (the paper's ``m``) and
charger states by :math:`n = N/2 + \mu`.

:math:`H`, every dephasing operator and :math:`L^\dagger L` conserve the total excitation
:math:`K = k + n`; decay (pumping) jumps lower (raise) it by one on both sides of
:math:`\rho`. A state block-diagonal in :math:`K` (any mixture of Dicke product states
:math:`|m, n\rangle`) therefore stays block-diagonal in :math:`(j, l, K)`: the evolved vector
holds the blocks :math:`X_{jlK}` only. Dephasing alone keeps the initial sectors; decay feeds
:math:`K \to K-1` one way, so only :math:`K \le K_{\max}(0)` appear (pumping: :math:`K \ge
K_{\min}(0)`).
Every jump moves a block :math:`(q, r, K)` by one step of a fixed set; only the blocks
reachable from the initial ones are built (:meth:`BlockSolver.reachable_blocks`), which is
exact: local decay alone, e.g., reaches :math:`q \le K_0 - K` only.

Generator
---------
In this basis every term of :math:`\mathcal L` maps an element :math:`(X_{jlK})_{ab}` to at
most nine neighbours: :math:`H` is tridiagonal within a block, collective operators act within
a ladder, and the local sums :math:`\sum_i o_i X o_i^\dagger` couple :math:`j \to j, j\pm 1`
with the closed-form coefficients of Chase & Geremia, PRA 78, 052101 (2008) and Shammah *et
al.*, PRA 98, 063815 (2018) (the ones ``qutip.piqs`` uses), written here in double precision.
All coefficients are built for all blocks at once with NumPy (no loop over matrix elements).
Since :math:`\rho` is Hermitian and every coefficient is real apart from the :math:`-i` of the
commutator, the blocks are stored as the upper triangle of :math:`\mathrm{Re}\,X` and the
strict upper triangle of :math:`\mathrm{Im}\,X`: a real vector of
:math:`\sum_{\rm blocks} d^2` entries and a real sparse generator.

At resonance (:math:`B = h`, :math:`\Delta = 0`) the flip-flop term anticommutes with the
battery parity :math:`(-1)^k` while every dissipator commutes with it, so a state that starts
real and diagonal in :math:`K` keeps :math:`X_{ab}` real for even :math:`k_a + k_b` and
imaginary for odd: half of the packed entries vanish identically and are dropped while the
generator is assembled (:attr:`BlockSolver.chiral_symmetric`). This is exact, and halves the
work and the memory.

Time evolution
--------------
:math:`e^{t\mathcal L}` is expanded in Chebyshev polynomials (Jacobi-Anger):

.. math::

    e^{t\mathcal L} = e^{ct}\sum_{k\ge0}(2-\delta_{k0})\,J_k(\Omega t)\,i^k
                      T_k\!\Big(\frac{\mathcal L - c}{i\Omega}\Big),

where :math:`[-\Omega, \Omega]` bounds the imaginary part of the numerical range of
:math:`\mathcal L` (the Bohr frequencies of the blocks plus a rigorous Gershgorin margin of
the dissipator) and :math:`c` is the centre of its real part. The vectors
:math:`h_k = i^kT_k(\cdot)v` obey the real recurrence :math:`h_{k+1} = 2Yh_k + h_{k-1}`,
:math:`Y = (\mathcal L - c)/\Omega`. One sweep gives every time of ``tlist`` at once: only the
observables (battery populations, sector weights) of each :math:`h_k` are kept and combined
with the Bessel coefficients. The series is truncated where the Bessel tail is below
:data:`CHEBYSHEV_TAIL`, so the result is exact to rounding; if the recurrence vectors grow
(non-normal transients), the interval is split into shorter segments. If dissipation dominates
(real extent larger than :math:`\Omega`) the expansion is taken along the real axis with
modified Bessel functions :math:`I_k` instead.

Two generators
--------------
The generator is either assembled as a real CSR matrix (``options["generator"] = "csr"``:
~12 stored entries per unknown) or applied without being stored
(``"matrix-free"``, :mod:`~qutip_centralspin.solvers.matrix_free`: every coefficient is a
product of per-row factors of the block labels, kept as :math:`\sum d` numbers per term, and a
compiled stencil computes the product; its memory is the Chebyshev vectors). Both have the
same blocks, the same spectral interval and the same series, and agree to rounding; the
default ``"auto"`` takes the matrix-free one from :data:`MATRIX_FREE_MIN_SIZE` entries on
(it is faster there, and it reaches sizes whose CSR matrix does not fit in memory), and the
result's ``stats["generator"]`` says which ran.

The reduced battery state :math:`\rho_B(t)` is diagonal in :math:`(j, k)` because the state is
block-diagonal in :math:`K`. It is returned as a ``Qobj``: on the :math:`N_B+1` symmetric
levels (``qutip.jmat`` order, index :math:`N_B - k`) without local battery processes, otherwise
in the PIQS Dicke basis of ``qutip.piqs`` (``nds`` x ``nds``, ladders :math:`j = N_B/2,
N_B/2-1, \dots` in blocks, :math:`m` descending within a block; the multiplicity traced out).

One module because the solver's states, reachable sectors, functionals and propagation share
one bookkeeping of blocks and chiral halves; the block table and the assembled generator
(assembly.py), the matrix-free one (matrix_free.py), the dissipator coefficients
(dissipators.py) and the Chebyshev propagation (chebyshev.py) live apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import qutip
import scipy.sparse as sp
from scipy.linalg import eigvalsh_tridiagonal
from scipy.sparse.linalg import expm_multiply

from .. import _checks
from ..expectation import evaluate_e_ops, normalize_e_ops
from ..models.basis import battery_dims, piqs_index
from ..models.operators import check_model, diagonal_energy, ladder_down, ladder_up
from ..models.processes import Process, as_processes, has_local
from ..models.protocols import PiecewiseConstant
from ..models.spin import CentralSpinModel
from ..models.states import check_state
from ..results import ChargingResult
from .assembly import AssembledGenerator, Assembler, BlockSpace, chiral_real, parity_mask
from .chebyshev import propagate
from .dissipators import local_factors, local_terms, log_multiplicity
from .matrix_free import AVAILABLE as MATRIX_FREE_AVAILABLE
from .matrix_free import JumpTerm, MatrixFreeGenerator
from .sector import SectorEngine

__all__ = ["BatteryPopulations", "BlockObservables", "BlockSolver", "charge_blocks", "OPTIONS"]

#: Options understood by the block solver (QuTiP's names where QuTiP has one).
OPTIONS = (*_checks.COMMON_OPTIONS, "num_cpus", "generator")
#: Values of ``options["generator"]``: the assembled CSR generator or the matrix-free product.
GENERATORS = ("auto", "csr", "matrix-free")
#: ``generator="auto"`` takes the matrix-free product from this many block entries on.
#: Measured (benchmarks/bench_matrix_free.py, issue 16's reach setting): its product is 1.3-2.3x
#: faster from ~1e5 entries, but the first use in a process costs ~1 s (Numba's import and
#: the cached kernels), which the assembled generator's longer build repays from ~4e5 on.
MATRIX_FREE_MIN_SIZE = 400_000
#: Coherences between different excitation sectors above this make psi0 unsupported.
SECTOR_COHERENCE_ATOL = 1e-12
_ASSEMBLY_CHUNK = 500_000  # block elements labelled at a time while assembling
_MAX_SIBLINGS = 8  # generators kept for other couplings lambda (protocols)
#: size_bound is exact (the reachable blocks) on (q, r, K) label grids up to this size.
_EXACT_SIZE_GRID = 4_000_000


def _is_charger_energy(op, model) -> bool:
    """Whether ``op`` asks for the charger's energy (a ``ChargerEnergy`` callback) of ``model``.

    Raises
    ------
    ValueError
        If it was made for another model.
    """
    if getattr(op, "charger_observable", None) != "E_C":
        return False
    if op.model != model:
        raise ValueError(
            f"e_ops: a {type(op).__name__} of another model ({op.model!r}) in a run of {model!r}"
        )
    return True


class BlockSolver:
    r"""Exact Lindblad evolution of the battery on the invariant excitation blocks.

    Parameters
    ----------
    model : CentralSpinModel
    processes : Process or list of Process
        The dissipative processes (see :mod:`qutip_centralspin.models.processes` for the Lindblad
        operators and the rate convention). Zero rates are allowed.

    Notes
    -----
    The generator of a set of excitation sectors is built once and kept on the instance (no
    global cache): reuse one solver for several initial states or time grids. See the module
    notes for the basis, the invariant blocks and the Chebyshev propagator.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CentralSpinModel, dicke_state
    >>> from qutip_centralspin.models.processes import dephasing
    >>> from qutip_centralspin.solvers.blocks import BlockSolver
    >>> model = CentralSpinModel(n_battery=4, n_charger=4)
    >>> solver = BlockSolver(model, dephasing(0.1))
    >>> res = solver.solve(dicke_state(model, 0, 4), np.linspace(0, 1, 11))
    >>> res.solver, res.delta_energy.shape
    ('blocks', (11,))
    """

    def __init__(self, model: CentralSpinModel, processes):
        self.model = self._checked_model(model)
        self.processes: tuple[Process, ...] = as_processes(processes)
        self._rates = {p.key: p.rate for p in self.processes if p.rate > 0}
        self.local_battery = has_local(self.processes, "battery")
        self.local_charger = has_local(self.processes, "charger")
        self._generators: dict[tuple, AssembledGenerator] = {}
        self._siblings: dict[float, BlockSolver] = {}  # other couplings lambda (protocols)
        self._basis = self._product_basis()  # the product basis of psi0 (no sector built)

    @staticmethod
    def _checked_model(model):
        check_model(model)
        return model

    def _scaled_model(self, lam: float):
        r"""The model of :math:`H_B + H_C + \lambda H_I` (:mod:`qutip_centralspin.models.protocols`)."""
        return self.model.replace(A=lam * self.model.A, delta=lam * self.model.delta)

    def _switched(self, lam: float, sectors, chiral: bool, kind: str = "csr"):
        """The generator at coupling ``lam`` on the same blocks (a sibling solver, cached)."""
        if lam == 1.0:
            return self.generator(sectors, chiral, kind)
        if lam not in self._siblings:
            if len(self._siblings) >= _MAX_SIBLINGS:  # keep the newest few (an optimiser
                self._siblings.pop(next(iter(self._siblings)))  # visits many couplings)
            self._siblings[lam] = type(self)(self._scaled_model(lam), self.processes)
        sibling = self._siblings[lam]
        sibling._share_charger(self)
        return sibling.generator(sectors, chiral, kind)

    def _share_charger(self, other: BlockSolver) -> None:
        """Take ``other``'s state-dependent charger space (none for a spin charger)."""

    def _product_basis(self):
        return SectorEngine(self.model)

    # -- the charger (a spin ladder here; a subclass may put another charger in its place) --
    @property
    def n_charger(self) -> int:
        """Largest charger excitation :math:`n` (here the number of charger spins)."""
        return self.model.n_charger

    def _charger_labels(self, r, n):
        """Charger spin :math:`l = N/2 - r` and :math:`J^z = n - N/2` of excitation ``n``."""
        nc = self.n_charger
        return nc / 2 - r, n - nc / 2

    def _charger_energy(self, charger):
        """:math:`H_C = hJ^z` on charger labels ``(l, J^z)``."""
        return self.model.h * charger[1]

    def _energy(self, sz, charger):
        """Diagonal of :math:`H` at battery :math:`S^z` and charger labels ``(l, J^z)``."""
        return diagonal_energy(self.model, sz, charger[1])

    def _exchange(self, jb, sz, charger):
        r"""Amplitudes of the flip-flop term from :math:`(k, n)` to :math:`(k+1, n-1)` and to
        :math:`(k-1, n+1)`: :math:`A\langle S^\pm\rangle\langle J^\mp\rangle`."""
        lc, u = charger
        A = self.model.A
        return A * ladder_up(jb, sz) * ladder_down(lc, u), A * ladder_down(jb, sz) * ladder_up(
            lc, u
        )

    @staticmethod
    def _collective_battery(kind, J, sz):
        """Coefficient of :math:`S^z`, :math:`S^-` or :math:`S^+` on battery labels."""
        return {"dephasing": sz, "decay": ladder_down(J, sz), "pumping": ladder_up(J, sz)}[kind]

    def _collective_charger(self, kind, charger):
        """Coefficient of the collective charger operator on ``charger`` labels (its image
        is one excitation lower, the same, or higher: ``decay``, ``dephasing``, ``pumping``)."""
        lc, u = charger
        return {"dephasing": u, "decay": ladder_down(lc, u), "pumping": ladder_up(lc, u)}[kind]

    def _check_state(self, psi0):
        """psi0 as a validated Qobj on the basis :attr:`_basis`."""
        return check_state(self.model, psi0, "psi0")

    # -- invariant sectors ---------------------------------------------------------------
    def sectors(self, initial_sectors) -> np.ndarray:
        """Total excitations :math:`K` reached from ``initial_sectors`` (descending)."""
        init = np.unique(np.asarray(initial_sectors, dtype=int))
        top = self.model.n_battery + self.n_charger
        lowers = any(key[0] == "decay" for key in self._rates)
        raises = any(key[0] == "pumping" for key in self._rates)
        lo = 0 if lowers else int(init.min())
        hi = top if raises else int(init.max())
        if lowers or raises:
            ks = np.arange(lo, hi + 1)
        else:
            ks = init
        return ks[::-1].copy()

    def generator(self, sectors, chiral: bool = False, kind: str = "csr"):
        """The (cached) generator on the blocks reachable from ``sectors``.

        ``sectors`` are the initial excitation sectors (any superset reachable from them
        gives the same generator: see :meth:`reachable_blocks`).

        ``chiral=True`` keeps only the half of the packed entries allowed by the chiral
        symmetry (see :attr:`chiral_symmetric`); valid for states that respect it.

        ``kind``: ``"csr"`` assembles the packed real matrix; ``"matrix-free"`` keeps per-row
        tables and applies the generator with a compiled stencil
        (:class:`~qutip_centralspin.solvers.matrix_free.MatrixFreeGenerator`, its own layout).
        """
        key = (
            tuple(int(k) for k in sorted(set(np.asarray(sectors).tolist()), reverse=True)),
            bool(chiral),
            self.n_charger,
            kind,
        )
        if key not in self._generators:
            build = self._build_matrix_free if kind == "matrix-free" else self._build
            self._generators[key] = build(np.array(key[0], dtype=int), key[1])
        return self._generators[key]

    @staticmethod
    def generator_kind(options, size: int) -> str:
        """``options["generator"]`` resolved for ``size`` block entries: ``"csr"`` or
        ``"matrix-free"`` (``"auto"``: matrix-free from :data:`MATRIX_FREE_MIN_SIZE` entries
        on, when Numba is installed)."""
        kind = options.get("generator", "auto")
        if kind not in GENERATORS:
            raise ValueError(f"options['generator'] must be one of {GENERATORS}, got {kind!r}")
        if kind == "auto":
            big = size >= MATRIX_FREE_MIN_SIZE
            return "matrix-free" if MATRIX_FREE_AVAILABLE and big else "csr"
        return kind

    @property
    def chiral_symmetric(self) -> bool:
        r"""``True`` at resonance, :math:`B = h` and :math:`\Delta = 0`.

        Then :math:`H = E_K + A(S^+J^- + S^-J^+)` in each sector and the battery parity
        :math:`P = (-1)^k` gives :math:`PHP = 2E_K - H`, while every dissipator commutes with
        :math:`X \mapsto PXP`. A real state :math:`X(0)` with :math:`X = P\bar XP` (e.g. any
        mixture of Dicke product states) keeps :math:`X(t) = P\overline{X(t)}P`: entries
        with odd :math:`k_a + k_b` are imaginary, the others real. Half of the packed entries
        vanish identically and are not evolved.
        """
        return self.model.B == self.model.h and self.model.delta == 0

    def dimension(self, psi0) -> int:
        """Number of real unknowns evolved for ``psi0`` (complex block entries, halved by
        the chiral symmetry when it applies)."""
        psi0 = self._check_state(psi0)
        rho0, sectors = self._initial_blocks(psi0)
        S = self._subspace(sectors)
        v = self._initial_vector(S, rho0)
        if self._uses_chiral(S, v):
            return int(parity_mask(S).sum())
        return S.size

    def size_bound(self, initial_sectors) -> int:
        r"""Upper bound on the packed unknowns :math:`\sum_{\rm blocks} d^2` (builds no generator).

        Exact (the reachable blocks, :meth:`reachable_blocks`) when the grid of block labels
        :math:`(q, r, K)` is small; otherwise each ladder pair :math:`(j, l)` is
        counted over every :math:`K` (a trapezoid of block sizes, in closed form). Used by
        :func:`qutip_centralspin.solvers.estimates.estimate` to refuse a problem before it is built.
        """
        nb, nc = self.model.n_battery, self.n_charger
        qs = np.arange(nb // 2 + 1) if self.local_battery else np.array([0])
        rs = np.arange(nc // 2 + 1) if self.local_charger else np.array([0])
        if qs.size * rs.size * (nb + nc + 1) <= _EXACT_SIZE_GRID:  # exact: the reachable blocks
            S = self._subspace(initial_sectors)
            return int(np.sum(S.d.astype(float) ** 2))
        q, r = (x.astype(float) for x in np.meshgrid(qs, rs, indexing="ij"))
        a, b = nb - 2 * q + 1, nc - 2 * r + 1
        small, big = np.minimum(a, b), np.maximum(a, b)
        per_pair = (small - 1) * small * (2 * small - 1) / 3 + (big - small + 1) * small**2
        return int(np.sum(per_pair))

    def initial_sectors(self, psi0) -> np.ndarray:
        """The excitation sectors :math:`K` that ``psi0`` occupies (checked as for
        :meth:`solve`; builds no block)."""
        return self._initial_blocks(self._check_state(psi0))[1]

    def _uses_chiral(self, S: BlockSpace, v: np.ndarray) -> bool:
        return self.chiral_symmetric and not np.any(v[~parity_mask(S)])

    # -- construction --------------------------------------------------------------------
    def _moves(self) -> set[tuple[int, int, int]]:
        """Block moves ``(dq, dr, dK)`` of the jump terms of the dissipators."""
        moves = set()
        for kind, who, scope in self._rates:
            dK = {"dephasing": 0, "decay": -1, "pumping": 1}[kind]
            ladders = (-1, 0, 1) if scope == "local" else (0,)
            for dl in ladders:
                moves.add((dl, 0, dK) if who == "battery" else (0, dl, dK))
        moves.discard((0, 0, 0))
        return moves

    def reachable_blocks(self, initial_sectors) -> np.ndarray:
        r"""Mask ``[q, r, K]`` of the blocks the dissipators can reach from ``initial_sectors``.

        The state starts in the symmetric ladders (:math:`q = r = 0`) of the initial
        excitation sectors; every jump moves a block by one of :meth:`_moves`. Blocks outside
        the mask hold zero at all times, so dropping them is exact: local decay alone, for
        example, reaches only :math:`q \le K_0 - K` (each decay lowers :math:`K` by one and
        changes the ladder by at most one).
        """
        nb, nc = self.model.n_battery, self.n_charger
        qs = np.arange(nb // 2 + 1) if self.local_battery else np.array([0])
        rs = np.arange(nc // 2 + 1) if self.local_charger else np.array([0])
        Q, R, K = np.meshgrid(qs, rs, np.arange(nb + nc + 1), indexing="ij")
        valid = np.minimum(nb - Q, K - R) >= np.maximum(Q, K - (nc - R))
        reach = np.zeros(valid.shape, dtype=bool)
        init = np.unique(np.asarray(initial_sectors, dtype=int))
        reach[0, 0, init] = True
        reach &= valid
        moves = self._moves()
        frontier = reach
        while frontier.any():
            grown = np.zeros_like(reach)
            for dq, dr, dK in moves:
                src = tuple(
                    slice(max(0, -d), n - max(0, d))
                    for d, n in zip((dq, dr, dK), reach.shape, strict=True)
                )
                dst = tuple(
                    slice(max(0, d), n - max(0, -d))
                    for d, n in zip((dq, dr, dK), reach.shape, strict=True)
                )
                grown[dst] |= frontier[src]
            frontier = grown & valid & ~reach
            reach |= frontier
        return reach

    def _subspace(self, initial_sectors) -> BlockSpace:
        nb, nc = self.model.n_battery, self.n_charger
        reach = self.reachable_blocks(initial_sectors)
        Q, R, K = np.nonzero(reach)
        kmin = np.maximum(Q, K - (nc - R))
        kmax = np.minimum(nb - Q, K - R)
        order = np.lexsort((R, Q, -K))  # sector by sector (K descending), then ladders
        Q, R, K, kmin, kmax = Q[order], R[order], K[order], kmin[order], kmax[order]
        d = kmax - kmin + 1
        sizes = d * d
        offset = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        table = -np.ones(reach.shape, dtype=np.int64)
        table[Q, R, K] = np.arange(Q.size)
        return BlockSpace(Q, R, K, kmin, d, offset, table)

    def _build(self, sectors: np.ndarray, chiral: bool) -> AssembledGenerator:
        S = self._subspace(sectors)
        log_mult = self._log_mult_table()
        # the chiral half is dropped while assembling (the full matrix is never built)
        keep = np.nonzero(parity_mask(S))[0] if chiral else None
        asm = Assembler(S, log_mult, keep)

        for b0, b1 in asm.chunks(_ASSEMBLY_CHUNK):
            asm.set_chunk(b0, b1)
            self._add_terms(asm, S)

        # ---- spectral bounds (numerical range in the physical norm) -----------------------
        re_low, re_high, radius = asm.dissipator_bounds()
        omega = self._bohr_width(S) + radius
        c = 0.5 * (re_low + re_high)
        beta = 0.5 * (re_high - re_low)
        modified = beta > omega
        scale = beta if modified else omega
        pop_rows, pop_blk, pop_k = asm.populations()
        Y2 = asm.finish(shift=-c, factor=2.0 / scale if scale > 0 else 0.0)
        weights = np.repeat(np.exp(-0.5 * log_mult[S.q, S.r]), S.d**2)
        if keep is not None:
            weights = weights[keep]
        return AssembledGenerator(
            space=S,
            Y2=Y2,
            c=c,
            scale=scale,
            modified=modified,
            omega=omega,
            re_low=re_low,
            re_high=re_high,
            pop_rows=pop_rows,
            pop_blk=pop_blk,
            pop_k=pop_k,
            weights=weights,
            keep=keep,
        )

    def _build_matrix_free(self, sectors: np.ndarray, chiral: bool) -> MatrixFreeGenerator:
        """The generator as per-row tables (:mod:`~qutip_centralspin.solvers.matrix_free`)."""
        S = self._subspace(sectors)
        nb, nc = self.model.n_battery, self.n_charger
        d = S.d.astype(np.int64)
        blk = np.repeat(np.arange(d.size), d)
        k = S.kmin[blk] + (np.arange(blk.size) - np.repeat(np.cumsum(d) - d, d))
        jb, m = nb / 2 - S.q[blk], k - nb / 2
        charger = self._charger_labels(S.r[blk], S.K[blk] - k)
        half = np.zeros(blk.size)
        terms = []
        for (kind, who, scope), rate in self._rates.items():
            if scope == "collective":
                dexc = {"dephasing": 0, "decay": -1, "pumping": 1}[kind]
                if who == "battery":
                    f = self._collective_battery(kind, jb, m)
                else:
                    f = self._collective_charger(kind, charger)
                half += -0.5 * rate * f**2
                dk = dexc if who == "battery" else 0
                terms.append(JumpTerm(0, 0, dexc, dk, np.sqrt(rate) * f))
                continue
            J, mm, n_sp = (jb, m, nb) if who == "battery" else (*charger, nc)
            for dl, dexc, g in local_factors(kind, rate, n_sp, J, mm):
                if dl is None:
                    half += g
                elif who == "battery":
                    terms.append(JumpTerm(dl, 0, dexc, dexc, g))
                else:
                    terms.append(JumpTerm(0, dl, dexc, 0, g))
        return MatrixFreeGenerator(
            space=S,
            chiral=chiral,
            energy=np.asarray(self._energy(m, charger), dtype=float),
            up=np.asarray(self._exchange(jb, m, charger)[0], dtype=float),
            half=half,
            terms=terms,
            log_mult=self._log_mult_table(),
            bohr_width=self._bohr_width(S),
        )

    def _add_terms(self, asm: Assembler, S: BlockSpace) -> None:
        """Every term of the generator on the current chunk of block elements."""
        nb, nc = self.model.n_battery, self.n_charger

        def spins(who):
            """Ladder spin and S^z (J^z) of ket and bra of every element, for one subsystem."""
            if who == "battery":
                return nb / 2 - S.q[asm.blk], asm.ka - nb / 2, asm.kb - nb / 2
            K = S.K[asm.blk]
            return nc / 2 - S.r[asm.blk], (K - asm.ka) - nc / 2, (K - asm.kb) - nc / 2

        # ---- Hamiltonian: -i[H, X] ------------------------------------------------------
        jb, ma, mb = spins("battery")
        K = S.K[asm.blk]
        ca = self._charger_labels(S.r[asm.blk], K - asm.ka)
        cb = self._charger_labels(S.r[asm.blk], K - asm.kb)
        del K
        asm.add(asm.same, self._energy(ma, ca) - self._energy(mb, cb), coherent=True)
        # H X: ket (k, n) -> (k+1, n-1) and -> (k-1, n+1); -X H: the bra, opposite sign
        up, down = self._exchange(jb, ma, ca)
        asm.add(asm.target(0, 0, 1, -1, 0, 0), up, coherent=True)
        asm.add(asm.target(0, 0, -1, 1, 0, 0), down, coherent=True)
        up, down = self._exchange(jb, mb, cb)
        asm.add(asm.target(0, 0, 0, 0, 1, -1), -up, coherent=True)
        asm.add(asm.target(0, 0, 0, 0, -1, 1), -down, coherent=True)
        del jb, ma, mb, ca, cb, up, down

        # ---- dissipators ------------------------------------------------------------------
        for (kind, who, scope), rate in self._rates.items():
            n_sp = nb if who == "battery" else nc
            J, m_a, m_b = spins(who)

            def shift(dladder, dexc, who=who):
                """Target of a change of ladder and excitation of one subsystem."""
                if who == "battery":
                    return asm.target(dladder, 0, dexc, 0, dexc, 0), (dladder, 0)
                return asm.target(0, dladder, 0, dexc, 0, dexc), (0, dladder)

            if scope == "collective":  # gamma (O X O^T - {O^T O, X}/2) within each ladder
                dexc = {"dephasing": 0, "decay": -1, "pumping": 1}[kind]
                if who == "battery":
                    fa, fb = (
                        self._collective_battery(kind, J, m_a),
                        self._collective_battery(kind, J, m_b),
                    )
                else:
                    K = S.K[asm.blk]
                    fa = self._collective_charger(
                        kind, self._charger_labels(S.r[asm.blk], K - asm.ka)
                    )
                    fb = self._collective_charger(
                        kind, self._charger_labels(S.r[asm.blk], K - asm.kb)
                    )
                    del K
                asm.add_diagonal(-0.5 * rate * (fa**2 + fb**2))
                tgt, dl = shift(0, dexc)
                asm.add_jump(tgt, rate * fa * fb, *dl)
                del fa, fb, tgt
                continue

            # local: sum_i o_i X o_i^T couples j -> j, j - 1 (q + 1), j + 1 (q - 1)
            for dladder, dexc, value in local_terms(kind, rate, n_sp, J, m_a, m_b):
                if dladder is None:
                    asm.add_diagonal(value)
                else:
                    tgt, dl = shift(dladder, dexc)
                    asm.add_jump(tgt, value, *dl)
                    del tgt
                del value
            del J, m_a, m_b

    def _log_mult_table(self) -> np.ndarray:
        """log(d_j d_l) for every (q, r), padded by one ladder on each side."""
        nb, nc = self.model.n_battery, self.n_charger
        qmax = nb // 2 if self.local_battery else 0
        rmax = nc // 2 if self.local_charger else 0
        lq = np.full(qmax + 3, 0.0)
        lr = np.full(rmax + 3, 0.0)
        lq[: qmax + 1] = log_multiplicity(nb, np.arange(qmax + 1)) if qmax else 0.0
        lr[: rmax + 1] = log_multiplicity(nc, np.arange(rmax + 1)) if rmax else 0.0
        # index -1 (q - 1 below 0) wraps to the padding; such terms have zero coefficient
        return lq[:, None] + lr[None, :]

    def _bohr_width(self, S: BlockSpace) -> float:
        """Largest spread of H over the blocks: the commutator spectrum is in [-W, W].

        Gershgorin discs bound every block's spread from above; the extreme eigenvalues
        (bisection) are computed only for blocks whose bound exceeds the largest exact
        spread found so far, in decreasing order of the bound.
        """
        nb = self.model.n_battery
        d = S.d.astype(np.int64)
        blk = np.repeat(np.arange(d.size), d)
        start = np.concatenate([[0], np.cumsum(d)[:-1]])
        k = S.kmin[blk] + (np.arange(blk.size) - start[blk])
        m = k - nb / 2
        charger = self._charger_labels(S.r[blk], S.K[blk] - k)
        diag = self._energy(m, charger)
        coupling = self._exchange(nb / 2 - S.q[blk], m, charger)[0]  # row -> next row
        off = np.abs(coupling)
        off[start + d - 1] = 0.0  # the last row of a block couples to no next row
        prev = np.concatenate([[0.0], off[:-1]])
        prev[start] = 0.0
        hi = np.maximum.reduceat(diag + off + prev, start)
        lo = np.minimum.reduceat(diag - off - prev, start)
        bound = hi - lo
        width = 0.0
        for i in np.argsort(-bound):
            if bound[i] <= width:
                break
            if d[i] == 1:
                continue
            a, b = start[i], start[i] + d[i]
            ends = [
                eigvalsh_tridiagonal(
                    diag[a:b], coupling[a : b - 1], select="i", select_range=(j, j)
                )[0]
                for j in (0, d[i] - 1)
            ]
            width = max(width, float(ends[1] - ends[0]))
        return width

    # -- states ------------------------------------------------------------------------
    def _initial_blocks(self, psi0):
        """psi0 (symmetric space) as a sparse density matrix; check it is K-diagonal."""
        exc = self._basis.excitations
        if psi0.isket:
            vec = psi0.full().ravel()
            occ = np.nonzero(vec)[0]
            # largest |psi_i psi_j| between different sectors
            per_sector = np.zeros(exc.max() + 1)
            np.maximum.at(per_sector, exc[occ], np.abs(vec[occ]))
            top2 = np.sort(per_sector)[-2:] if per_sector.size > 1 else np.zeros(2)
            worst = float(top2[0] * top2[1])
            if worst <= SECTOR_COHERENCE_ATOL:
                occ = occ[exc[occ] == exc[occ][np.argmax(np.abs(vec[occ]))]]
                outer = np.outer(vec[occ], vec[occ].conj())
                rho = sp.csr_matrix(
                    (outer.ravel(), (np.repeat(occ, occ.size), np.tile(occ, occ.size))),
                    shape=(self._basis.shape, self._basis.shape),
                )
        else:
            rho = sp.csr_matrix(psi0.to("csr").data_as("csr_matrix"))
            coo = rho.tocoo()
            cross = exc[coo.row] != exc[coo.col]
            worst = float(np.abs(coo.data[cross]).max()) if cross.any() else 0.0
        if worst > SECTOR_COHERENCE_ATOL:
            raise ValueError(
                "psi0 must be block-diagonal in the total excitation K = m + n (a Dicke "
                f"product state or a mixture of them) for the block solver; it has a coherence "
                f"of {worst:.3g} between sectors (allowed <= {SECTOR_COHERENCE_ATOL:g}). "
                "Use solver='piqs' (or 'mesolve' for collective processes) instead"
            )
        pops = np.real(rho.diagonal())
        sectors = np.unique(exc[pops > 0]) if np.any(pops > 0) else np.unique(exc)
        return rho, sectors

    def _initial_matrices(self, S: BlockSpace, rho: sp.csr_matrix):
        """``(block id, X)`` of every block of ``rho`` (the symmetric ladders ``q = r = 0``)."""
        for i in np.nonzero((S.q == 0) & (S.r == 0))[0]:
            k = S.kmin[i] + np.arange(S.d[i])
            idx = self._basis.full_index(k, S.K[i] - k)
            yield i, rho[idx][:, idx].toarray()

    def _initial_vector(self, S: BlockSpace, rho: sp.csr_matrix) -> np.ndarray:
        v = np.zeros(S.size)
        for i, X in self._initial_matrices(S, rho):
            d, o = S.d[i], S.offset[i]
            upper = np.triu_indices(d)
            v[o : o + upper[0].size] = X.real[upper]
            v[o + upper[0].size : o + d * d] = X.imag[np.triu_indices(d, 1)]
        return v

    # -- evolution -----------------------------------------------------------------------
    def solve(
        self, psi0: qutip.Qobj, tlist, *, e_ops=None, options=None, coupling=None
    ) -> ChargingResult:
        r"""Evolve ``psi0`` from ``tlist[0]``; return :math:`\Delta E_B`, :math:`P_B` (and
        :math:`\rho_B`).

        Parameters
        ----------
        psi0 : Qobj
            Ket or density matrix on the model's symmetric dims at ``tlist[0]``,
            block-diagonal in the total excitation :math:`K` (Dicke product states and
            mixtures of them).
        tlist : array_like
            Increasing times :math:`\ge 0`; ``tlist[0]`` is the time origin (see
            :mod:`qutip_centralspin.results`).
        e_ops : list, dict, Qobj, QobjEvo or callable, optional
            Evaluated on the reduced battery state :math:`\rho_B(t)`, a ``Qobj`` in the
            ``qutip.piqs`` Dicke basis (:mod:`qutip_centralspin.models.basis`); a
            :class:`~qutip_centralspin.observables.energy.ChargerEnergy` of this model gives
            :math:`E_C(t) = \mathrm{tr}[H_C\rho(t)]` from the same sweep.
        options : dict, optional
            ``store_states``, ``store_final_state`` (:math:`\rho_B`), ``progress_bar``
            (QuTiP's names), ``progress_kwargs``, ``num_cpus`` (threads for the generator
            products; default 2 for large generators), ``generator`` (``"auto"``,
            ``"csr"`` or ``"matrix-free"``: see the module notes).
        coupling : PiecewiseConstant, optional
            :math:`\lambda(t)` multiplying :math:`H_I` (:mod:`qutip_centralspin.models.protocols`):
            each constant segment is propagated exactly with its own generator.

        Returns
        -------
        ChargingResult
            ``solver == "blocks"``; :math:`P_B(t_0)` is the exact limit
            :math:`\dot E_B(t_0) = \mathrm{tr}[H_B\mathcal L\rho(t_0)]`.
        """
        start = time.perf_counter()
        times = _checks.time_list("tlist", tlist)
        options = _checks.solver_options("blocks", options, OPTIONS)
        user_ops = normalize_e_ops(e_ops)
        # the charger's energy is a functional of the same sweep (not of rho_B)
        charger_ops = {k: op for k, op in user_ops.items() if _is_charger_energy(op, self.model)}
        battery_ops = {k: op for k, op in user_ops.items() if k not in charger_ops}
        store = bool(options.get("store_states"))
        want = store or bool(options.get("store_final_state")) or bool(battery_ops)
        if coupling is not None and not isinstance(coupling, PiecewiseConstant):
            raise TypeError(
                "the block solver takes a PiecewiseConstant coupling (e.g. protocols.step), "
                f"got {type(coupling).__name__}"
            )
        run = self._run(psi0, times, options, populations=want, coupling=coupling)
        e_data = evaluate_e_ops(battery_ops, times, run.battery_states) if battery_ops else {}
        e_data.update({k: np.array(run.charger_energy, dtype=float) for k in charger_ops})
        e_data = {k: e_data[k] for k in user_ops}  # the user's order
        return ChargingResult.from_energy(
            self.model,
            times,
            run.energy,
            initial_energy=run.initial_energy,
            initial_rate=run.initial_rate,
            solver="blocks",
            states=run.battery_states,
            store_states=store,
            store_final_state=bool(options.get("store_final_state")),
            e_data=e_data,
            stats={
                "solver": "blocks",
                "method": "Chebyshev propagation on the invariant (j, K) blocks",
                "run time": time.perf_counter() - start,
                "dimension": run.dimension,
                "generator": run.generator,
            },
        )

    def observables(
        self, psi0: qutip.Qobj, tlist, *, options=None, coupling=None
    ) -> BlockObservables:
        r"""Battery energy, charger energy and sector weights on ``tlist``, from one sweep.

        Every quantity here is a linear functional of the packed state, so all of them come
        from the same Chebyshev propagation (:meth:`solve`, :meth:`sector_weights` and
        :meth:`charger_energy` each run one). For a cavity charger
        :math:`\langle a^\dagger a\rangle = E_C/\omega`; for a spin charger
        :math:`\langle J^z\rangle = E_C/h`.

        Parameters
        ----------
        psi0, tlist, options, coupling :
            As for :meth:`solve` (``tlist[0]`` is the time origin).
        """
        times = _checks.time_list("tlist", tlist)
        options = _checks.solver_options("blocks", options, OPTIONS)
        run = self._run(psi0, times, options, populations=False, coupling=coupling)
        return BlockObservables(
            times=times,
            battery_energy=run.energy,
            charger_energy=run.charger_energy,
            sector_weights=run.sectors,
        )

    def sector_weights(self, psi0: qutip.Qobj, tlist, *, options=None) -> dict[int, np.ndarray]:
        r"""Population :math:`\mathrm{tr}\,\Pi_K\rho(t)` of every excitation sector :math:`K`.

        Returns ``{K: array over tlist}`` for the sectors of the invariant subspace (their sum
        is the trace, 1 up to rounding).
        """
        return self.observables(psi0, tlist, options=options).sector_weights

    def energy_derivatives(self, psi0, horizon: float, *, order: int = 2, options=None):
        r"""Dense output of :math:`E_B^{(k)}(t)`, :math:`k \le` ``order``, on ``[0, horizon]``, and a
        rigorous bound of :math:`|E_B^{(\mathrm{order}+1)}|` over all times.

        :math:`E_B^{(k)}(t) = \mathrm{tr}[((\mathcal L^\dagger)^k H_B)\,\rho(t)]`: the
        functionals :math:`f\mathcal M^k` of the packed state (``f`` reads :math:`H_B`, ``M``
        the packed generator) are propagated in one Chebyshev sweep whose moments are kept
        (:class:`~qutip_centralspin.solvers.chebyshev.DenseOutput`). The operator
        :math:`O = (\mathcal L^\dagger)^{\mathrm{order}+1} H_B` is permutation invariant and
        block diagonal, :math:`O = \bigoplus_b O_b\otimes 1`, so for every state of the
        invariant subspace :math:`|\mathrm{tr}\,O\rho| \le \max_b \|O_b\|_2`: its blocks are
        rebuilt from the packed functional and their spectral norms taken.

        Returns
        -------
        dense : DenseOutput
            Rows ``0..order``: :math:`E_B, E_B', \dots` at elapsed times (``psi0`` at 0).
        bound : float
            :math:`\sup_t |E_B^{(\mathrm{order}+1)}(t)|` bound.
        n_terms : int
            Chebyshev terms of the sweep (for the round-off allowance).
        """
        order = int(order)
        if order < 0:
            raise ValueError(f"order must be >= 0, got {order}")
        horizon = _checks.positive_real("horizon", horizon)
        options = _checks.solver_options("blocks", options, OPTIONS)
        gen, v0, _, _ = self._prepare(psi0, {"generator": "csr"})  # reads M^T
        nb = self.model.n_battery
        f = np.zeros(v0.size)
        f[gen.pop_rows] = self.model.B * (gen.pop_k - nb / 2)
        rows = [f]
        for _ in range(order + 1):  # f M^k = (M^T)^k f
            g = rows[-1]
            rows.append(0.5 * gen.scale * (gen.Y2.T @ g) + gen.c * g)
        bound = self._functional_norm(gen, rows[-1])
        F = sp.csr_matrix(np.array(rows[:-1]))
        _, dense = propagate(gen, v0, np.array([0.0, horizon]), F, options, dense=True)
        n_terms = max(seg[2].shape[0] for seg in dense.segments)
        return dense, bound, n_terms

    @classmethod
    def _functional_norm(cls, gen: AssembledGenerator, g: np.ndarray) -> float:
        """max over blocks of the spectral norm of the Hermitian operator read by ``g``."""
        best = 0.0
        for _, O in cls._blocks_of(gen, g, functional=True):
            best = max(best, float(np.abs(np.linalg.eigvalsh(O)).max()))
        return best

    def charger_energy(self, psi0, tlist, *, options=None, coupling=None) -> np.ndarray:
        r"""The charger's energy :math:`E_C(t) = \mathrm{tr}[H_C\rho(t)]` on ``tlist``.

        :math:`H_C = hJ^z` (:math:`\omega a^\dagger a` for a cavity charger); ``coupling`` as
        in :meth:`solve`.
        """
        return self.observables(psi0, tlist, options=options, coupling=coupling).charger_energy

    def _prepare(self, psi0, options=None):
        """The generator of ``psi0``'s invariant blocks and its initial vector.

        ``options["generator"]`` picks the assembled or the matrix-free generator (each has
        its own vector layout). Returns ``(gen, v0, init_sectors, chiral)``.
        """
        psi0 = self._check_state(psi0)
        rho0, init_sectors = self._initial_blocks(psi0)
        S = self._subspace(init_sectors)
        kind = self.generator_kind(options or {}, S.size)
        if kind == "matrix-free":
            mats = list(self._initial_matrices(S, rho0))
            chiral = self.chiral_symmetric and all(chiral_real(X) for _, X in mats)
            gen = self.generator(init_sectors, chiral, kind)
            return gen, gen.pack(mats), init_sectors, chiral
        v0 = self._initial_vector(S, rho0)
        chiral = self._uses_chiral(S, v0)
        gen = self.generator(init_sectors, chiral)
        if gen.keep is not None:
            v0 = v0[gen.keep]
        return gen, v0, init_sectors, chiral

    @staticmethod
    def _population_functionals(gen: AssembledGenerator):
        """Rows reading the battery populations :math:`P_{qk}` of the packed state.

        Returns ``(F, q, k)``: ``F`` (one row per label, sparse) and the labels' battery
        ladder ``q`` and excitation ``k``.
        """
        S = gen.space
        labels, inv = np.unique(
            np.stack([S.q[gen.pop_blk], gen.pop_k]), axis=1, return_inverse=True
        )
        F = sp.csr_matrix(
            (np.ones(gen.pop_rows.size), (inv.ravel(), gen.pop_rows)),
            shape=(labels.shape[1], gen.dim),
        )
        return F, labels[0], labels[1]

    @staticmethod
    def _blocks_of(gen: AssembledGenerator, vec: np.ndarray, *, functional: bool = False):
        r"""The Hermitian blocks :math:`X_b` held by a packed vector, grouped by size.

        Yields ``(block ids, stack of matrices)`` per block size. A state packs
        :math:`\mathrm{Re}\,X` (upper triangle) and :math:`\mathrm{Im}\,X` (strict upper); a
        functional (``functional=True``) reads :math:`\mathrm{tr}\,O X` and so carries the
        off-diagonal entries of :math:`O` twice.
        """
        if isinstance(gen, MatrixFreeGenerator):
            if functional:
                raise ValueError("functionals are read on the assembled generator only")
            yield from gen.blocks(vec)
            return
        S = gen.space
        full = np.zeros(S.size)
        if gen.keep is None:
            full[:] = vec
        else:
            full[gen.keep] = vec
        for d in np.unique(S.d):
            d = int(d)
            ids = np.nonzero(S.d == d)[0]
            n_up = d * (d + 1) // 2
            iu, su = np.triu_indices(d), np.triu_indices(d, 1)
            off = S.offset[ids][:, None]
            re = full[off + np.arange(n_up)[None, :]]
            im = full[off + n_up + np.arange(d * (d - 1) // 2)[None, :]]
            X = np.zeros((ids.size, d, d), dtype=complex)
            X[:, iu[0], iu[1]] = re
            X[:, su[0], su[1]] += 1j * im
            if functional:
                X[:, su[0], su[1]] *= 0.5
            X = X + np.triu(X, 1).conj().transpose(0, 2, 1)
            yield ids, X

    def _trace_norm(self, gen: AssembledGenerator, vec: np.ndarray) -> float:
        r""":math:`\|X\|_1` on the full :math:`2^{N_B+N}` space of the packed operator ``vec``.

        :math:`X = \bigoplus_{jlK} X_{jlK}\otimes 1_{d_j}/d_j\otimes 1_{d_l}/d_l` is block
        diagonal, so its trace norm is :math:`\sum_b \|X_b\|_1` exactly (the copies carry
        :math:`1/d` each).
        """
        total = 0.0
        for _, X in self._blocks_of(gen, vec):
            total += float(np.abs(np.linalg.eigvalsh(X)).sum())
        return total

    def battery_populations(
        self, psi0, horizon: float, *, storage_time: float = 0.0, options=None
    ) -> BatteryPopulations:
        r"""Dense output of the battery populations :math:`P_{qk}(t)` on ``[0, horizon]``.

        The state stays block diagonal in :math:`K`, so :math:`\rho_B(t)` is diagonal in the
        j-resolved Dicke basis: its populations are all of it. They come from one Chebyshev
        sweep whose moments are kept (:class:`~qutip_centralspin.solvers.chebyshev.DenseOutput`),
        with the exact trace norms :math:`\|\mathcal L\rho(0)\|_1` and
        :math:`\|\mathcal L^2\rho(0)\|_1` on the full space: :math:`e^{s\mathcal L}` is trace
        preserving and positive, hence a trace-norm contraction on Hermitian operators, so
        :math:`\|\rho^{(k)}(t)\|_1 = \|e^{t\mathcal L}\mathcal L^k\rho(0)\|_1 \le
        \|\mathcal L^k\rho(0)\|_1` at every :math:`t \ge 0`.

        Parameters
        ----------
        psi0 : Qobj
            As for :meth:`solve` (at :math:`t = 0`).
        horizon : float
            :math:`T > 0`: the dense output covers :math:`[0, T]`.
        storage_time : float, default 0
            :math:`T_s \ge 0`: the populations after charging for :math:`t` and then storing
            for :math:`T_s` with the coupling off (:math:`\lambda = 0`, the processes acting),
            as functions of the switch-off time :math:`t`. With the coupling off, the diagonal
            entries of every block evolve among themselves (:math:`H` is diagonal and every
            jump maps diagonal entries to diagonal entries), so the storage is the exponential
            of that small block (``scipy.sparse.linalg.expm_multiply``) folded into the read-out
            functionals. The bounds above still hold (storage is one more contraction).
        options : dict, optional
            As for :meth:`solve`.
        """
        horizon = _checks.positive_real("horizon", horizon)
        storage_time = _checks.finite_real("storage_time", storage_time)
        if storage_time < 0:
            raise ValueError(f"storage_time must be >= 0, got {storage_time!r}")
        options = _checks.solver_options("blocks", options, OPTIONS)
        # the storage map is read off the assembled generator's diagonal entries
        opts = options if storage_time == 0 else {**options, "generator": "csr"}
        gen, v0, init_sectors, chiral = self._prepare(psi0, opts)
        F, q, k = self._population_functionals(gen)
        if storage_time > 0:
            F = self._stored(F, gen, self._switched(0.0, init_sectors, chiral), storage_time)
        d1 = gen.apply(v0)
        d2 = gen.apply(d1)
        speed, curvature = self._trace_norm(gen, d1), self._trace_norm(gen, d2)
        dense, n_terms = None, 0
        if speed > 0 and gen.scale > 0:
            _, dense = propagate(gen, v0, np.array([0.0, horizon]), F, options, dense=True)
            n_terms = max(seg[2].shape[0] for seg in dense.segments)
        return BatteryPopulations(
            n_battery=self.model.n_battery,
            q=q,
            k=k,
            initial=F @ v0,
            dense=dense,
            speed=speed,
            curvature=curvature,
            n_terms=n_terms,
            horizon=horizon,
        )

    @staticmethod
    def _stored(
        F, gen: AssembledGenerator, gen0: AssembledGenerator, storage_time: float
    ) -> sp.csr_matrix:
        """The read-out ``F`` after ``storage_time`` under the uncoupled generator ``gen0``."""
        rows = gen.pop_rows
        if not np.array_equal(gen0.pop_rows, rows):  # the same blocks: never expected
            raise RuntimeError("storage generator on different blocks")
        M0 = (0.5 * gen0.scale * gen0.Y2[rows]).tocsc()
        inside = np.zeros(M0.shape[1], dtype=bool)
        inside[rows] = True
        leak = M0[:, ~inside]
        if leak.nnz and np.abs(leak.data).max() > 0:
            raise RuntimeError("diagonal entries are not closed under the uncoupled generator")
        M0 = M0[:, rows] + gen0.c * sp.identity(rows.size, format="csc")
        Fpp = F[:, rows].toarray()
        G = expm_multiply(storage_time * M0.T.tocsr(), Fpp.T).T  # F exp(T_s M0) on the diagonal
        out = sp.lil_matrix(F.shape)
        out[:, rows] = G
        return out.tocsr()

    def _run(self, psi0, times, options, *, populations: bool, coupling=None) -> _Run:
        gen, v0, init_sectors, chiral = self._prepare(psi0, options)
        kind = "matrix-free" if isinstance(gen, MatrixFreeGenerator) else "csr"
        S = gen.space
        nb = self.model.n_battery
        # observables: battery energy, sector weights, (on request) battery populations
        sectors_desc = S.sectors[::-1]
        sector_id = np.searchsorted(-sectors_desc, -S.K[gen.pop_blk])
        n_pop = gen.pop_rows.size
        rows = [np.zeros(n_pop, dtype=np.int64), 1 + sector_id]
        vals = [self.model.B * (gen.pop_k - nb / 2), np.ones(n_pop)]
        n_func = 1 + sectors_desc.size
        # the charger energy (one more functional, read off the same diagonal entries)
        rows.append(np.full(n_pop, n_func))
        vals.append(
            self._charger_energy(
                self._charger_labels(S.r[gen.pop_blk], S.K[gen.pop_blk] - gen.pop_k)
            )
        )
        n_func += 1
        F = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.tile(gen.pop_rows, len(rows)))),
            shape=(n_func, v0.size),
        )
        if populations:  # the battery populations P_qk, one row per label
            F_pop, pop_q, pop_k = self._population_functionals(gen)
            F = sp.vstack([F, F_pop], format="csr")
        initial = F @ v0
        if coupling is None:
            values = propagate(gen, v0, times - times[0], F, options)  # psi0 is at tlist[0]
            rate0 = F[[0]] @ gen.apply(v0)
        else:  # piecewise-constant lambda(t): one generator per value, segment by segment
            values = np.zeros((F.shape[0], times.size))
            v = v0
            for a, b, lam in coupling.segments(float(times[0]), float(times[-1])):
                inside = np.nonzero((times >= a) & (times <= b))[0]
                rel = np.concatenate([times[inside] - a, [b - a]])
                part, v = propagate(
                    self._switched(lam, init_sectors, chiral, kind), v, rel, F, options, final=True
                )
                values[:, inside] = part[:, :-1]
            lam0 = float(coupling(times[0]))
            rate0 = F[[0]] @ self._switched(lam0, init_sectors, chiral, kind).apply(v0)
        states = None
        if populations:
            states = self._battery_states(values[n_func:], pop_q, pop_k)
        return _Run(
            energy=values[0],
            initial_energy=float(initial[0]),
            initial_rate=float(rate0[0]),
            sectors={int(k): values[1 + i] for i, k in enumerate(sectors_desc)},
            charger_energy=values[1 + sectors_desc.size],
            battery_states=states,
            dimension=v0.size,
            generator=kind,
        )

    def _battery_states(self, pops: np.ndarray, q, k) -> list[qutip.Qobj]:
        """Diagonal reduced battery states from the (q, k) populations at every time."""
        nb = self.model.n_battery
        dim = battery_dims(nb)
        idx = piqs_index(nb, q, k)
        out = []
        for col in pops.T:
            diag = np.zeros(dim)
            diag[idx] = col
            out.append(qutip.qdiags(diag, 0, dims=[[dim], [dim]]))
        return out


@dataclass
class BatteryPopulations:
    r"""Battery populations of an open run at any time of ``[0, horizon]``.

    ``P[i](t)`` is the population of battery ladder :math:`j = N_B/2 - q_i` with :math:`k_i` up
    spins, in the ``qutip.piqs`` normalisation (the ladder's :math:`d_j` copies summed:
    :math:`\sum_i P_i = 1`). Built by :meth:`BlockSolver.battery_populations`.
    """

    n_battery: int
    q: np.ndarray  # per label: battery ladder
    k: np.ndarray  # per label: up spins
    initial: np.ndarray  # P at t = 0
    dense: object  # DenseOutput of P, or None if the state does not move
    speed: float  # ||L rho(0)||_1 >= ||rho'(t)||_1 for all t >= 0
    curvature: float  # ||L^2 rho(0)||_1 >= ||rho''(t)||_1 for all t >= 0
    n_terms: int  # Chebyshev terms of the sweep (round-off allowance)
    horizon: float

    def __call__(self, times) -> np.ndarray:
        """Populations at ``times`` (within ``[0, horizon]``), shape ``(n_times, n_labels)``."""
        times = np.atleast_1d(np.asarray(times, dtype=float))
        if self.dense is None:
            return np.broadcast_to(self.initial, (times.size, self.initial.size)).copy()
        return self.dense(times).T


@dataclass
class BlockObservables:
    """What :meth:`BlockSolver.observables` reads off one sweep (arrays over ``times``)."""

    times: np.ndarray
    battery_energy: np.ndarray  # E_B(t) = tr[H_B rho(t)]
    charger_energy: np.ndarray  # E_C(t) = tr[H_C rho(t)]
    sector_weights: dict  # {K: tr[Pi_K rho(t)]}


@dataclass
class _Run:
    energy: np.ndarray
    initial_energy: float
    initial_rate: float
    sectors: dict
    charger_energy: np.ndarray
    battery_states: list | None
    dimension: int
    generator: str = "csr"


def charge_blocks(
    model: CentralSpinModel, psi0, tlist, processes, *, e_ops=None, options=None, coupling=None
) -> ChargingResult:
    """Functional form of :meth:`BlockSolver.solve` (used by :func:`charge`)."""
    return BlockSolver(model, processes).solve(
        psi0, tlist, e_ops=e_ops, options=options, coupling=coupling
    )
