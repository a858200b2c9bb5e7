r"""Exact open-system solver for the cavity (Tavis-Cummings) charger on invariant blocks.

The battery of :math:`N_B` spins is charged by one bosonic mode
(:class:`~qutip_centralspin.models.cavity.CavityModel`),

.. math::

    H = B S^z + \omega a^\dagger a + g\,(S^+ a + S^- a^\dagger),

    \dot\rho = -i[H, \rho] + \sum_k \big(L_k\rho L_k^\dagger
        - \tfrac12\{L_k^\dagger L_k, \rho\}\big),

with the battery processes of :mod:`qutip_centralspin.models.processes` (local or collective
dephasing, decay, pumping; rate = the Lindblad operator it multiplies) and, on the mode,

* cavity loss :math:`L = \sqrt\kappa\,a`: ``decay(kappa, target="charger", scope="collective")``
  (:func:`cavity_loss`), the mode's lowering operator taking the place of :math:`J^-`;
* cavity dephasing :math:`L = \sqrt\gamma\,a^\dagger a`:
  ``dephasing(gamma, target="charger", scope="collective")``.

Photon pumping (:math:`a^\dagger`) and local charger processes have no meaning here (the first
makes the photon number unbounded) and are refused.

This is :class:`~qutip_centralspin.solvers.blocks.BlockSolver` with the charger ladder replaced
by the photon number: the block structure (battery ladders :math:`j = N_B/2 - q`, total
excitation :math:`K = k + n`, :math:`k` up battery spins, :math:`n` photons) and the
Chebyshev propagator are the same. Nothing is truncated: loss and decay only lower
:math:`K`, so a state with at most :math:`K_0` excitations never holds more than :math:`K_0`
photons (:math:`K_0 + N_B` with battery pumping) and the photon space is cut exactly there.

pibs's model (Freter & Fowler-Wright) is the special case
:math:`H = \omega_c a^\dagger a + \frac{\omega_0}{2}\sum_k\sigma^z_k + g\sum_k(a^\dagger
\sigma^-_k + a\sigma^+_k)`, :math:`\kappa L[a] + \sum_k(\gamma L[\sigma^-_k] + \gamma_\phi
L[\sigma^z_k])`: ``CavityModel(N, omega=omega_c, g=g, B=omega_0)`` with
``[cavity_loss(kappa), decay(gamma), dephasing(gamma_phi)]`` (:math:`\sum_k\sigma^z_k/2 = S^z`;
our ``dephasing`` is :math:`L = \sqrt\gamma\,\sigma^z`, the same operator).
"""

from __future__ import annotations

import numpy as np
import qutip

from ..models.cavity import CavityModel, CavityState, cavity_fock_state
from ..models.operators import ladder_down, ladder_up
from ..models.processes import Process, as_processes, decay
from ..models.states import NORM_ATOL, validate_state
from ..results import ChargingResult
from .blocks import BlockSolver
from .cavity_engine import CavityBasis

__all__ = ["CavityBlockSolver", "cavity_loss", "charge_cavity"]


def cavity_loss(kappa: float) -> Process:
    r"""Cavity loss :math:`L = \sqrt\kappa\,a` (photon decay at rate :math:`\kappa`).

    The same :class:`~qutip_centralspin.models.processes.Process` as
    ``decay(kappa, target="charger", scope="collective")``: on a cavity charger the charger's
    collective lowering operator is :math:`a`.
    """
    return decay(kappa, target="charger", scope="collective")


class CavityBlockSolver(BlockSolver):
    r"""Exact Lindblad evolution of a battery charged by a lossy cavity mode.

    Parameters
    ----------
    model : CavityModel
    processes : Process or list of Process
        Battery processes (any), :func:`cavity_loss` and collective charger dephasing
        (:math:`a^\dagger a`); see the module notes.

    Notes
    -----
    ``solve`` takes a :class:`~qutip_centralspin.models.cavity.CavityState`, a ket or density matrix
    on ``dims [[N_B+1, D], ...]`` (photon index = photon number), or a Fock label ``(m, k)``;
    it must be block-diagonal in :math:`K` (Fock states and mixtures of them: e.g.
    :func:`~qutip_centralspin.models.cavity.cavity_thermal_state`). A truncated state's neglected
    weight is carried into the result's ``stats["neglected weight"]``: since every sector
    evolves on its own and loss only moves weight downwards, the exact :math:`\Delta E_B`
    differs by at most that weight times :math:`|B| N_B`.

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin.models.cavity import CavityModel
    >>> from qutip_centralspin.solvers.cavity_blocks import CavityBlockSolver, cavity_loss
    >>> solver = CavityBlockSolver(CavityModel(n_battery=2, omega=1.0, g=0.5), cavity_loss(0.1))
    >>> res = solver.solve((0, 2), np.linspace(0, 1, 5))
    >>> res.solver, res.delta_energy.shape
    ('blocks', (5,))
    """

    def __init__(self, model: CavityModel, processes):
        self._capacity = 0  # photon levels 0..capacity, set by each initial state
        super().__init__(model, processes)
        for p in self.processes:
            if p.target != "charger":
                continue
            if p.scope == "local" or p.kind == "pumping":
                raise ValueError(
                    "a cavity charger takes cavity_loss(kappa) (collective charger decay, "
                    "L = sqrt(kappa) a) and collective charger dephasing (L = sqrt(gamma) a^dag a) "
                    f"only, got {p.kind} ({p.scope}) on the charger"
                )
        self._neglected = 0.0

    @staticmethod
    def _checked_model(model):
        if not isinstance(model, CavityModel):
            raise TypeError(f"model must be a CavityModel, got {type(model).__name__}")
        return model

    def _product_basis(self):
        return CavityBasis(self.model, self._capacity + 1)

    # -- the charger is the photon number ---------------------------------------------
    def _scaled_model(self, lam: float):
        return self.model.replace(g=lam * self.model.g)

    def _share_charger(self, other) -> None:
        self._capacity = other._capacity
        self._basis = other._basis

    @property
    def n_charger(self) -> int:
        """Largest photon number reachable from the current initial state."""
        return self._capacity

    def _charger_labels(self, r, n):
        return None, n

    def _charger_energy(self, charger):
        return self.model.omega * charger[1]

    def _energy(self, sz, charger):
        return self.model.B * sz + self.model.omega * charger[1]

    def _exchange(self, jb, sz, charger):
        n, g = charger[1], self.model.g
        return g * ladder_up(jb, sz) * np.sqrt(n), g * ladder_down(jb, sz) * np.sqrt(n + 1.0)

    def _collective_charger(self, kind, charger):
        n = charger[1]
        return n * 1.0 if kind == "dephasing" else np.sqrt(n * 1.0)

    @property
    def chiral_symmetric(self) -> bool:
        r"""``True`` at resonance :math:`B = \omega` (see :class:`BlockSolver`)."""
        return self.model.B == self.model.omega

    def _check_state(self, psi0) -> qutip.Qobj:
        """Embed psi0 into the photon levels ``0..capacity`` it can reach; set the basis."""
        nb1 = self.model.n_battery + 1
        self._neglected = 0.0
        if isinstance(psi0, tuple):
            if len(psi0) != 2:
                raise ValueError(f"a Fock label must be (m, k), got {psi0!r}")
            psi0 = cavity_fock_state(self.model, psi0[1], m=psi0[0])
        if isinstance(psi0, CavityState):
            self._neglected = psi0.neglected_weight
            psi0 = psi0.state
        if not isinstance(psi0, qutip.Qobj) or not (psi0.isket or psi0.isoper):
            raise TypeError(
                "psi0 must be a CavityState, a ket/density-matrix Qobj or (m, k), "
                f"got {type(psi0).__name__}"
            )
        dims = psi0.dims[0]
        if len(dims) != 2 or dims[0] != nb1 or (psi0.isoper and psi0.dims[1] != dims):
            raise ValueError(f"psi0 must have dims [[{nb1}, D], ...], got {psi0.dims}")
        validate_state(psi0, "psi0", norm_atol=NORM_ATOL + self._neglected)
        d_in = dims[1]
        data = psi0.full()
        weight = np.abs(data[:, 0]) ** 2 if psi0.isket else np.real(np.diagonal(data))
        exc = (self.model.n_battery - np.repeat(np.arange(nb1), d_in)) + np.tile(
            np.arange(d_in), nb1
        )
        k_top = int(exc[weight > 0].max()) if np.any(weight > 0) else 0
        pumped = any(p.kind == "pumping" and p.target == "battery" for p in self.processes)
        self._capacity = k_top + (self.model.n_battery if pumped else 0)
        self._basis = self._product_basis()
        levels = self._capacity + 1
        keep = min(d_in, levels)  # photon levels above k_top hold no weight
        if psi0.isket:
            vec = np.zeros((nb1, levels), dtype=complex)
            vec[:, :keep] = data.reshape(nb1, d_in)[:, :keep]
            return qutip.Qobj(vec.reshape(-1, 1), dims=[[nb1, levels], [1, 1]])
        rho = np.zeros((nb1, levels, nb1, levels), dtype=complex)
        rho[:, :keep, :, :keep] = data.reshape(nb1, d_in, nb1, d_in)[:, :keep, :, :keep]
        return qutip.Qobj(rho.reshape(nb1 * levels, -1), dims=[[nb1, levels], [nb1, levels]])

    def solve(self, psi0, tlist, *, e_ops=None, options=None, coupling=None) -> ChargingResult:
        result = super().solve(psi0, tlist, e_ops=e_ops, options=options, coupling=coupling)
        result.stats["method"] = "Chebyshev propagation on the invariant (j, K) cavity blocks"
        result.stats["neglected weight"] = self._neglected
        result.stats["photon levels"] = self._capacity + 1
        return result

    solve.__doc__ = BlockSolver.solve.__doc__


def charge_cavity(
    model: CavityModel, psi0, tlist, processes=(), *, e_ops=None, options=None, coupling=None
) -> ChargingResult:
    r"""Functional form of :meth:`CavityBlockSolver.solve` (``coupling``: a piecewise-constant
    :math:`\lambda(t)` multiplying :math:`g`, :mod:`qutip_centralspin.models.protocols`)."""
    return CavityBlockSolver(model, as_processes(processes)).solve(
        psi0, tlist, e_ops=e_ops, options=options, coupling=coupling
    )
