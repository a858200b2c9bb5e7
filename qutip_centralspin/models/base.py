r"""The model interface: what every charger model gives the engines, maxima, plots and CLI.

A *battery model* is :math:`N_B` spin-1/2 battery spins (collective spin :math:`\mathbf S`,
``qutip.jmat`` order, battery first) with :math:`H_B = B S^z`, coupled to a charger. The
chargers differ (a collective spin, a cavity mode with or without counter-rotating terms);
what the rest of the package needs from them does not:

* who they are: :attr:`BatteryModel.kind`, :meth:`BatteryModel.parameters` (every parameter,
  for JSON and figure titles), :attr:`BatteryModel.battery_field` (:math:`B`);
* states: :meth:`BatteryModel.label_state`, the product :math:`|m, c\rangle` of :math:`m`
  flipped battery spins and :math:`c` charger excitations (flipped charger spins or photons),
  and :meth:`BatteryModel.as_state`, every state form an entry point accepts;
* operators on the full space: :meth:`BatteryModel.hamiltonian` and
  :meth:`BatteryModel.charger_operators` (the charger's energy and excitation number, for
  ``e_ops``);
* what the engines read: the conserved sectors are the model's own
  (:class:`~qutip_centralspin.solvers.sectors.SectorBasis` subclasses written against it), and
  :attr:`BatteryModel.open_refusal` says why a model has no exact open solver.

The models never import a solver: :mod:`qutip_centralspin.solvers.engines` is the one table
from a model kind to its exact closed engine and open solver.

:func:`~qutip_centralspin.charge`, :func:`~qutip_centralspin.max_power`,
:func:`~qutip_centralspin.max_energy`, :func:`~qutip_centralspin.max_ergotropy`, the
``e_ops`` callbacks, :func:`~qutip_centralspin.plot_charging` and the command line are written
once against this class. A new charger is a new subclass.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

import qutip

__all__ = ["BatteryModel", "check_battery_model", "photon_operators"]


class BatteryModel(abc.ABC):
    r"""Abstract base of every battery model (spin, cavity and Dicke chargers).

    Subclasses are frozen dataclasses with an ``n_battery`` field; they implement the abstract
    methods below. Conventions shared by all of them: :math:`\hbar = 1`; battery first in
    every tensor product, in ``qutip.jmat`` order (:math:`|m\rangle`, :math:`m` flipped battery
    spins, at index :math:`N_B - m`); the battery energy is :math:`E_B = B\langle S^z\rangle`.
    """

    #: The charger's name on the command line (``--charger``) and in results.
    kind: ClassVar[str]
    #: The energy unit the model's parameters share, as a LaTeX symbol (figure axes).
    energy_unit: ClassVar[str]
    #: Number of battery spins :math:`N_B`.
    n_battery: int
    #: Why the model has no exact open solver (processes, coupling protocols) and what is
    #: supported instead; empty where :mod:`qutip_centralspin.solvers.engines` has one.
    open_refusal: ClassVar[str] = ""

    # -- who the model is ----------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def battery_field(self) -> float:
        r""":math:`B` of :math:`H_B = B S^z` (energy units of the model).

        Raises
        ------
        ValueError
            If the battery's Hamiltonian is not :math:`BS^z` (battery groups in different
            fields): then the code that needs one field (ergotropy) does not apply.
        """

    @property
    def battery_spread(self) -> float:
        r"""The spread of :math:`H_B`'s spectrum, :math:`|B|N_B` (the battery's energy range)."""
        return abs(self.battery_field) * self.n_battery

    def battery_operator(self, dims: list[int]) -> qutip.Qobj:
        r""":math:`H_B` for a state of ket dims ``dims``: the full space (battery first), the
        symmetric battery levels ``[N_B + 1]`` or the ``qutip.piqs`` Dicke basis."""
        from .basis import battery_sz

        return self.battery_field * battery_sz(self.n_battery, dims)

    def parameters(self) -> dict[str, Any]:
        """Every parameter of the model by its constructor name (and ``"charger"``: the kind),
        e.g. for JSON: the fields of the model's dataclass."""
        import dataclasses

        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"charger": self.kind, **fields}

    @abc.abstractmethod
    def symbols(self) -> dict[str, str]:
        r"""The parameters that identify a run in a figure title, as LaTeX symbols:
        ``{r"N_B": "4", ...}``."""

    # -- states --------------------------------------------------------------------------------
    @abc.abstractmethod
    def label_state(self, m: int, c: int) -> qutip.Qobj:
        r"""The product ket :math:`|m\rangle_B|c\rangle_C` (:math:`c` charger excitations)."""

    def as_state(self, state, name: str = "psi0"):
        r"""``state`` in a form the engines take: a ``(m, c)`` label stays a label
        (the engines never build the full space for it), a ``Qobj`` is checked by the engine.

        Raises
        ------
        TypeError
            If ``state`` is neither a ``Qobj`` ket or density matrix nor a label.
        ValueError
            If a label is not a pair of integers in range.
        """
        if isinstance(state, tuple):
            if len(state) != 2:
                raise ValueError(
                    f"{name} as a label must be (m, c): battery and charger excitations, "
                    f"got {state!r}"
                )
            return tuple(int(x) for x in state)
        if isinstance(state, qutip.Qobj) and (state.isket or state.isoper):
            return state
        raise TypeError(
            f"{name} must be a ket or density-matrix Qobj or an (m, c) label, "
            f"got {type(state).__name__}"
        )

    @abc.abstractmethod
    def empty_charger(self) -> int:
        """The charger excitation :math:`c` of the charger's ground state (the load of an
        extraction)."""

    # -- operators -----------------------------------------------------------------------------
    @abc.abstractmethod
    def hamiltonian(self, charger_levels: int | None = None) -> qutip.Qobj:
        """The full Hamiltonian; ``charger_levels`` truncates a bosonic charger."""

    def is_full_space(self, dims: list[int]) -> bool:
        """Whether ket dims ``dims`` are those of a full-space state (battery first, then one
        charger factor), not of a reduced battery state."""
        return len(dims) == 2 and dims[0] == self.n_battery + 1

    def hamiltonian_on(self, dims: list[int]) -> qutip.Qobj:
        """:meth:`hamiltonian` on the space of a full-space state of ket dims ``dims``."""
        return self.hamiltonian(charger_levels=dims[-1])

    @abc.abstractmethod
    def charger_operators(self, dims: list[int]) -> dict[str, qutip.Qobj]:
        r"""The charger's observables on a full-space state of ket dims ``dims``:
        ``{"E_C": charger energy, "n_C": charger excitations}`` (photon number of a cavity,
        flipped charger spins :math:`J^z + N/2` of a spin charger)."""

    # -- engines -------------------------------------------------------------------------------
    def certification_caveat(self, evolution) -> str:
        """Why a certified bracket on ``evolution`` does not certify the model itself (e.g. a
        truncated charger), or ``""`` (the default: the closed engine is exact)."""
        return ""


def check_battery_model(model, name: str = "model") -> BatteryModel:
    """Return ``model`` if it implements :class:`BatteryModel`, else raise ``TypeError``."""
    if not isinstance(model, BatteryModel):
        raise TypeError(
            f"{name} must be a battery model (CentralSpinModel, CavityModel or "
            f"DickeChargerModel), got {type(model).__name__}"
        )
    return model


def photon_operators(model: BatteryModel, dims: list[int], frequency: float) -> dict:
    r"""The charger observables of a bosonic charger of ``frequency`` :math:`\omega`:
    ``{"E_C": omega a^dag a, "n_C": a^dag a}`` on a full-space state of ket dims ``dims``
    (``[N_B + 1, D]``: the battery, then ``D`` photon levels).

    Raises
    ------
    ValueError
        If ``dims`` are not those of a full-space state of ``model``.
    """
    if len(dims) != 2 or dims[0] != model.n_battery + 1:
        raise ValueError(
            f"charger observables need a full-space state of dims [{model.n_battery + 1}, D], "
            f"got {dims}"
        )
    n = qutip.tensor(qutip.qeye(dims[0]), qutip.num(dims[1]))
    return {"E_C": frequency * n, "n_C": n}
