r"""Figure functions. Each takes ``ax=None`` (a new figure is made if needed) and returns the axes.

Symbols follow the paper: :math:`\Delta E_B`, :math:`P_B`, :math:`E_{max}`, :math:`P_{max}`,
:math:`N_B`, :math:`N`. Energies are in units of the coupling :math:`A` (the paper sets
``A = 1``), times in units of :math:`1/A` (:math:`\hbar = 1`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .results import ChargingResult
from .studies.scaling import PowerLawFit, ScalingSweep

__all__ = [
    "plot_charging",
    "plot_single_spin_energies",
    "plot_max_energy",
    "plot_max_power",
    "plot_power_grid",
    "plot_cycle",
]

_MARKERS = ("o", "s", "^", "D", "v", "P")
_COLORS = ("tab:red", "tab:green", "tab:blue", "tab:purple", "tab:orange", "tab:brown")


def _axes(ax):
    if ax is None:
        _, ax = plt.subplots()
    return ax


#: ``gid`` of the :math:`P_B` twin axes made by :func:`plot_charging`, so overlays reuse it.
_POWER_TWIN_GID = "qutip_centralspin.plot_charging.power_axes"
#: ``gid`` prefix of each run's :math:`\Delta E_B` line; ``|symbol=value;...|solver`` follows it
#: (the model's :meth:`~qutip_centralspin.models.base.BatteryModel.symbols`).
_RUN_GID = "qutip_centralspin.plot_charging.run"


def _power_twin(ax):
    """The :math:`P_B` twin axes an earlier :func:`plot_charging` call made for ``ax``, or None."""
    for other in ax.figure.axes:
        if other is ax or other.get_gid() != _POWER_TWIN_GID:
            continue
        if not ax.get_shared_x_axes().joined(ax, other):
            continue
        # ``sharex=True`` subplots are joined too: the twin must also sit where ``ax`` sits
        spec = ax.get_subplotspec()
        if spec is not None:
            if other.get_subplotspec() == spec:
                return other
        elif other.get_position(original=True).bounds == ax.get_position(original=True).bounds:
            return other
    return None


def _charging_runs(ax) -> list[tuple[str, str]]:
    """``(symbols, solver)`` of each run :func:`plot_charging` has drawn on ``ax``, in order."""
    runs = []
    for line in ax.get_lines():
        gid = line.get_gid()
        if isinstance(gid, str) and gid.startswith(_RUN_GID + "|"):
            runs.append(tuple(gid.split("|", 2)[1:]))
    return runs


def _charging_title(runs) -> str:
    """``$N_B=..$, $N=..$ (solver)``, keeping only the parts that all ``runs`` share."""
    tables = [dict(item.split("=", 1) for item in symbols.split(";")) for symbols, _ in runs]
    parts = [
        rf"${name}={value}$"
        for name, value in tables[0].items()
        if all(table.get(name) == value for table in tables[1:])
    ]
    title = ", ".join(parts)
    solvers = {solver for _, solver in runs}
    if len(solvers) == 1:
        title += f" ({solvers.pop()})"
    return title.strip()


def plot_charging(
    result: ChargingResult,
    ax=None,
    *,
    power: bool = True,
    label: str | None = None,
    color=None,
):
    r"""Plot :math:`\Delta E_B(t)` and, on a twin axis, :math:`P_B(t)` of a charging run.

    Call it again with the returned axes to overlay further runs (e.g. a unitary and a
    dephasing run): all runs share one twin axis for :math:`P_B`, each run gets its own
    colour, and one legend lists every curve.

    Parameters
    ----------
    result : ChargingResult
        The run to draw (from :func:`~qutip_centralspin.charge`), of any battery model.
    ax : matplotlib.axes.Axes, optional
        Primary axes to draw on (a new figure is made if ``None``). Pass the axes returned by an
        earlier call to overlay this run on it; its :math:`P_B` twin axis is reused.
    power : bool, default True
        Also draw :math:`P_B(t)` (dashed) on the twin axis. With ``False`` only
        :math:`\Delta E_B(t)` is drawn, and no twin axis is made for this run.
    label : str, optional
        Name of the run in the legend, which shows ``"{label}: $\Delta E_B$"`` and
        ``"{label}: $P_B$"``. Defaults to ``result.solver`` (e.g. ``"exact"``).
    color : matplotlib colour, optional
        Colour of both curves of this run. Defaults to the next colour of the property cycle,
        counted from the runs already on ``ax``: ``"C0"``, ``"C1"``, ...

    Returns
    -------
    matplotlib.axes.Axes
        The primary axes: time :math:`t` [:math:`1/A`] against the stored energy
        :math:`\Delta E_B` [:math:`A`] (solid). The twin axis (found again by later calls)
        holds the power :math:`P_B = \Delta E_B/t` [:math:`A^2`] (dashed, same colour).
        :math:`A` is the model's energy unit
        (:attr:`~qutip_centralspin.models.base.BatteryModel.energy_unit`: the coupling
        :math:`A` of the spin charger, :math:`\omega` of a cavity, :math:`\omega_c` of the
        Dicke charger).

    Notes
    -----
    The legend on the primary axes is rebuilt on every call from the lines of both axes. The
    title shows the model's parameters (:math:`N_B`, :math:`N` of a spin charger;
    :math:`N_B`, :math:`\omega`, :math:`g` of a cavity, ...) and the solver, keeping only what
    all overlaid runs share (runs with different :math:`N_B` drop :math:`N_B` from the title,
    and so on).

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CentralSpinModel, charge, dicke_state
    >>> from qutip_centralspin.plotting import plot_charging
    >>> from qutip_centralspin.models.processes import dephasing
    >>> model = CentralSpinModel(2, 4)
    >>> psi0 = dicke_state(model, 0, 4)
    >>> tlist = np.linspace(0, 2, 41)
    >>> ax = plot_charging(charge(model, psi0, tlist), label="unitary")
    >>> res = charge(model, psi0, tlist, processes=[dephasing(0.1)])
    >>> ax = plot_charging(res, ax=ax, label=r"dephasing $\gamma=0.1$")
    >>> len(ax.figure.axes)  # one P_B twin axis shared by both runs
    2
    >>> [line.get_color() for line in ax.get_lines()]
    ['C0', 'C1']
    >>> len(ax.get_legend().get_texts())
    4
    >>> ax.get_title()
    '$N_B=2$, $N=4$'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    if ax is not None and ax.get_gid() == _POWER_TWIN_GID:
        raise ValueError("pass the axes returned by plot_charging, not its P_B twin axis")
    ax = _axes(ax)
    model = result.model
    symbols = ";".join(f"{name}={value}" for name, value in model.symbols().items())
    unit = model.energy_unit
    if label is None:
        label = result.solver
    if color is None:
        color = f"C{len(_charging_runs(ax))}"
    ax.plot(
        result.times,
        result.delta_energy,
        color=color,
        label=rf"{label}: $\Delta E_B$",
        gid=f"{_RUN_GID}|{symbols}|{result.solver}",
    )
    ax.set_xlabel(rf"time $t$ [$1/{unit}$]")
    ax.set_ylabel(rf"stored energy $\Delta E_B$ [${unit}$]")
    twin = _power_twin(ax)
    if power:
        if twin is None:
            twin = ax.twinx()
            twin.set_gid(_POWER_TWIN_GID)
            twin.set_ylabel(rf"power $P_B = \Delta E_B/t$ [${unit}^2$]")
            # draw the primary axes, and so its legend, above the twin's curves; the twin
            # (drawn first) takes over the background
            ax.set_zorder(twin.get_zorder() + 1)
            twin.patch.set_facecolor(ax.patch.get_facecolor())
            twin.patch.set_visible(True)
            ax.patch.set_visible(False)
        twin.plot(result.times, result.power, color=color, ls="--", label=rf"{label}: $P_B$")
    handles, labels = ax.get_legend_handles_labels()
    if twin is not None:
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, loc="best")
    ax.set_title(_charging_title(_charging_runs(ax)))
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


def plot_cycle(cycle, ax=None, *, label: str | None = None, color=None):
    r"""Plot a battery cycle: :math:`\Delta E_B(t)` (solid) and the ergotropy :math:`W(t)`
    (dotted) through charging and storage, the switch-off :math:`t = \tau` marked.

    Parameters
    ----------
    cycle : BatteryCycle
        From :func:`qutip_centralspin.studies.cycle.battery_cycle`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (a new figure if ``None``); pass the returned axes to overlay cycles.
    label : str, optional
        Name of the cycle in the legend (default: none, just the quantities).
    color : matplotlib colour, optional
        Colour of both curves (default: the next colour of the cycle).

    Returns
    -------
    matplotlib.axes.Axes
        Time :math:`t` [:math:`1/A`] against energy [:math:`A`].

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, decay, dicke_state
    >>> from qutip_centralspin.studies.cycle import battery_cycle
    >>> from qutip_centralspin.plotting import plot_cycle
    >>> model = CentralSpinModel(2, 4)
    >>> cyc = battery_cycle(model, dicke_state(model, 0, 4), 0.5, 2.0, processes=decay(0.2))
    >>> ax = plot_cycle(cyc, label="decay")
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['decay: $\\Delta E_B$', 'decay: $W$']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    ax = _axes(ax)
    run = cycle.run
    if color is None:
        color = f"C{len([ln for ln in ax.get_lines() if ln.get_linestyle() == '-'])}"
    prefix = f"{label}: " if label else ""
    ax.plot(run.times, run.delta_energy, color=color, label=rf"{prefix}$\Delta E_B$")
    ax.plot(run.times, run.e_data["ergotropy"], color=color, ls=":", label=rf"{prefix}$W$")
    if not any(getattr(ln, "get_gid", lambda: None)() == "switch-off" for ln in ax.get_lines()):
        ax.axvline(cycle.tau, color="0.5", lw=0.8, ls="--", gid="switch-off")
        ax.axvspan(cycle.tau, cycle.tau + cycle.storage_time, color="0.9", zorder=0)
    ax.set_xlabel(r"time $t$ [$1/A$]")
    ax.set_ylabel(r"battery energy $\Delta E_B$, ergotropy $W$ [$A$]")
    ax.set_title(rf"charge ($\tau={cycle.tau:g}$), then store ($\lambda = 0$)")
    ax.legend(loc="best")
    return ax
