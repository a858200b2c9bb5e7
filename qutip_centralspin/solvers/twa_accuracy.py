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
"""

from __future__ import annotations

from ..models.spin import CentralSpinModel

__all__ = ["TWAAccuracyWarning", "MEASURED", "THRESHOLD", "measured_error", "accuracy_note"]


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
#: The quantities of the first charge.
FIRST_CHARGE = ("dE", "P_max", "tau", "E_1")


def _first_charge(errors: dict[str, float]) -> float:
    return max(errors[k] for k in FIRST_CHARGE)


def measured_error(n_battery: int, n_charger: int) -> tuple[tuple[int, int], dict] | None:
    """The measured size :math:`(a, b) \\le (N_B, N)` with the smallest first-charge error and
    its errors, or ``None`` below every measured size."""
    below = [
        size for size in MEASURED if size[0] <= n_battery and size[1] <= n_charger
    ]  # fmt: skip
    if not below:
        return None
    size = min(below, key=lambda s: _first_charge(MEASURED[s]))
    return size, MEASURED[size]


def _pct(x: float) -> str:
    return f"{100 * x:.2g} %"


def accuracy_note(model) -> str | None:
    """Why the TWA estimate of ``model`` is outside its validated region, with the measured
    error, or ``None`` inside it (and for chargers other than spins, measured in
    ``benchmarks/bench_twa.py``)."""
    if not isinstance(model, CentralSpinModel):
        return None
    nb, n = model.n_battery, model.n_charger
    found = measured_error(nb, n)
    if found is None:
        smallest = min(MEASURED, key=lambda s: s[0] * s[1])
        return (
            f"the TWA is not validated at N_B = {nb}, N = {n} (below every measured size; at "
            f"N_B = {smallest[0]}, N = {smallest[1]} its first-charge error was up to "
            f"{_pct(_first_charge(MEASURED[smallest]))}; {SOURCE})"
        )
    (a, b), errors = found
    if _first_charge(errors) <= THRESHOLD:
        return None
    return (
        f"at N_B = {nb}, N = {n} the TWA is validated to {_pct(_first_charge(errors))}, not "
        f"{_pct(THRESHOLD)}: measured at N_B = {a}, N = {b}, P_max off by up to "
        f"{_pct(errors['P_max'])}, its time by {_pct(errors['tau'])}, the first E_max by "
        f"{_pct(errors['E_1'])}, Delta E_B on the first charge by {_pct(errors['dE'])} of E_1 "
        f"({SOURCE})"
    )


def late_error(model) -> float:
    """The measured error of :math:`\\Delta E_B` past the first charge (relative to
    :math:`E_1`) at the size that applies to ``model`` (the largest measured otherwise)."""
    found = None
    if isinstance(model, CentralSpinModel):
        found = measured_error(model.n_battery, model.n_charger)
    if found is None:
        return max(errors["late"] for errors in MEASURED.values())
    return found[1]["late"]
