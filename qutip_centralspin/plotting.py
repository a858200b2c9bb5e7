r"""Figure functions. Each takes ``ax=None`` (a new figure is made if needed) and returns the axes.

Symbols follow the paper: :math:`\Delta E_B`, :math:`P_B`, :math:`E_{max}`, :math:`P_{max}`,
:math:`N_B`, :math:`N`. Energies are in units of the coupling :math:`A` (the paper sets
``A = 1``), times in units of :math:`1/A` (:math:`\hbar = 1`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .charging import ChargingResult
from .scaling import PowerLawFit, ScalingSweep

__all__ = [
    "plot_charging",
    "plot_single_spin_energies",
    "plot_max_energy",
    "plot_max_power",
    "plot_power_grid",
]

_MARKERS = ("o", "s", "^", "D", "v", "P")
_COLORS = ("tab:red", "tab:green", "tab:blue", "tab:purple", "tab:orange", "tab:brown")


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_charging(result: ChargingResult, ax=None, *, power: bool = True):
    r"""Plot :math:`\Delta E_B(t)` and, on a twin axis, :math:`P_B(t)` of a charging run."""
    ax = _axes(ax)
    ax.plot(result.times, result.delta_energy, color="tab:blue", label=r"$\Delta E_B(t)$")
    ax.set_xlabel(r"time $t$ [$1/A$]")
    ax.set_ylabel(r"stored energy $\Delta E_B$ [$A$]")
    handles, labels = ax.get_legend_handles_labels()
    if power:
        twin = ax.twinx()
        twin.plot(result.times, result.power, color="tab:red", ls="--", label=r"$P_B(t)$")
        twin.set_ylabel(r"power $P_B = \Delta E_B/t$ [$A^2$]")
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="best")
    m = result.model
    ax.set_title(rf"$N_B={m.n_battery}$, $N={m.n_charger}$ ({result.solver})")
    return ax


def plot_single_spin_energies(x, numeric: dict, closed: dict | None = None, ax=None, title=None):
    r"""Fig. 2: :math:`\Delta E_B`, :math:`\Delta E_C`, :math:`E_I` against :math:`\Omega_n t/2`.

    Parameters
    ----------
    x : array
        :math:`\Omega_n t / 2`.
    numeric : dict
        ``{"dE_B", "dE_C", "E_I"}`` from a solver (drawn as symbols).
    closed : dict, optional
        The same keys from Eqs. (A6)-(A8) (drawn as lines).
    """
    ax = _axes(ax)
    styles = {
        "dE_B": ("tab:blue", "-", r"$\Delta E_B$"),
        "dE_C": ("tab:red", "--", r"$\Delta E_C$"),
        "E_I": ("tab:green", "--", r"$E_I$"),
    }
    stride = max(1, len(x) // 40)
    for key, (color, ls, label) in styles.items():
        if closed is not None:
            ax.plot(x, closed[key], color=color, ls=ls, label=label + " (Eqs. A6-A8)")
        ax.plot(
            x[::stride],
            np.asarray(numeric[key])[::stride],
            color=color,
            ls="none",
            marker="o",
            ms=3,
            label=label + " (numerics)",
        )
    ax.set_xlabel(r"$\Omega_n t/2$")
    ax.set_ylabel(r"energy [$A$]")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="x-small", ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    return ax


def plot_max_energy(sweeps: list[ScalingSweep], ax=None, *, per_spin: bool = False):
    r"""Figs. 3(a), 4(a): :math:`E_{max}` (or :math:`E_{max}/N_B`) against :math:`N_B`."""
    ax = _axes(ax)
    for i, sw in enumerate(sweeps):
        y = sw.e_max / sw.n_battery if per_spin else sw.e_max
        ax.plot(
            sw.n_battery,
            y,
            ls="none",
            marker=_MARKERS[i % 6],
            color=_COLORS[i % 6],
            ms=4,
            mfc="none",
            label=rf"$N={sw.n_charger}$",
        )
    ax.set_xlabel(r"battery spins $N_B$")
    ax.set_ylabel(r"$E_{max}/N_B$ [$B$]" if per_spin else r"$E_{max}$ [$B$]")
    ax.legend()
    return ax


def plot_max_power(sweeps: list[ScalingSweep], fits: list[PowerLawFit] | None = None, ax=None):
    r"""Figs. 3(b), 4(b): :math:`P_{max}` against :math:`N_B` (log-log), with Eq. (18) fits."""
    ax = _axes(ax)
    for i, sw in enumerate(sweeps):
        color = _COLORS[i % 6]
        ax.plot(
            sw.n_battery,
            sw.p_max,
            ls="none",
            marker=_MARKERS[i % 6],
            color=color,
            ms=4,
            mfc="none",
            label=rf"$N={sw.n_charger}$",
        )
        if fits is not None:
            fit = fits[i]
            x = np.linspace(fit.window[0], fit.window[1], 50)
            ax.plot(
                x,
                fit(x),
                color=color,
                ls="--",
                label=rf"fit $\alpha={fit.alpha:.4f}$, $\beta={fit.beta:.4f}$",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"battery spins $N_B$")
    ax.set_ylabel(r"$P_{max}$ [$BA$]")
    ax.legend(fontsize="small")
    return ax


def plot_power_grid(n_battery, n_charger, p_max, ax=None, *, levels: int = 30):
    r"""Fig. 5: contour of :math:`\log_{10} P_{max}` over :math:`(N_B, N)`."""
    ax = _axes(ax)
    nb, nc = np.meshgrid(np.asarray(n_battery), np.asarray(n_charger), indexing="ij")
    cs = ax.contourf(nb, nc, np.log10(p_max), levels=levels, cmap="viridis")
    ax.figure.colorbar(cs, ax=ax, label=r"$\log_{10} P_{max}$ [$BA$]", format="%.1f")
    ax.plot(
        np.asarray(n_battery), np.asarray(n_battery), color="w", ls="--", lw=1, label=r"$N = N_B$"
    )
    ax.set_xlabel(r"battery spins $N_B$")
    ax.set_ylabel(r"charger spins $N$")
    ax.set_ylim(min(n_charger), max(n_charger))
    ax.legend(loc="upper left")
    return ax
