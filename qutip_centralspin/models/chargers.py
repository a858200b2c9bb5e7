r"""Charger initial states beyond the paper's Dicke state :math:`|n = N\rangle`.

The battery starts in a Dicke state :math:`|m\rangle_B` (default ``m = 0``, empty) and the
charger in one of:

* a Dicke (Fock-like) state :math:`|n\rangle_C` --
  :func:`~qutip_centralspin.studies.chargers.best_dicke_charger` finds the ``n``
  with the largest :math:`P_{max}` (or :math:`E_{max}`);
* a spin-coherent state :math:`|\theta,\phi\rangle` at any polar angle
  (:func:`qutip_centralspin.spin_coherent_charger`, reused here): a superposition over every
  ``n`` with binomial weights :math:`\binom{N}{n}\cos^{2n}(\theta/2)\sin^{2(N-n)}(\theta/2)`;
* a thermal state at temperature :math:`T > 0`, in one of two meanings
  (:mod:`qutip_centralspin.models.thermal`):

  - :func:`~qutip_centralspin.models.thermal.thermal_charger`: the Gibbs state of :math:`hJ^z`
    *within the symmetric multiplet* :math:`j = N/2` (a density matrix on the model's dims);
  - :func:`~qutip_centralspin.models.thermal.physical_thermal_charger`: the Gibbs state of the
    :math:`N` *physical* charger spins, an exact mixture over every total charger spin
    :math:`j_C \le N/2` (a :class:`~qutip_centralspin.models.thermal.PhysicalThermalCharger`).

All of them go through the exact engine (:meth:`SectorEngine.evolve` takes kets and density
matrices spanning many U(1) sectors; the physical thermal state runs one engine per
:math:`j_C`). A thermal charger has no coherence between sectors, so the engine only
diagonalises the small sector blocks.

``charger_state(model, spec)`` parses the command-line form ``"full"``, ``"dicke:K"``,
``"coherent:THETA[:PHI]"``, ``"thermal:T"`` (symmetric multiplet) and ``"gibbs:T"`` (physical
spins).
"""

from __future__ import annotations

import qutip

from .operators import check_model
from .spin import CentralSpinModel
from .states import dicke_state, parse_spec, spin_coherent_charger
from .thermal import (
    PhysicalThermalCharger,
    physical_thermal_charger,
    thermal_charger,
    thermal_populations,
)

__all__ = [
    "CHARGER_SPECS",
    "thermal_populations",
    "thermal_charger",
    "physical_thermal_charger",
    "charger_state",
]

#: The forms understood by :func:`charger_state`.
CHARGER_SPECS = ("full", "dicke:K", "coherent:THETA[:PHI]", "thermal:T", "gibbs:T")
#: The grammar of :data:`CHARGER_SPECS` for :func:`qutip_centralspin.models.states.parse_spec`.
CHARGER_GRAMMAR = {
    "full": (0, 0),
    "dicke": (1, 1),
    "coherent": (1, 2),
    "thermal": (1, 1),
    "gibbs": (1, 1),
}


def charger_state(
    model: CentralSpinModel, spec: str, *, m: int = 0
) -> qutip.Qobj | PhysicalThermalCharger:
    r"""Initial state :math:`|m\rangle_B\otimes\rho_C` from a short text ``spec``.

    Parameters
    ----------
    model : CentralSpinModel
    spec : str
        * ``"full"``: Dicke :math:`|n = N\rangle` (the paper's charger);
        * ``"dicke:K"``: Dicke :math:`|n = K\rangle`, ``0 <= K <= N``;
        * ``"coherent:THETA"`` or ``"coherent:THETA:PHI"``: spin-coherent, angles in radians,
          ``0 <= THETA <= pi`` (``0``: full charger);
        * ``"thermal:T"``: :func:`thermal_charger` (symmetric multiplet), ``T > 0``;
        * ``"gibbs:T"``: :func:`physical_thermal_charger` (the :math:`N` physical spins),
          ``T > 0``.
    m : int, default 0
        Battery Dicke state.

    Returns
    -------
    Qobj or PhysicalThermalCharger
        A ket (Dicke, coherent) or a density matrix (thermal) on the model dims; the physical
        thermal mixture for ``"gibbs:T"`` (accepted by ``charge``, ``max_power`` and
        ``max_energy``).

    Raises
    ------
    ValueError
        If ``spec`` is not one of :data:`CHARGER_SPECS` or its number is out of range.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.models.chargers import charger_state
    >>> model = CentralSpinModel(n_battery=2, n_charger=4)
    >>> charger_state(model, "coherent:0.5").isket, charger_state(model, "thermal:1").isoper
    (True, True)
    """
    check_model(model)
    kind, numbers = parse_spec(spec, CHARGER_GRAMMAR)
    try:
        if kind == "full":
            return dicke_state(model, m, model.n_charger)
        if kind == "dicke":
            return dicke_state(model, m, _whole(numbers[0]))
        if kind == "coherent":
            return spin_coherent_charger(model, *numbers, m=m)
        if kind == "thermal":
            return thermal_charger(model, numbers[0], m=m)
        return physical_thermal_charger(model, numbers[0], m=m)
    except ValueError as err:
        raise ValueError(f"spec {spec!r}: {err}") from None


def _whole(x: float):
    """An integral float as ``int`` (a non-integral one is left for the range check)."""
    return int(x) if float(x).is_integer() else x
