r"""The multiple central spin battery model (frozen, validated).

The model of Peng *et al.*, PRA **103**, 052220 (2021), Eqs. (4)-(6):

.. math::

    H = \underbrace{B S^z}_{H_B} + \underbrace{h J^z}_{H_C}
        + \underbrace{A (S^+ J^- + S^- J^+) + 2 \Delta S^z J^z}_{H_I},

with :math:`\mathbf S = \sum_{i=1}^{N_B} \mathbf s_i` the collective spin of the
:math:`N_B` battery (central) spins and :math:`\mathbf J = \sum_{j=1}^{N} \boldsymbol\tau_j`
that of the :math:`N` charger (bath) spins, all spin-1/2.

Units: :math:`\hbar = 1`; energies (``B``, ``h``, ``A``, ``delta``) share one arbitrary unit,
times are in its inverse. The paper sets ``A = 1`` ("rescaled units").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import qutip

from .. import _checks
from .base import BatteryModel
from .operators import hamiltonian
from .states import check_state, dicke_state

__all__ = ["CentralSpinModel"]


@dataclass(frozen=True)
class CentralSpinModel(BatteryModel):
    r"""Multiple central spin battery: :math:`N_B` battery spins charged by :math:`N` bath spins.

    .. math::

        H = B S^z + h J^z + A (S^+ J^- + S^- J^+) + 2 \Delta S^z J^z

    Parameters
    ----------
    n_battery : int
        Number of battery spins :math:`N_B \geq 1`.
    n_charger : int
        Number of charger (bath) spins :math:`N \geq 1`.
    B : float, default 1
        Field on the battery spins, :math:`H_B = B S^z` (Eq. 4).
    h : float, default 1
        Field on the charger spins, :math:`H_C = h J^z` (Eq. 5).
    A : float, default 1
        Flip-flop coupling (Eq. 6); the paper's energy unit.
    delta : float, default 0
        Ising anisotropy :math:`\Delta` of :math:`2\Delta S^z J^z` (Eq. 6).

    Notes
    -----
    :math:`\hbar = 1`. All energies share one unit; times are in its inverse.
    The model is immutable: use :meth:`replace` to derive a variant.
    Operators are built by :mod:`qutip_centralspin.models.operators`, states by
    :mod:`qutip_centralspin.models.states`.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> model = CentralSpinModel(n_battery=1, n_charger=10)
    >>> model.dims
    [[2, 11], [2, 11]]
    """

    kind: ClassVar[str] = "spins"
    energy_unit: ClassVar[str] = "A"

    n_battery: int
    n_charger: int
    B: float = 1.0
    h: float = 1.0
    A: float = 1.0
    delta: float = 0.0

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "n_battery", _checks.positive_int("n_battery", self.n_battery))
        set_(self, "n_charger", _checks.positive_int("n_charger", self.n_charger))
        for name in ("B", "h", "A", "delta"):
            set_(self, name, _checks.finite_real(name, getattr(self, name)))

    @property
    def dims(self) -> list[list[int]]:
        """QuTiP operator dims ``[[N_B+1, N+1], [N_B+1, N+1]]`` of the symmetric space."""
        shape = [self.n_battery + 1, self.n_charger + 1]
        return [shape, list(shape)]

    @property
    def ket_dims(self) -> list[list[int]]:
        """QuTiP 5 ket dims ``[[N_B+1, N+1], [1]]``."""
        return [[self.n_battery + 1, self.n_charger + 1], [1]]

    @property
    def shape(self) -> int:
        """Dimension ``(N_B+1)(N+1)`` of the symmetric (Dicke) space."""
        return (self.n_battery + 1) * (self.n_charger + 1)

    def replace(self, **changes) -> CentralSpinModel:
        """Return a copy with some parameters changed (validated again)."""
        return replace(self, **changes)

    # -- the model interface (qutip_centralspin.models.base) -----------------------------------
    @property
    def battery_field(self) -> float:
        """:math:`B` of :math:`H_B = B S^z`."""
        return self.B

    def symbols(self) -> dict[str, str]:
        r""":math:`N_B` and :math:`N` for figure titles."""
        return {"N_B": f"{self.n_battery}", "N": f"{self.n_charger}"}

    def label_state(self, m: int, c: int) -> qutip.Qobj:
        r"""The Dicke product ket :math:`|m, n = c\rangle` (:func:`~qutip_centralspin.dicke_state`)."""
        return dicke_state(self, m, c)

    def as_state(self, state, name: str = "psi0"):
        """A label, a ``Qobj``, a ``{(m, n): amplitude}`` superposition or a Gibbs state of
        physical spins (:class:`~qutip_centralspin.models.thermal.ThermalMixture`)."""
        if isinstance(state, dict) or hasattr(state, "evolution"):
            return state
        state = super().as_state(state, name)
        if isinstance(state, qutip.Qobj):
            return check_state(self, state, name)
        return state

    def empty_charger(self) -> int:
        """The ground state of :math:`hJ^z`: :math:`n = 0` for :math:`h \\ge 0`, else :math:`N`."""
        return 0 if self.h >= 0 else self.n_charger

    def hamiltonian(self, charger_levels: int | None = None) -> qutip.Qobj:
        """:math:`H` on the symmetric space (``charger_levels`` must be ``None`` or ``N + 1``)."""
        if charger_levels not in (None, self.n_charger + 1):
            raise ValueError(
                f"charger_levels of a spin charger is N + 1 = {self.n_charger + 1}, "
                f"got {charger_levels!r}"
            )
        return hamiltonian(self)

    def charger_operators(self, dims: list[int]) -> dict[str, qutip.Qobj]:
        r""":math:`E_C = hJ^z` and the flipped charger spins :math:`J^z + N/2`."""
        if list(dims) != self.dims[0]:
            raise ValueError(
                f"charger observables need a full-space state of dims {self.dims[0]}, got {dims}"
            )
        jz = qutip.tensor(qutip.qeye(self.n_battery + 1), qutip.jmat(self.n_charger / 2, "z"))
        return {"E_C": self.h * jz, "n_C": jz + self.n_charger / 2}
