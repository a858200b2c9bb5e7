"""The exact closed engine of the Dicke charger.

Two parity sectors at a photon cutoff chosen by a convergence check (:func:`photon_cutoff`).

One module because the parity-sector engine, its evolution and the photon-cutoff check that
sizes it are used together; the check needs the engine's internals (the top Fock populations).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import numpy as np
import qutip
import scipy.linalg
import scipy.sparse as sp

from .. import _checks
from ..models.dicke import DickeChargerModel, charging_window, check_dicke_model
from ..models.operators import ladder_up
from ..models.states import NORM_ATOL, validate_state
from ..resources import require
from ..results import ChargingResult
from .exact import closed_result
from .sector import SectorEvolution
from .sectors import Sector, SectorBasis

__all__ = [
    "CUTOFF_TOL",
    "DROPPED_WEIGHT",
    "MAX_CUTOFF",
    "CHECK_SAMPLES_PER_PERIOD",
    "CHECK_POINTS",
    "DickeEngine",
    "DickeEvolution",
    "PhotonCutoff",
    "photon_cutoff",
    "OPTIONS",
    "dicke_charge",
]


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
    >>> from qutip_centralspin.models.dicke import DickeChargerModel
    >>> from qutip_centralspin.solvers.dicke_engine import DickeEngine
    >>> model = DickeChargerModel(n_battery=2, omega_c=1.0, omega_a=1.0, coupling=0.1)
    >>> evo = DickeEngine(model, cutoff=30).evolve((0, 2))
    >>> round(float(evo.delta_energy(np.array([5.0]))[0]), 8)
    0.79775278
    """

    #: A parity sector holds every battery level many times (with different photon numbers).
    battery_label_unique = False

    def __init__(self, model: DickeChargerModel, cutoff: int):
        super().__init__(check_dicke_model(model))
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
    :mod:`qutip_centralspin.maxima.certified` behave as for the spin charger (times are elapsed times,
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
    >>> from qutip_centralspin.models.dicke import DickeChargerModel
    >>> from qutip_centralspin.solvers.dicke_engine import photon_cutoff
    >>> model = DickeChargerModel(n_battery=2, omega_c=1.0, omega_a=1.0, coupling=0.1)
    >>> best = photon_cutoff(model)
    >>> best.converged, best.top_population < 1e-10
    (True, True)
    """
    check_dicke_model(model)
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
    >>> from qutip_centralspin.models.dicke import DickeChargerModel
    >>> from qutip_centralspin.solvers.dicke_engine import dicke_charge
    >>> model = DickeChargerModel(n_battery=2, omega_c=1.0, omega_a=1.0, coupling=0.1)
    >>> res = dicke_charge(model, np.linspace(0, 10, 101))
    >>> res.stats["photon cutoff"], round(res.e_max, 4)
    (16, 1.6393)
    """
    start = time.perf_counter()
    check_dicke_model(model)
    times = _checks.time_list("tlist", tlist)
    _checks.solver_options("dicke", options, OPTIONS)  # refused before any work
    evo, info = dicke_evolution(model, state, times=times - times[0], cutoff=cutoff, tol=tol)
    return closed_result(
        model,
        evo,
        times,
        e_ops=e_ops,
        options=options,
        start=start,
        solver=info.pop("solver"),
        method=info.pop("method"),
        **info,
        **{"init time": time.perf_counter() - start},
    )


def dicke_evolution(model, state=None, *, times=None, cutoff=None, tol=CUTOFF_TOL):
    """The exact evolution of ``state`` at the photon cutoff (chosen by :func:`photon_cutoff`
    on ``times`` unless given) and what a result's ``stats`` record about it."""
    check = None
    if cutoff is None:
        check = photon_cutoff(model, state, tlist=times, tol=tol)
        cutoff = check.cutoff
    else:
        cutoff = _checks.int_in_range("cutoff", cutoff, 1, 10**9)
    evo = DickeEngine(model, cutoff).evolve(state)
    return evo, {
        "solver": "dicke",
        "method": "parity-sector diagonalisation (scipy.linalg.eig_banded)",
        "photon cutoff": cutoff,
        "cutoff energy change": None if check is None else check.energy_change,
        "cutoff top population": None if check is None else check.top_population,
        "cutoff converged": None if check is None else check.converged,
        "parity sector size": evo.sector_size,
        "kept components": evo.kept_components,
        "spectral error bound": evo.spectral_error_bound,
    }
