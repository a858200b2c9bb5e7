"""The exact closed engine of the cavity (Tavis-Cummings) charger.

One tridiagonal sector per excitation number :math:`K = m + k` (no photon truncation).
"""

from __future__ import annotations

import numpy as np
import qutip
import scipy.sparse as sp

from ..models.cavity import CavityModel, CavityState, cavity_fock_state, check_cavity_model
from ..models.operators import ladder_up
from ..models.states import NORM_ATOL, validate_state
from .sector import SectorEvolution
from .sectors import Sector, SectorBasis

__all__ = [
    "CavityEngine",
    "CavityBasis",
    "CavityEvolution",
]


# -- the exact engine -----------------------------------------------------------------------
class CavityEngine:
    r"""Exact diagonalisation of the Tavis-Cummings :math:`H` per excitation sector.

    Sectors (size :math:`\le N_B + 1`) are built lazily and cached on the instance.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.models.cavity import CavityModel
    >>> from qutip_centralspin.solvers.cavity_engine import CavityEngine
    >>> evo = CavityEngine(CavityModel(n_battery=3, omega=1.0, g=1.0)).evolve((0, 3))
    >>> [round(float(e), 6) + 0.0 for e in evo.delta_energy(np.array([0.0, 0.3]))]
    [0.0, 0.700103]
    """

    def __init__(self, model: CavityModel):
        check_cavity_model(model)
        self.model = model
        self._sectors: dict[int, Sector] = {}  # shared by the CavityBasis of every state

    def basis(self, n_photons: int) -> CavityBasis:
        """The sector basis with photon levels ``0 .. n_photons - 1`` (cache shared)."""
        return CavityBasis(self.model, n_photons, self._sectors)

    def sector(self, k: int) -> Sector:
        """The sector with ``k = m + photons`` excitations (any ``k >= 0``)."""
        return self.basis(1).sector(k)

    def evolve(self, state) -> CavityEvolution:
        """Prepare the exact evolution of ``state``.

        Parameters
        ----------
        state : CavityState, Qobj or tuple
            * a :class:`CavityState` (:func:`cavity_fock_state`, :func:`cavity_coherent_state`,
              :func:`cavity_thermal_state`), whose neglected weight is carried along;
            * a ket or density matrix on ``dims [[N_B+1, D], ...]`` (photon index = number);
            * ``(m, k)``: the Fock product :math:`|m\\rangle|k\\rangle`.
        """
        neglected = 0.0
        if isinstance(state, tuple):
            if len(state) != 2:
                raise ValueError(f"a Fock label must be (m, k), got {state!r}")
            state = cavity_fock_state(self.model, state[1], m=state[0])
        if isinstance(state, CavityState):
            neglected = state.neglected_weight
            state = state.state
        if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
            raise TypeError(
                f"state must be a CavityState, a ket/density-matrix Qobj or (m, k), "
                f"got {type(state).__name__}"
            )
        dims = state.dims[0]
        nb1 = self.model.n_battery + 1
        if len(dims) != 2 or dims[0] != nb1 or (state.isoper and state.dims[1] != dims):
            raise ValueError(f"state must have dims [[{nb1}, D], ...], got {state.dims}")
        # a truncated photon state lacks exactly its neglected weight (not renormalised)
        validate_state(state, "state", norm_atol=NORM_ATOL + neglected)
        d_in = dims[1]
        space = self.basis(d_in + self.model.n_battery)
        data = state.full()
        if state.isket:
            vec = np.zeros((nb1, space.n_photons), dtype=complex)
            vec[:, :d_in] = data.reshape(nb1, d_in)
            return CavityEvolution(space, vec.ravel(), is_ket=True, neglected_weight=neglected)
        rho = np.zeros((nb1, space.n_photons, nb1, space.n_photons), dtype=complex)
        rho[:, :d_in, :, :d_in] = data.reshape(nb1, d_in, nb1, d_in)
        flat = rho.reshape(nb1 * space.n_photons, -1)
        return CavityEvolution(space, flat, is_ket=False, neglected_weight=neglected)


class CavityBasis(SectorBasis):
    r"""Battery Dicke levels (``jmat`` order) times photon numbers :math:`0, \dots, D - 1`.

    A sector basis.

    The photon space is padded to hold every sector an input state reaches (``D`` = input
    levels + :math:`N_B`), so nothing leaks out of it.
    """

    def __init__(self, model: CavityModel, n_photons: int, cache: dict | None = None):
        super().__init__(model, cache)
        self.n_photons = int(n_photons)
        self.charger_labels = np.arange(self.n_photons)  # photon index = photon number

    def charger_index(self, k):
        return np.asarray(k)

    def tridiagonal(self, k: int):
        r""":math:`H_{mm} = B(m - N_B/2) + \omega(K - m)`,
        :math:`H_{m+1,m} = g\langle S^+\rangle\sqrt{K - m}`."""
        mod = self.model
        nb = mod.n_battery
        if k < 0:
            raise ValueError(f"sector k must be >= 0, got {k}")
        m = np.arange(0, min(nb, k) + 1)
        photons = k - m
        diag = mod.B * (m - nb / 2) + mod.omega * photons
        off = mod.g * ladder_up(nb / 2, m[:-1] - nb / 2) * np.sqrt(photons[:-1])
        return m, photons, diag, off


class CavityEvolution(SectorEvolution):
    r"""Exact evolution of one cavity initial state (see :class:`SectorEvolution`).

    ``battery_energy``, ``delta_energy``, ``power``, ``derivative_bound``,
    ``reduced_battery_matrices`` ... behave as for the spin charger.

    Attributes
    ----------
    neglected_weight : float
        Photon weight :math:`\varepsilon` cut off by the initial state's truncation.
    energy_error_bound : float
        :math:`\varepsilon|B|N_B`: bound on :math:`|\Delta E_B^{exact} - \Delta E_B|` at every
        time (the power error is at most this over ``t``).
    n_photons : int
        Photon levels ``D`` of :meth:`states` (input levels + ``N_B``: no leakage).
    """

    def __init__(self, space: CavityBasis, data, *, is_ket: bool, neglected_weight: float):
        super().__init__(space, data, is_ket=is_ket)
        self.neglected_weight = float(neglected_weight)
        self.energy_error_bound = self.neglected_weight * abs(self.model.B) * self.model.n_battery
        self.n_photons = space.n_photons

    def propagator(self, t: float) -> sp.csr_matrix:
        r""":math:`e^{-iHt}` on the occupied sectors (identity elsewhere), QuTiP ordering."""
        eng = self.engine
        dim = self._data.shape[0]
        occupied = {comp[0].k for comp in self._components}
        rows, cols, vals = [], [], []
        covered = np.zeros(dim, dtype=bool)
        for k in sorted(occupied):
            sec = eng.sector(k)
            if sec.n.max() >= self.n_photons:
                continue  # cannot happen for states built by evolve(); guard only
            u = (sec.vectors * np.exp(-1j * sec.energies * t)) @ sec.vectors.T
            idx = eng.full_index(sec.m, sec.n)
            covered[idx] = True
            rows.append(np.repeat(idx, idx.size))
            cols.append(np.tile(idx, idx.size))
            vals.append(u.ravel())
        rest = np.flatnonzero(~covered)
        rows.append(rest)
        cols.append(rest)
        vals.append(np.ones(rest.size, dtype=complex))
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(dim, dim)
        )

    def states(self, t) -> list[qutip.Qobj]:
        """States at ``t`` on ``dims [[N_B+1, D], ...]`` with ``D =`` :attr:`n_photons`."""
        shape = [self.model.n_battery + 1, self.n_photons]
        out = []
        for tt in np.atleast_1d(np.asarray(t, dtype=float)):
            u = self.propagator(tt)
            if self.is_ket:
                out.append(qutip.Qobj(u @ self._data, dims=[shape, [1, 1]]))
            else:
                rho = u @ (u @ self._data).conj().T
                out.append(qutip.Qobj(rho, dims=[shape, shape]))
        return out
