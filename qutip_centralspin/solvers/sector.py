r"""Exact closed-system engine on the U(1) excitation sectors.

:math:`H` conserves :math:`K = m + n` (battery plus charger excitations). In the Dicke product
basis the sector :math:`K` is spanned by :math:`|m, K - m\rangle`,
:math:`\max(0, K - N) \le m \le \min(N_B, K)`, and :math:`H` restricted to it is the real
symmetric tridiagonal matrix of the recurrence (17):

.. math::

    H_{mm} = w_{m,K-m}, \qquad
    H_{m+1,m} = A\sqrt{b_{N_B,m+1}\, b_{N,K-m}},

of size at most :math:`\min(N_B, N) + 1`. Each sector is diagonalised once with
LAPACK (``dstevd``, see :func:`.sectors.eigh_tridiagonal`); any time is then reached in one step, with
no time stepping.

The battery energy only needs the sector-diagonal blocks of the state (:math:`S^z` and
:math:`H` are both block-diagonal), so a state enters as a list of *components*: per sector,
a matrix :math:`C_K` with :math:`\rho_{KK} = C_K C_K^\dagger` (one column for a ket). They are
read from the nonzero entries of the state (:mod:`qutip_centralspin.models.statedata`), so a sparse
``Qobj`` (e.g. :func:`~qutip_centralspin.dicke_state` at :math:`10^9` dimensions) is never
densified; the certified maxima then work on the spectral form of
:mod:`~qutip_centralspin.solvers.spectral`, at the cost of the occupied eigenstates.

One module because SectorEvolution is one object: the spectral form of E_B(t), its rigorous
derivative bounds and the reduced battery state all read the same occupied eigen-components.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import NamedTuple

import numpy as np
import qutip
import scipy.sparse as sp

from ..models.operators import check_model, diagonal_energy, ladder_down, ladder_up
from ..models.spin import CentralSpinModel
from ..models.states import check_state
from .sectors import EMPTY_SECTOR_WEIGHT, Sector, SectorBasis, mixture_weights
from .spectral import SpectralTerms

__all__ = ["SectorEngine", "SectorEvolution"]


class SectorEngine(SectorBasis):
    r"""Exact diagonalisation of :math:`H` sector by sector (closed system), on the Dicke
    product basis :math:`|m, n\rangle` (a :class:`~.sectors.SectorBasis`).

    Parameters
    ----------
    model : CentralSpinModel

    Notes
    -----
    Sectors are diagonalised lazily and kept on the instance (no global cache): reuse one
    engine for many initial states of the same model.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.solvers import SectorEngine
    >>> engine = SectorEngine(CentralSpinModel(n_battery=4, n_charger=10))
    >>> evo = engine.evolve((0, 10))          # the Dicke state |m=0, n=10>
    >>> [round(float(e), 6) + 0.0 for e in evo.delta_energy(np.array([0.0, 0.2]))]
    [0.0, 1.68189]
    """

    def __init__(self, model: CentralSpinModel):
        super().__init__(check_model(model))
        nc = model.n_charger
        self.charger_labels = np.arange(nc, -1, -1)  # jmat order: |n> at index N - n

    def charger_index(self, n):
        return self.model.n_charger - np.asarray(n)

    def tridiagonal(self, k: int):
        r"""Sector ``k``: :math:`H_{mm} = w_{m,k-m}`, :math:`H_{m+1,m} =
        A\langle S^+\rangle\langle J^-\rangle = A\sqrt{b_{N_B,m+1} b_{N,k-m}}` (Eq. 17)."""
        mod = self.model
        nb, nc = mod.n_battery, mod.n_charger
        if not 0 <= k <= nb + nc:
            raise ValueError(f"sector k must be in [0, {nb + nc}], got {k}")
        m = np.arange(max(0, k - nc), min(nb, k) + 1)
        n = k - m
        sz, jz = m - nb / 2, n - nc / 2
        off = mod.A * ladder_up(nb / 2, sz[:-1]) * ladder_down(nc / 2, jz[:-1])
        return m, n, diagonal_energy(mod, sz, jz), off

    # -- states ----------------------------------------------------------------------------
    def evolve(self, state) -> SectorEvolution:
        """Prepare the exact evolution of ``state``.

        Parameters
        ----------
        state : Qobj, tuple or dict
            * a ket or density matrix ``Qobj`` on the model's dims (any Dicke-basis state:
              superpositions and mixtures across sectors included), read from its nonzero
              entries: a sparse ``Qobj`` such as :func:`~qutip_centralspin.dicke_state` is
              never densified;
            * ``(m, n)``: the Dicke product state :math:`|m, n\\rangle`;
            * ``{(m, n): amplitude, ...}``: a superposition (normalised here).
        """
        if isinstance(state, tuple):
            state = {state: 1.0}
        if isinstance(state, dict):
            # Dicke labels need no full-space vector: go straight to the sector blocks
            return SectorEvolution(self, None, is_ket=True, blocks=self._label_blocks(state))
        check_state(self.model, state, "state")
        return self.state_evolution(state, SectorEvolution)

    def evolve_mixture(self, populations: dict) -> SectorEvolution:
        r"""The exact evolution of a mixture of Dicke product states, without the full space.

        :math:`\rho = \sum p_{mn}|m, n\rangle\langle m, n|` (normalised here), e.g. a battery
        Dicke state with a charger diagonal in :math:`J^z` (a Gibbs state of :math:`hJ^z`).
        Enters the engine as its sector blocks, one column per label: no coherences between
        sectors, nothing of full-space size is built.

        Parameters
        ----------
        populations : dict
            ``{(m, n): p}`` with ``p >= 0``, not all zero.

        Examples
        --------
        >>> from qutip_centralspin import CentralSpinModel
        >>> from qutip_centralspin.solvers import SectorEngine
        >>> evo = SectorEngine(CentralSpinModel(1, 2)).evolve_mixture({(0, 2): 0.5, (0, 0): 0.5})
        >>> evo.is_ket, sorted(evo.sector_weights)
        (False, [0, 2])
        """
        weights, total = mixture_weights(populations)
        columns: dict[int, list] = {}
        for key, p in weights.items():
            block = self._label_blocks({key: 1.0})  # validates the label
            ((k, column),) = block.items()
            columns.setdefault(k, []).append(column * math.sqrt(p / total))
        blocks = {k: np.hstack(cols) for k, cols in columns.items()}
        return SectorEvolution(self, None, is_ket=False, blocks=blocks)

    def _label_blocks(self, amplitudes: dict) -> dict[int, np.ndarray]:
        """Normalised sector blocks of ``{(m, n): amplitude}`` (real if every amplitude is)."""
        nb, nc = self.model.n_battery, self.model.n_charger
        norm = math.sqrt(sum(abs(a) ** 2 for a in amplitudes.values()))  # labels are distinct
        if norm == 0:
            raise ValueError("the superposition has zero norm")
        real = all(isinstance(a, numbers.Real) for a in amplitudes.values())
        blocks: dict[int, np.ndarray] = {}
        for key, amp in amplitudes.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ValueError(f"Dicke labels must be (m, n) tuples, got {key!r}")
            m, n = key
            if not (_is_count(m) and _is_count(n) and m <= nb and n <= nc):
                raise ValueError(
                    f"Dicke label (m, n) must be integers with 0 <= m <= {nb}, "
                    f"0 <= n <= {nc}, got {key!r}"
                )
            sec = self.sector(int(m + n))
            block = blocks.get(sec.k)
            if block is None:
                block = blocks[sec.k] = np.zeros((sec.size, 1), dtype=float if real else complex)
            block[int(m) - int(sec.m[0]), 0] = amp / norm
        return blocks


def _is_count(x) -> bool:
    """A non-negative integer (``bool`` excluded)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool) and x >= 0


class _Component(NamedTuple):
    """One occupied sector of the initial state."""

    sector: Sector
    coeff: np.ndarray  # eigenbasis amplitudes V^T C_K, shape (d, r)
    z: np.ndarray  # H_B on the sector's basis (SectorBasis.battery_energies)
    weight: float  # population of the sector
    terms: SpectralTerms  # the spectral form of its E_B(t)


class SectorEvolution:
    r"""Exact time evolution of one initial state; evaluate at any times, in any order.

    Created by :meth:`SectorEngine.evolve` (or :meth:`SectorEngine.evolve_mixture`). All
    energies follow Eq. (2)-(3) with :math:`\hbar = 1`; ``t`` may be any array of
    non-negative times. A density matrix given by its sector ``blocks`` alone (``data=None``,
    ``is_ket=False``) has no coherences between sectors.
    """

    def __init__(
        self,
        engine: SectorBasis,
        data: np.ndarray | None,
        *,
        is_ket: bool,
        blocks: dict | None = None,
        source: qutip.Qobj | None = None,
        dm_entries: tuple[np.ndarray, np.ndarray] | None = None,
    ):
        self.engine = engine
        self.model = engine.model
        self.is_ket = is_ket
        self._full = data
        self._source = source  # the Qobj given, for _data
        if blocks is None:
            if is_ket:
                vector = np.asarray(data).ravel()
                index = np.flatnonzero(vector)
                blocks = engine.ket_blocks(index, vector[index])
            else:
                rows, cols = np.nonzero(data)
                dm_entries = engine.operator_support(rows, cols, data[rows, cols])
                blocks = engine.dm_blocks(*dm_entries)
        self._dm_entries = dm_entries
        self._bounds: dict[int, float] = {}  # derivative_bound by order
        # _summary: (highest reachable E_B, energy scale, largest Bohr frequency)
        self._components, self.initial_energy, self._summary = self._components_of(blocks)

    @property
    def _data(self) -> np.ndarray:
        """The initial state as a full-space array (built on demand: never on the paths of
        :meth:`battery_energy` and the certified maxima)."""
        if self._full is None:
            if self._source is not None:
                full = self._source.full()
                self._full = full.ravel() if self.is_ket else full
            elif self._dm_entries is not None:
                support, sub = self._dm_entries
                dim = self.engine.shape
                rho = np.zeros((dim, dim), dtype=complex)
                rho[np.ix_(support, support)] = sub
                self._full = rho
            elif not self.is_ket:  # given as sector blocks: sum_K C_K C_K^dagger
                dim = self.engine.shape
                rho = np.zeros((dim, dim), dtype=complex)
                for comp in self._components:
                    sec = comp.sector
                    idx = self.engine.sector_indices(sec)
                    block = sec.vectors @ comp.coeff
                    rho[np.ix_(idx, idx)] = block @ block.conj().T
                self._full = rho
            else:
                vec = np.zeros(self.engine.shape, dtype=complex)
                for comp in self._components:
                    sec = comp.sector
                    vec[self.engine.sector_indices(sec)] = sec.vectors @ comp.coeff[:, 0]
                self._full = vec
        return self._full

    def _components_of(self, blocks: dict) -> tuple[list, float, tuple[float, float, float]]:
        """Per occupied sector a :class:`_Component`; E_B(0); and
        ``(sum_K w_K max z_K, sum_K w_K max|z_K|, max_K spread of the levels)``.

        E_B(0) = sum_K z_K . diag(C_K C_K^dagger): the rows of the blocks are the sector's
        basis states, z_K the diagonal of H_B on them (SectorBasis.battery_energies).
        """
        eng = self.engine
        comps, energy = [], 0.0
        top = scale = spread = 0.0  # for energy_ceiling, energy_scale, max_frequency
        for k in sorted(blocks):
            block = blocks[k]
            sec = eng.sector(int(k))
            populations = np.abs(block[:, 0] if block.shape[1] == 1 else block)
            populations *= populations
            if populations.ndim == 2:
                populations = populations.sum(axis=1)
            weight = float(populations.sum())
            if weight <= EMPTY_SECTOR_WEIGHT:
                continue
            coeff = sec.vectors.T @ block  # eigenbasis amplitudes, (d, r)
            z = eng.battery_energies(sec)
            comps.append(_Component(sec, coeff, z, weight, SpectralTerms(sec, coeff, z, weight)))
            energy += float(z @ populations)
            top += weight * float(z.max())
            scale += weight * float(np.abs(z).max())
            spread = max(spread, float(sec.energies[-1] - sec.energies[0]))
        return comps, energy, (top, scale, spread)

    # -- observables -----------------------------------------------------------------------
    def battery_energy(self, t) -> np.ndarray:
        r""":math:`E_B(t) = \langle B S^z\rangle` at the times ``t`` (Eq. 2)."""
        return self._energy(np.atleast_1d(np.asarray(t, dtype=float)))

    def _energy(self, t: np.ndarray) -> np.ndarray:
        """E_B on a 1-D float array (the hot path of the certified maxima: few numpy calls)."""
        out = np.zeros(t.shape)
        for comp in self._components:
            out += comp.terms.energy(t)
        return out

    def delta_energy(self, t) -> np.ndarray:
        """Stored energy :math:`\\Delta E_B(t) = E_B(t) - E_B(0)`."""
        return self.battery_energy(t) - self.initial_energy

    def power(self, t) -> np.ndarray:
        """Average power :math:`P_B(t) = \\Delta E_B(t)/t` (Eq. 3); at ``t = 0`` its limit."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        pos = t > 0
        if pos.all():
            return (self._energy(t) - self.initial_energy) / t
        out = np.empty(t.shape)
        out[pos] = (self._energy(t[pos]) - self.initial_energy) / t[pos]
        out[~pos] = self._initial_rate
        return out

    def initial_rate(self) -> float:
        """:math:`\\dot E_B(0) = \\lim_{t\\to0} P_B(t)` (exactly 0 for a Dicke product state)."""
        return self._initial_rate

    def energy_derivatives(self, t: float) -> tuple[float, float, float, float]:
        """:math:`E_B` and its first three time derivatives at one time ``t``.

        :math:`E_B^{(k)}(t) = \\mathrm{Re}\\sum_{ab} M_{ab}(-i\\omega_{ab})^k
        e^{-i\\omega_{ab}t}`, from the spectral form; used by the Newton-type refinement of
        :func:`~qutip_centralspin.max_power`.
        """
        total = np.zeros(4)
        for comp in self._components:
            total += comp.terms.derivatives(float(t))
        e, d1, d2, d3 = total.tolist()
        return e, d1, d2, d3

    def power_derivatives(self, t: float) -> tuple[float, float, float, float]:
        """:math:`P_B` and its first three time derivatives at one time ``t > 0``.

        From :math:`P_B t = \\Delta E_B` differentiated k times,
        :math:`P^{(k)} = (\\Delta E_B^{(k)} - k P^{(k-1)})/t`.
        """
        e, d1, d2, d3 = self.energy_derivatives(t)
        p = (e - self.initial_energy) / t
        p1 = (d1 - p) / t
        p2 = (d2 - 2 * p1) / t
        return p, p1, p2, (d3 - 3 * p2) / t

    @functools.cached_property
    def _initial_rate(self) -> float:
        # d/dt sum_ab M_ab e^{-i omega_ab t} at t = 0 = sum_ab omega_ab Im M_ab (0 if M is real)
        return float(sum(comp.terms.sums["rate"] for comp in self._components))

    # -- certification data ----------------------------------------------------------------
    def derivative_bound(self, order: int) -> float:
        r"""Upper bound on :math:`|d^k E_B/dt^k|` over all t: :math:`\sum |M_{ab}||\omega_{ab}|^k`.

        :math:`E_B(t) = \sum_{ab} M_{ab} e^{-i\omega_{ab}t}` with :math:`\omega_{ab} =
        \lambda_a - \lambda_b` per sector, so this bound is rigorous (the pairs of dropped
        negligible amplitudes enter through :meth:`truncation_bound`).
        """
        bound = self._bounds.get(order)
        if bound is None:
            bound = float(
                sum(c.terms.moment(order) + c.terms.truncation(order) for c in self._components)
            )
            self._bounds[order] = bound
        return bound

    def truncation_bound(self, order: int) -> float:
        """Bound on the error of :math:`E_B^{(k)}(t)`, ``order`` = k, at any t from the
        eigenstates of negligible amplitude the spectral form leaves out
        (:mod:`~qutip_centralspin.solvers.spectral`); 0 on small sectors."""
        return float(sum(comp.terms.truncation(order) for comp in self._components))

    def oscillation_amplitude(self) -> float:
        r""":math:`\sum_{\omega_{ab} \ne 0}|M_{ab}|`: bound on
        :math:`|E_B(t) -` :meth:`time_average_energy` :math:`|` (with twice the truncation
        bound, which covers the time average's own).

        Zero (to round-off) for a stationary state: an eigenstate, or a mixture of them.
        """
        return float(
            sum(c.terms.sums["oscillation"] + 2 * c.terms.truncation(0) for c in self._components)
        )

    def energy_scale(self) -> float:
        """:math:`\\sum_K w_K \\max |z_K|` (:math:`z_K` the diagonal of :math:`H_B` on sector
        :math:`K`, :math:`B(m - N_B/2)` for one battery field): the size of :math:`E_B` for
        round-off."""
        return self._summary[1]

    def max_frequency(self) -> float:
        """Largest Bohr frequency present in :math:`E_B(t)` (0 for a stationary state)."""
        return self._summary[2]

    def energy_ceiling(self) -> float:
        """Rigorous upper bound on :math:`\\Delta E_B(t)`: each sector keeps its population.

        :math:`\\Delta E_B \\le \\sum_K w_K \\max z_K - E_B(0)`, :math:`z_K` the diagonal of
        :math:`H_B` on sector :math:`K` (:math:`B(m - N_B/2)` for one battery field).
        """
        return self._summary[0] - self.initial_energy

    # -- states ----------------------------------------------------------------------------
    def propagator(self, t: float) -> sp.csr_matrix:
        """:math:`U(t) = e^{-iHt}` as a sparse matrix in QuTiP (``jmat``) ordering."""
        mod, eng = self.model, self.engine
        rows, cols, vals = [], [], []
        for k in range(mod.n_battery + mod.n_charger + 1):
            sec = eng.sector(k)
            u = (sec.vectors * np.exp(-1j * sec.energies * t)) @ sec.vectors.T
            idx = eng.sector_indices(sec)
            rows.append(np.repeat(idx, idx.size))
            cols.append(np.tile(idx, idx.size))
            vals.append(u.ravel())
        dim = mod.shape
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(dim, dim)
        )

    def states(self, t) -> list[qutip.Qobj]:
        """The states at the times ``t`` as ``Qobj`` on the model's dims (kets or operators).

        Kets are assembled sector by sector for all times at once; density matrices use
        :meth:`propagator` once per time.
        """
        times = np.atleast_1d(np.asarray(t, dtype=float))
        if not self.is_ket:
            out = []
            for tt in times:
                u = self.propagator(tt)
                rho = u @ (u @ self._data).conj().T  # U (U rho)^dagger = U rho U^dagger
                out.append(qutip.Qobj(rho, dims=self.model.dims))
            return out
        vectors = np.zeros((self.model.shape, times.size), dtype=complex)
        for sec, coeff, *_ in self._components:
            idx = self.engine.sector_indices(sec)
            phases = np.exp(-1j * np.outer(sec.energies, times))
            vectors[idx] = sec.vectors @ (phases * coeff[:, :1])
        dims = self.model.ket_dims
        return [qutip.Qobj(vectors[:, i : i + 1], dims=dims) for i in range(times.size)]

    @property
    def occupied_sectors(self) -> list[Sector]:
        """The excitation sectors the initial state occupies (ascending ``k``)."""
        return [comp[0] for comp in self._components]

    @property
    def has_sector_coherences(self) -> bool:
        """Whether rho_B(t) can hold coherences: a ket, or a density matrix with coherences
        between excitation sectors."""
        return self.is_ket or self._dm_columns() is not None

    @property
    def battery_diagonal(self) -> bool:
        r"""Whether :math:`\rho_B(t)` is diagonal at all times: a density matrix without
        coherences between sectors, on sectors where each battery level appears once
        (:attr:`~qutip_centralspin.solvers.sectors.SectorBasis.battery_label_unique`)."""
        return not self.is_ket and self.engine.battery_label_unique and self._dm_columns() is None

    @property
    def sector_weights(self) -> dict[int, float]:
        """Population of each occupied excitation sector ``{k: weight}``."""
        return {comp.sector.k: comp.weight for comp in self._components}

    # -- reduced battery state (added for ergotropy / entanglement) ------------------------
    def reduced_battery_matrices(self, t) -> np.ndarray:
        r"""Battery reduced states :math:`\rho_B(t) = \mathrm{tr}_C\,\rho(t)` as an array.

        Parameters
        ----------
        t : float or array_like
            Times :math:`\ge 0`.

        Returns
        -------
        ndarray, shape ``(len(t), N_B + 1, N_B + 1)``
            :math:`\rho_B(t)` in ``qutip.jmat`` ordering (the paper's :math:`|m\rangle` at index
            ``N_B - m``).

        Notes
        -----
        Evolved sector by sector, never through a full-space propagator:

        * a ket: :math:`\psi_K(t) = V_K e^{-iE_K t} V_K^T \psi_K(0)` per occupied sector, then
          :math:`\rho_B = M M^\dagger` with :math:`M_{m,c} = \langle m, c|\psi(t)\rangle`;
        * a density matrix without coherences between sectors (e.g. a thermal charger): each
          sector-bound column keeps its charger label tied to :math:`m` (where the sectors
          hold each battery level once), so :math:`\rho_B(t)` is *diagonal* and only sector
          populations are evolved; otherwise each column is evolved as a ket in its sector;
        * a density matrix with coherences between sectors: :math:`\rho(0) = LL^\dagger` is
          factorised once (``eigh`` on the occupied indices, the size of the density matrix
          itself) and each column evolved as a ket.
        """
        t = np.atleast_1d(np.asarray(t, dtype=float))
        nb1 = self.model.n_battery + 1
        out = np.zeros((t.size, nb1, nb1), dtype=complex)
        if self.is_ket:
            columns = [[(comp[0], comp[1][:, 0]) for comp in self._components]]
        else:
            columns = self._dm_columns()
            if columns is None and self.engine.battery_label_unique:
                return self._diagonal_reduced(t, out)  # sector-block-diagonal: rho_B diagonal
            if columns is None:  # one ket per column of each sector block
                columns = [
                    [(comp[0], column)] for comp in self._components for column in comp[1].T
                ]
        dim = self.engine.shape
        chunk = max(1, int(4_000_000 // max(dim, 1)))
        for start in range(0, t.size, chunk):
            tt = t[start : start + chunk]
            for column in columns:
                psi = np.zeros((tt.size, dim), dtype=complex)
                for sec, c0 in column:
                    idx = self.engine.sector_indices(sec)
                    phases = np.exp(-1j * np.outer(tt, sec.energies))
                    psi[:, idx] = (phases * c0[None, :]) @ sec.vectors.T
                mat = psi.reshape(tt.size, nb1, dim // nb1)
                out[start : start + chunk] += mat @ mat.conj().transpose(0, 2, 1)
        return out

    def reduced_battery_state(self, t):
        r""":math:`\rho_B(t)` as ``Qobj`` (dims ``[[N_B+1], [N_B+1]]``); a list for an array ``t``.

        See :meth:`reduced_battery_matrices` for the method.
        """
        nb1 = self.model.n_battery + 1
        mats = self.reduced_battery_matrices(t)
        states = [qutip.Qobj(r, dims=[[nb1], [nb1]]) for r in mats]
        return states[0] if np.ndim(t) == 0 else states

    def _diagonal_reduced(self, t, out):
        nb = self.model.n_battery
        for comp in self._components:
            sec, coeff = comp[0], comp[1]  # the sector and its eigenbasis amplitudes
            phases = np.exp(-1j * np.outer(t, sec.energies))  # (T, d)
            for col in coeff.T:
                amp = (phases * col[None, :]) @ sec.vectors.T  # (T, d) over m of the sector
                idx = nb - sec.m
                out[:, idx, idx] += amp.real**2 + amp.imag**2
        return out

    def _dm_columns(self):
        """Ket columns of a density matrix with inter-sector coherences (``None`` if it has none)."""
        if hasattr(self, "_columns_cache"):
            return self._columns_cache
        eng = self.engine
        if self._dm_entries is None:  # a ket given as a density matrix cannot happen; be safe
            self._columns_cache = None
            return None
        support, rho = self._dm_entries
        occ = np.flatnonzero(np.real(np.diagonal(rho)) > EMPTY_SECTOR_WEIGHT)
        sub = rho[np.ix_(occ, occ)]
        exc = eng.excitations_of(support[occ])
        cross = exc[:, None] != exc[None, :]
        scale = float(np.abs(sub).max()) if sub.size else 0.0
        if not cross.any() or float(np.abs(sub[cross]).max()) <= 1e-15 * scale:
            self._columns_cache = None
            return None
        p, w = np.linalg.eigh((sub + sub.conj().T) / 2)
        keep = p > p.max() * 1e-14
        factor = w[:, keep] * np.sqrt(p[keep])
        columns = []
        for col in factor.T:
            column = []
            for k in np.unique(exc).tolist():
                sec = eng.sector(k)
                mine = exc == k
                block = np.zeros(sec.size, dtype=complex)
                block[eng.positions(sec, support[occ][mine])] = col[mine]
                if np.any(block):
                    column.append((sec, sec.vectors.T @ block))
            columns.append(column)
        self._columns_cache = columns
        return columns

    def state_derivative_bound(self, order: int) -> float:
        r"""Upper bound on :math:`\|d^k\rho/dt^k\|_1` (trace norm), ``k = 1, 2``, for all t.

        :math:`d^k\rho/dt^k = (-i)^k\mathrm{ad}_H^k\rho(t)` has a time-independent trace norm
        (unitary invariance). Written :math:`\rho = \sum_j v_jv_j^\dagger` (one ket; or the
        columns of each sector block when there are no coherences between sectors; or the
        factor of a density matrix with them), each column with
        :math:`p = \|v\|^2`, mean :math:`\mu = \langle H\rangle_v/p` and central moments
        :math:`c_q = \sum_a|v_a|^2(\lambda_a - \mu)^q` gives (:math:`H' = H - \mu`)

        * ``k = 1``: :math:`\|[H, vv^\dagger]\|_1 = 2\sqrt{p c_2}` (exact for one column);
        * ``k = 2``: :math:`\|[H, [H, vv^\dagger]]\|_1 \le 2\|H'^2v\|\|v\| + 2\|H'v\|^2
          = 2\sqrt{p c_4} + 2c_2`,

        summed over the columns (triangle inequality). Used to certify the maximum of the
        ergotropy (:func:`qutip_centralspin.maxima.ergotropy.max_ergotropy`).
        """
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        if self.is_ket:
            columns = [[(comp[0], comp[1][:, 0]) for comp in self._components]]
        else:
            columns = self._dm_columns()
            if columns is None:  # sector-block-diagonal: every column stays in its sector
                columns = [[(comp[0], col)] for comp in self._components for col in comp[1].T]
        total = 0.0
        for column in columns:
            energies = np.concatenate([sec.energies for sec, _ in column])
            weights = np.concatenate([np.abs(c) ** 2 for _, c in column])
            p = float(weights.sum())
            if p == 0:
                continue
            dev = energies - float(weights @ energies) / p
            c2 = float(weights @ dev**2)
            if order == 1:
                total += 2 * math.sqrt(p * c2)
            else:
                total += 2 * math.sqrt(p * float(weights @ dev**4)) + 2 * c2
        return total

    # -- certification data for the maxima (issue 12) ---------------------------------------
    def time_average_energy(self) -> float:
        r""":math:`\bar E_B = \sum_{\omega_{ab} = 0} M_{ab}`: the time average of :math:`E_B(t)`.

        With :meth:`oscillation_amplitude` it bounds the stored energy for all times:
        :math:`\Delta E_B(t) \le \bar E_B - E_B(0) + \sum_{\omega_{ab} \ne 0}|M_{ab}|`.
        """
        return float(sum(comp.terms.sums["mean"] for comp in self._components))

    def coherence(self) -> float:
        r""":math:`\sum_{\omega_{ab} \ne 0} |\rho_{ab}|` in the energy eigenbasis (trace 1).

        Zero for a stationary state; of the order of the machine epsilon for a state that is
        stationary up to the rounding of its own representation (a Gibbs state, an eigenstate
        given as a ``Qobj``). Unlike :meth:`oscillation_amplitude` it does not scale with
        :math:`B`, so it tells such a state from one whose motion is real but too small to show
        in :math:`E_B`. (An upper bound when negligible amplitudes were dropped.)
        """
        return float(
            sum(c.terms.coherence + c.terms.coherence_truncation() for c in self._components)
        )

    def max_level(self) -> float:
        """:math:`\\max_a |\\lambda_a|` over the occupied sectors: the largest phase rate.

        The phases :math:`\\lambda_a t` are rounded to about :math:`\\epsilon|\\lambda_a t|`,
        which sets the round-off of :math:`E_B(t)` at long times.
        """
        # energies ascend: the largest modulus is at one end
        ends = [
            max(-float(sec.energies[0]), float(sec.energies[-1])) for sec in self.occupied_sectors
        ]
        return max(ends, default=0.0)

    def rescaled(self, exponent: int) -> SectorEvolution:
        """The same initial state under :math:`2^{k} H` (``B, h, A, delta`` times :math:`2^k`).

        Energies scale by :math:`2^k` and times by :math:`2^{-k}`, exactly (a power of two);
        used by :mod:`qutip_centralspin.maxima.certified` to bring extreme parameters into the range where
        the derivative bounds neither overflow nor underflow. Only for a :class:`SectorEngine`.
        """
        if type(self.engine) is not SectorEngine:
            raise TypeError("rescaled() needs an evolution of a SectorEngine")
        mod = self.model
        scaled = mod.replace(
            **{name: math.ldexp(getattr(mod, name), exponent) for name in ("B", "h", "A", "delta")}
        )
        blocks = {sec.k: sec.vectors @ coeff for sec, coeff, *_ in self._components}
        return SectorEvolution(
            SectorEngine(scaled),
            self._full,
            is_ket=self.is_ket,
            blocks=blocks,
            source=self._source,
            dm_entries=self._dm_entries,
        )
