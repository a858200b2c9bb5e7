r"""Dissipative processes of the open (decohering) battery: one rate convention for every solver.

The open battery evolves under the Lindblad master equation (:math:`\hbar = 1`)

.. math::

    \dot\rho = -i[H, \rho] + \sum_k \Big( L_k \rho L_k^\dagger
               - \tfrac12 \{ L_k^\dagger L_k, \rho \} \Big),

with :math:`H` the model Hamiltonian (:mod:`qutip_centralspin.models.operators`). A :class:`Process`
names one family of Lindblad operators :math:`L_k` and its rate :math:`\gamma \ge 0`:

============  ======================================  ==================================
kind          ``scope="local"`` (every spin *i*)      ``scope="collective"``
============  ======================================  ==================================
dephasing     :math:`L_i = \sqrt\gamma\,\sigma^z_i`     :math:`L = \sqrt\gamma\, S^z`
decay         :math:`L_i = \sqrt\gamma\,\sigma^-_i`     :math:`L = \sqrt\gamma\, S^-`
pumping       :math:`L_i = \sqrt\gamma\,\sigma^+_i`     :math:`L = \sqrt\gamma\, S^+`
============  ======================================  ==================================

on the ``target`` spins: the :math:`N_B` battery spins (:math:`\mathbf S`) or the :math:`N`
charger spins (:math:`\mathbf J` replaces :math:`\mathbf S`). Conventions:

* :math:`\sigma^z_i` has eigenvalues :math:`\pm 1` (up spin: :math:`+1`);
  :math:`\sigma^\pm_i = (\sigma^x_i \pm i\sigma^y_i)/2`, so :math:`\sigma^-_i` flips spin *i*
  down with amplitude 1;
* :math:`\mathbf S = \sum_i \boldsymbol\sigma_i/2` (the ``qutip.jmat`` spin), so
  :math:`S^\pm = \sum_i \sigma^\pm_i`.

Consequences worth knowing: local dephasing at rate :math:`\gamma` destroys a single spin's
coherence at rate :math:`2\gamma`; a single excited spin decays at rate :math:`\gamma`. The
``dephasing`` coefficient of ``qutip.piqs.Dicke`` multiplies :math:`\sigma^z_i/2`, so it equals
:math:`4\gamma` in this convention (its emission, pumping and collective coefficients equal
:math:`\gamma`). Several processes may act at once; two processes of the same kind, target and
scope add their rates.

Local processes leave the symmetric (Dicke) space of the target; the state stays permutation
invariant and is evolved in the j-resolved Dicke basis by
:mod:`qutip_centralspin.solvers.blocks`. Collective processes keep the symmetric space:
:func:`collective_c_ops` gives their collapse operators for a plain ``qutip.mesolve``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import qutip

from .. import _checks
from .operators import check_model, collective_operators
from .spin import CentralSpinModel

__all__ = [
    "Process",
    "dephasing",
    "decay",
    "pumping",
    "as_processes",
    "collective_c_ops",
    "battery_energy_dissipation",
    "has_local",
    "processes_from_flags",
    "KINDS",
    "TARGETS",
    "SCOPES",
]

Kind = Literal["dephasing", "decay", "pumping"]
Target = Literal["battery", "charger"]
Scope = Literal["local", "collective"]
#: Allowed values of :attr:`Process.kind`.
KINDS = ("dephasing", "decay", "pumping")
#: Allowed values of :attr:`Process.target`.
TARGETS = ("battery", "charger")
#: Allowed values of :attr:`Process.scope`.
SCOPES = ("local", "collective")

#: The one symbol table: ``kind`` -> the ``qutip.jmat`` / ``qutip.piqs.jspin`` name of its
#: operator (local: :math:`\sigma^{z,-,+}_i`; collective: :math:`S^{z,-,+}` or :math:`J^{z,-,+}`).
OPERATOR = {"dephasing": "z", "decay": "-", "pumping": "+"}
#: ``kind`` -> the name of its rate in ``qutip.piqs.Dicke`` (``collective_`` prefixed for
#: collective processes) and the factor from our rate to PIQS's (PIQS dephasing multiplies
#: :math:`\sigma^z_i/2`, so its coefficient is :math:`4\gamma`).
PIQS_RATE = {
    "dephasing": ("dephasing", 4.0),
    "decay": ("emission", 1.0),
    "pumping": ("pumping", 1.0),
}


@dataclass(frozen=True)
class Process:
    r"""One dissipative process: Lindblad operators of one ``kind`` on the ``target`` spins.

    ``Process(kind, rate, target, scope)`` adds to the master equation

    .. math::

        \mathcal D\rho = \sum_k L_k\rho L_k^\dagger - \tfrac12\{L_k^\dagger L_k, \rho\},
        \qquad
        L_k \in \begin{cases}
            \{\sqrt\gamma\, o_i\}_{i=1}^{N_t} & \text{local,} \\
            \{\sqrt\gamma\, O\} & \text{collective,}
        \end{cases}

    with :math:`o_i = \sigma^z_i, \sigma^-_i, \sigma^+_i` (eigenvalues of :math:`\sigma^z` are
    :math:`\pm1`) and :math:`O = S^z, S^-, S^+` (:math:`\mathbf S = \sum_i\boldsymbol\sigma_i/2`)
    for ``kind = "dephasing"``, ``"decay"``, ``"pumping"``; :math:`N_t` is the number of target
    spins (:math:`N_B` or :math:`N`). See the module notes for the full convention.

    Parameters
    ----------
    kind : {"dephasing", "decay", "pumping"}
    rate : float
        :math:`\gamma \ge 0`, in the model's energy unit (:math:`\hbar = 1`). A zero rate is
        allowed (the process is then inert).
    target : {"battery", "charger"}, default "battery"
    scope : {"local", "collective"}, default "local"

    Raises
    ------
    ValueError
        Naming the field, the allowed values and the value received.

    Examples
    --------
    >>> from qutip_centralspin.models.processes import Process
    >>> p = Process("decay", 0.1, target="charger")
    >>> p.lindblad_operator
    'sqrt(0.1) sigma^-_i on every charger spin'
    """

    kind: Kind
    rate: float
    target: Target = "battery"
    scope: Scope = "local"

    def __post_init__(self):
        set_ = object.__setattr__
        for name, allowed in (("kind", KINDS), ("target", TARGETS), ("scope", SCOPES)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        set_(self, "rate", _checks.nonnegative_real("rate", self.rate))

    @property
    def is_local(self) -> bool:
        """``True`` for local (one Lindblad operator per spin) processes."""
        return self.scope == "local"

    @property
    def lindblad_operator(self) -> str:
        """Plain-text statement of the Lindblad operator(s) this process adds."""
        root, op = f"sqrt({self.rate:g})", OPERATOR[self.kind]
        if self.is_local:
            return f"{root} sigma^{op}_i on every {self.target} spin"
        return f"{root} {'S' if self.target == 'battery' else 'J'}^{op}"

    @property
    def key(self) -> tuple[str, str, str]:
        """``(kind, target, scope)``: processes with equal keys add their rates."""
        return (self.kind, self.target, self.scope)


def dephasing(rate: float, target: Target = "battery", scope: Scope = "local") -> Process:
    r"""Dephasing: :math:`L_i = \sqrt\gamma\,\sigma^z_i` (local) or :math:`\sqrt\gamma\,S^z`."""
    return Process("dephasing", rate, target, scope)


def decay(rate: float, target: Target = "battery", scope: Scope = "local") -> Process:
    r"""Decay: :math:`L_i = \sqrt\gamma\,\sigma^-_i` (local) or :math:`\sqrt\gamma\,S^-`."""
    return Process("decay", rate, target, scope)


def pumping(rate: float, target: Target = "battery", scope: Scope = "local") -> Process:
    r"""Pumping: :math:`L_i = \sqrt\gamma\,\sigma^+_i` (local) or :math:`\sqrt\gamma\,S^+`."""
    return Process("pumping", rate, target, scope)


def as_processes(processes) -> tuple[Process, ...]:
    """Normalise ``processes`` (a :class:`Process`, an iterable of them, or ``None``).

    Processes with the same ``(kind, target, scope)`` are merged by adding their rates (the
    Lindblad operators are then identical up to the rate). The order of first appearance is
    kept; zero rates are kept too (solvers skip them).

    Raises
    ------
    TypeError
        If an element is not a :class:`Process`.
    """
    if processes is None:
        return ()
    if isinstance(processes, Process):
        processes = [processes]
    if not isinstance(processes, Iterable) or isinstance(processes, (str, bytes)):
        raise TypeError(
            f"processes must be a Process or a list of Process, got {type(processes).__name__}"
        )
    merged: dict[tuple[str, str, str], float] = {}
    for i, proc in enumerate(processes):
        if not isinstance(proc, Process):
            raise TypeError(
                f"processes[{i}] must be a Process (see qutip_centralspin.models.processes), "
                f"got {type(proc).__name__}"
            )
        merged[proc.key] = merged.get(proc.key, 0.0) + proc.rate
    return tuple(
        Process(kind, rate, target, scope) for (kind, target, scope), rate in merged.items()
    )


def has_local(processes, target: Target) -> bool:
    """Whether a local process with a non-zero rate acts on ``target``: the target then
    leaves its symmetric subspace (its other total spins :math:`j` are reached)."""
    return any(p.is_local and p.target == target and p.rate > 0 for p in as_processes(processes))


def collective_c_ops(model: CentralSpinModel, processes) -> list[qutip.Qobj]:
    r"""Collapse operators of collective processes on the symmetric space, for ``mesolve``.

    Returns :math:`\sqrt\gamma\,O` with :math:`O \in \{S^z, S^-, S^+, J^z, J^-, J^+\}` built
    from ``qutip.jmat`` on dims ``[[N_B+1, N+1], [N_B+1, N+1]]`` (zero rates are skipped).

    Raises
    ------
    ValueError
        If a process is local: local processes leave the symmetric space (use the block
        solver, ``solver="piqs"`` or ``solver="bruteforce"``).

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.models.processes import collective_c_ops, decay
    >>> c_ops = collective_c_ops(CentralSpinModel(2, 3), [decay(0.1, scope="collective")])
    >>> c_ops[0].dims
    [[3, 4], [3, 4]]
    """
    check_model(model)
    procs = as_processes(processes)
    local = [p for p in procs if p.is_local]
    if local:
        raise ValueError(
            "processes must all be collective (scope='collective') to act on the symmetric "
            f"space, got local process(es) {[p.key for p in local]}; use the block solver"
        )
    return [
        math.sqrt(proc.rate) * _collective_operator(model, proc) for proc in procs if proc.rate > 0
    ]


def _collective_operator(model: CentralSpinModel, proc: Process) -> qutip.Qobj:
    """:math:`S^{z,-,+}` or :math:`J^{z,-,+}` of ``proc`` on the symmetric space."""
    ops = collective_operators(model)
    side = "S" if proc.target == "battery" else "J"
    return getattr(ops, side + {"z": "z", "-": "m", "+": "p"}[OPERATOR[proc.kind]])


def battery_energy_dissipation(model: CentralSpinModel, processes) -> qutip.Qobj:
    r"""Adjoint dissipator on :math:`H_B`: :math:`\sum_k \mathcal D^\dagger[L_k](B S^z)`.

    :math:`\dot E_B = \langle i[H, H_B] + \sum_k (L_k^\dagger H_B L_k -
    \tfrac12\{L_k^\dagger L_k, H_B\})\rangle`. Charger processes and dephasing commute with
    :math:`H_B` and add nothing. Local decay and pumping sum to collective operators on the
    symmetric space: per spin :math:`\mathcal D^\dagger[\sigma^-](s^z) = -(\tfrac12 + s^z)`
    and :math:`\mathcal D^\dagger[\sigma^+](s^z) = \tfrac12 - s^z`, so

    .. math::

        -\gamma B\,(N_B/2 + S^z) \;\text{(local decay)}, \qquad
        \gamma B\,(N_B/2 - S^z) \;\text{(local pumping)}.

    Returns the operator on the full symmetric space (dims ``[[N_B+1, N+1], ...]``).
    """
    check_model(model)
    ops = collective_operators(model)
    h_b = model.B * ops.Sz
    half = 0.5 * model.n_battery * qutip.qeye(model.dims[0])
    out = 0 * h_b
    for proc in as_processes(processes):
        if proc.target != "battery" or proc.rate == 0 or proc.kind == "dephasing":
            continue
        if proc.is_local:
            sign = -1.0 if proc.kind == "decay" else 1.0
            out += proc.rate * model.B * (sign * half - ops.Sz)
        else:
            op = _collective_operator(model, proc)
            odo = op.dag() * op
            out += proc.rate * (op.dag() * h_b * op - 0.5 * (odo * h_b + h_b * odo))
    return out


#: ``processes_from_flags`` keyword -> (kind, target, scope).
FLAG_PROCESSES = {
    "dephasing": ("dephasing", "battery", "local"),
    "decay": ("decay", "battery", "local"),
    "pumping": ("pumping", "battery", "local"),
    "charger_dephasing": ("dephasing", "charger", "local"),
    "charger_decay": ("decay", "charger", "local"),
    "charger_pumping": ("pumping", "charger", "local"),
    "collective_dephasing": ("dephasing", "battery", "collective"),
    "collective_decay": ("decay", "battery", "collective"),
    "collective_pumping": ("pumping", "battery", "collective"),
    "collective_charger_dephasing": ("dephasing", "charger", "collective"),
    "collective_charger_decay": ("decay", "charger", "collective"),
    "collective_charger_pumping": ("pumping", "charger", "collective"),
}


def processes_from_flags(
    dephasing: float = 0.0,
    decay: float = 0.0,
    pumping: float = 0.0,
    charger_dephasing: float = 0.0,
    charger_decay: float = 0.0,
    charger_pumping: float = 0.0,
    collective_dephasing: float = 0.0,
    collective_decay: float = 0.0,
    collective_pumping: float = 0.0,
    collective_charger_dephasing: float = 0.0,
    collective_charger_decay: float = 0.0,
    collective_charger_pumping: float = 0.0,
) -> list[Process]:
    r"""The processes switched on by the CLI flags (``--dephasing G`` -> ``dephasing=G``, ...).

    Every keyword is a rate :math:`\gamma \ge 0`; zero means off. The scheme:

    * ``dephasing``, ``decay``, ``pumping``: local on every battery spin,
      :math:`L_i = \sqrt\gamma\,\sigma^z_i, \sqrt\gamma\,\sigma^-_i, \sqrt\gamma\,\sigma^+_i`;
    * ``charger_*``: the same on every charger spin;
    * ``collective_*``: :math:`\sqrt\gamma\,S^z, S^-, S^+` on the battery;
    * ``collective_charger_*``: :math:`\sqrt\gamma\,J^z, J^-, J^+` on the charger.

    Returns
    -------
    list of Process
        One per non-zero rate, in the order of the keywords above.

    Raises
    ------
    ValueError
        If a rate is negative or not finite; the message names the keyword.

    Examples
    --------
    >>> from qutip_centralspin.models.processes import processes_from_flags
    >>> [p.key for p in processes_from_flags(dephasing=0.1, collective_charger_decay=0.2)]
    [('dephasing', 'battery', 'local'), ('decay', 'charger', 'collective')]
    """
    given = {
        "dephasing": dephasing,
        "decay": decay,
        "pumping": pumping,
        "charger_dephasing": charger_dephasing,
        "charger_decay": charger_decay,
        "charger_pumping": charger_pumping,
        "collective_dephasing": collective_dephasing,
        "collective_decay": collective_decay,
        "collective_pumping": collective_pumping,
        "collective_charger_dephasing": collective_charger_dephasing,
        "collective_charger_decay": collective_charger_decay,
        "collective_charger_pumping": collective_charger_pumping,
    }
    out = []
    for flag, value in given.items():
        rate = _checks.nonnegative_real(flag, value)
        if rate > 0:
            kind, target, scope = FLAG_PROCESSES[flag]
            out.append(Process(kind, rate, target, scope))
    return out
