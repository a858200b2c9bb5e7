r"""The measured accuracy of the truncated Wigner estimate, and the warning outside it.

``benchmarks/twa_validation.py`` measures ``charge(..., method="twa")`` against
``method="exact"`` from :math:`|0, N\rangle` (the table and its command are in
``docs/twa_accuracy.md``). :data:`MEASURED` keeps, for each size :math:`(N_B, N)` measured, the
largest relative error over every process kind, target and rate measured (local dephasing,
decay, pumping and collective decay, on the battery or the charger, rates 0.01-1, and closed):

* ``"dE"``: :math:`\max_{t \le t_1}|\Delta E_B^{TWA} - \Delta E_B^{exact}|/E_1` on the first
  charge (:math:`t_1`, :math:`E_1`: the exact first maximum of :math:`\Delta E_B`);
* ``"P_max"``, ``"tau"``, ``"E_1"``: :math:`P_{max}`, its time, the first :math:`E_{max}`;
* ``"late"``: :math:`\max|\Delta E_B^{TWA} - \Delta E_B^{exact}|/E_1` after the first charge,
  up to three closed first charges (where the TWA is not validated).

The error falls with both sizes, so the error that applies to :math:`(N_B, N)` is taken from
the measured sizes :math:`(a, b) \le (N_B, N)` (each measured error bounds the error at every
larger size) with the smallest error, :func:`measured_error`. Where it exceeds
:data:`THRESHOLD`, :func:`twa_charge` and the TWA maxima warn with a
:class:`TWAAccuracyWarning` quoting it (:func:`accuracy_note`); below every measured size they
warn that the size is not validated.

The cavity (Tavis-Cummings) charger, :class:`~qutip_centralspin.models.cavity.CavityModel`, is
measured the same way (``benchmarks/twa_validation.py --cavity``) from the Fock start
:math:`|0, k\rangle` with :math:`k = N_B` photons, :math:`g = 1/\sqrt k`, resonant
(:math:`\omega = B = 1`), closed and with battery decay, battery dephasing and cavity loss at
rates 0.01, 0.1: :data:`MEASURED_CAVITY`, keyed by :math:`(N_B, k)` (:data:`SOURCE_CAVITY`),
read by the same rule with the photon number :math:`k` of the start in place of :math:`N`.
"""

from __future__ import annotations

from ..models.cavity import CavityModel
from ..models.spin import CentralSpinModel

__all__ = [
    "TWAAccuracyWarning",
    "MEASURED",
    "MEASURED_CAVITY",
    "THRESHOLD",
    "measured_error",
    "accuracy_note",
]


class TWAAccuracyWarning(UserWarning):
    """The truncated Wigner estimate outside the region where it was validated to
    :data:`THRESHOLD` (small sizes, or times past the first charge)."""


#: Warn where the measured first-charge error exceeds this (relative).
THRESHOLD = 0.02
#: The command and date of :data:`MEASURED`.
SOURCE = "benchmarks/twa_validation.py, 4000 trajectories, 2026-12-04 (docs/twa_accuracy.md)"
#: Largest absolute relative error over every process and rate measured, by (N_B, N).
MEASURED: dict[tuple[int, int], dict[str, float]] = {
    (4, 4): {"dE": 0.1086, "P_max": 0.0584, "tau": 0.1027, "E_1": 0.1039, "late": 0.2528},
    (8, 8): {"dE": 0.0534, "P_max": 0.0295, "tau": 0.0279, "E_1": 0.0511, "late": 0.1858},
    (16, 16): {"dE": 0.0244, "P_max": 0.0193, "tau": 0.0131, "E_1": 0.0228, "late": 0.1485},
    (32, 32): {"dE": 0.0135, "P_max": 0.0136, "tau": 0.0046, "E_1": 0.0110, "late": 0.1267},
    (48, 48): {"dE": 0.0105, "P_max": 0.0106, "tau": 0.0025, "E_1": 0.0080, "late": 0.1214},
    (4, 48): {"dE": 0.0380, "P_max": 0.0165, "tau": 0.0341, "E_1": 0.0372, "late": 0.2661},
}
#: The command and date of :data:`MEASURED_CAVITY`.
SOURCE_CAVITY = (
    "benchmarks/twa_validation.py --cavity, 4000 trajectories, 2026-12-04 (docs/twa_accuracy.md)"
)
#: The cavity charger (g = 1/sqrt(k), omega = B = 1, from the Fock label (0, k)): largest
#: absolute relative error over battery decay, battery dephasing and cavity loss at 0.01, 0.1
#: and closed, by (N_B, k photons).
MEASURED_CAVITY: dict[tuple[int, int], dict[str, float]] = {
    (4, 4): {"dE": 0.0287, "P_max": 0.0045, "tau": 0.0206, "E_1": 0.0264, "late": 0.1407},
    (8, 8): {"dE": 0.0099, "P_max": 0.0026, "tau": 0.0032, "E_1": 0.0096, "late": 0.0760},
    (16, 16): {"dE": 0.0037, "P_max": 0.0012, "tau": 0.0035, "E_1": 0.0037, "late": 0.0527},
    (32, 32): {"dE": 0.0015, "P_max": 0.0009, "tau": 0.0031, "E_1": 0.0014, "late": 0.0431},
    (48, 48): {"dE": 0.0011, "P_max": 0.0014, "tau": 0.0024, "E_1": 0.0008, "late": 0.0378},
}
#: The quantities of the first charge.
FIRST_CHARGE = ("dE", "P_max", "tau", "E_1")


def _first_charge(errors: dict[str, float]) -> float:
    return max(errors[k] for k in FIRST_CHARGE)


def measured_error(
    n_battery: int, n_charger: int, table: dict | None = None
) -> tuple[tuple[int, int], dict] | None:
    """The measured size :math:`(a, b) \\le (N_B, N)` with the smallest first-charge error and
    its errors, or ``None`` below every measured size. ``table``: :data:`MEASURED` (default) or
    :data:`MEASURED_CAVITY` (``n_charger``: the photon number k)."""
    table = MEASURED if table is None else table
    below = [size for size in table if size[0] <= n_battery and size[1] <= n_charger]
    if not below:
        return None
    size = min(below, key=lambda s: _first_charge(table[s]))
    return size, table[size]


def _pct(x: float) -> str:
    return f"{100 * x:.2g} %"


def _photons(state) -> int:
    """The photon number k of a cavity Fock label (m, k); 0 (below every measured size) if
    ``state`` is not one."""
    if isinstance(state, (tuple, list)) and len(state) == 2:
        try:
            return int(state[1])
        except (TypeError, ValueError):
            return 0
    return 0


def _measured(model, state):
    """(table, source, N_B, second size, its name), or ``None`` for a charger not measured."""
    if isinstance(model, CavityModel):
        return MEASURED_CAVITY, SOURCE_CAVITY, model.n_battery, _photons(state), "k"
    if isinstance(model, CentralSpinModel):
        return MEASURED, SOURCE, model.n_battery, model.n_charger, "N"
    return None


def accuracy_note(model, state=None) -> str | None:
    """Why the TWA estimate of ``model`` from ``state`` is outside its validated region, with
    the measured error, or ``None`` inside it (and for chargers not measured). For the spin
    charger the sizes are the model's; for the cavity charger the second size is the photon
    number k of the Fock label ``state = (m, k)``."""
    measured = _measured(model, state)
    if measured is None:
        return None
    table, source, nb, n, name = measured
    found = measured_error(nb, n, table)
    if found is None:
        smallest = min(table, key=lambda s: s[0] * s[1])
        return (
            f"the TWA is not validated at N_B = {nb}, {name} = {n} (below every measured size; "
            f"at N_B = {smallest[0]}, {name} = {smallest[1]} its first-charge error was up to "
            f"{_pct(_first_charge(table[smallest]))}; {source})"
        )
    (a, b), errors = found
    if _first_charge(errors) <= THRESHOLD:
        return None
    return (
        f"at N_B = {nb}, {name} = {n} the TWA is validated to {_pct(_first_charge(errors))}, "
        f"not {_pct(THRESHOLD)}: measured at N_B = {a}, {name} = {b}, P_max off by up to "
        f"{_pct(errors['P_max'])}, its time by {_pct(errors['tau'])}, the first E_max by "
        f"{_pct(errors['E_1'])}, Delta E_B on the first charge by {_pct(errors['dE'])} of E_1 "
        f"({source})"
    )


def late_error(model, state=None) -> float:
    """The measured error of :math:`\\Delta E_B` past the first charge (relative to
    :math:`E_1`) at the size that applies to ``model`` (from ``state``, for the cavity), the
    largest measured for its charger otherwise."""
    measured = _measured(model, state)
    table = MEASURED if measured is None else measured[0]
    found = None if measured is None else measured_error(measured[2], measured[3], table)
    if found is None:
        return max(errors["late"] for errors in table.values())
    return found[1]["late"]


def source(model) -> str:
    """The command and date of the table that applies to ``model``."""
    return SOURCE_CAVITY if isinstance(model, CavityModel) else SOURCE
