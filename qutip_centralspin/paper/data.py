"""The paper's parameter sets and published numbers, as data (one place for tests, CLI, tutorials).

Peng, He, Chesi, Lin & Guan, PRA **103**, 052220 (2021). All runs use ``A = 1`` and, unless
stated, ``B = h = 1``, ``delta = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "FIG2_PANELS",
    "FIG2_N",
    "FIG2_n",
    "FIG3",
    "FIG4",
    "FIG5",
    "TABLE_I",
    "TableRow",
    "Figure3Setting",
]

#: Fig. 2: N_B = 1, N = 10 charger spins, n = N/2 = 5 flipped; panel -> (B, h, delta).
FIG2_N = 10
FIG2_n = 5
FIG2_PANELS = {
    "a": {"B": 1.0, "h": 1.0, "delta": 0.0},
    "b": {"B": 1.0, "h": 1.0, "delta": 5.0},
    "c": {"B": 5.0, "h": 1.0, "delta": 0.0},
    "d": {"B": 5.0, "h": 1.0, "delta": 5.0},
}


@dataclass(frozen=True)
class Figure3Setting:
    """A scaling sweep of the paper: charger sizes, battery sizes, initial state, fit window.

    ``initial`` names the initial Dicke state ``|m=0, n0>``: ``"n=N"`` (full charger, Figs. 3, 5) or
    ``"n=N_B"`` (as many charger excitations as battery spins, Fig. 4).
    """

    n_charger: tuple[int, ...]
    n_battery: range
    initial: str
    fit_window: tuple[int, int]


#: Fig. 3 (lower bound, N < N_B): m = 0, n = N; fit over N_B in [20, 80].
FIG3 = Figure3Setting(
    n_charger=(5, 10, 15), n_battery=range(1, 81), initial="n=N", fit_window=(20, 80)
)
#: Fig. 4 (upper bound, N >> N_B): m = 0, n = N_B; fit over N_B in [1, 50].
FIG4 = Figure3Setting(
    n_charger=(100, 200, 300), n_battery=range(1, 51), initial="n=N_B", fit_window=(1, 50)
)
#: Fig. 5: log-scale contour of P_max over N_B in [1, 40], N in [1, 200]; m = 0, n = N.
FIG5 = {"n_battery": range(1, 41), "n_charger": range(1, 201), "initial": "n=N"}


@dataclass(frozen=True)
class TableRow:
    """One column of the paper's Table I."""

    regime: str  # "lower" (Fig. 3) or "upper" (Fig. 4)
    n_charger: int
    alpha: float
    beta: float
    beta_limit_paper: float | None  # the paper's "thermodynamic limit" beta = 0.72 sqrt(N)


#: Table I of the paper (fits of Eq. B7), as published.
TABLE_I = (
    TableRow("lower", 5, 0.5013, 4.3706, None),
    TableRow("lower", 10, 0.5067, 9.9668, None),
    TableRow("lower", 15, 0.5172, 15.9241, None),
    TableRow("upper", 100, 1.4075, 7.0056, 7.2),
    TableRow("upper", 200, 1.4434, 9.4058, 10.1823),
    TableRow("upper", 300, 1.4540, 11.3456, 12.4708),
)
