"""Reproduce every figure and Table I of the paper: data, PNGs and ``table1.csv``.

This module computes and draws; the CLI (``qutip-centralspin reproduce``) only calls
:func:`reproduce` and prints the table. With ``checkpoint=FOLDER`` every sweep writes its
finished tasks there (one file per sweep, :mod:`qutip_centralspin.studies.checkpoint`), so an
interrupted run, started again with the same folder, computes only what is missing.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import qutip

from .. import _progress
from ..charging import charge
from ..models.operators import charger_hamiltonian, interaction_hamiltonian
from ..models.spin import CentralSpinModel
from ..models.states import dicke_state
from ..plotting import plot_max_energy, plot_max_power, plot_power_grid, plot_single_spin_energies
from ..studies.scaling import beta_limit, fit_power_law, power_grid, scaling_sweep
from . import analytic
from . import data as paper

__all__ = ["TableIRow", "reproduce", "table_one", "checkpoint_files", "TABLE_COLUMNS"]

TABLE_COLUMNS = ("regime", "N", "alpha", "beta", "alpha_paper", "beta_paper", "beta_limit")


@dataclass(frozen=True)
class TableIRow:
    """One row of our Table I beside the paper's (``beta_limit = c* sqrt(N)``, Eq. 31)."""

    regime: str
    N: int
    alpha: float
    beta: float
    alpha_paper: float
    beta_paper: float
    beta_limit: float


def _fig2(out: Path) -> list[Path]:
    files = []
    for panel, params in paper.FIG2_PANELS.items():
        model = CentralSpinModel(1, paper.FIG2_N, **params)
        n = paper.FIG2_n
        omega = analytic.single_spin_rabi_frequency(model, n)
        x = np.linspace(0, 2 * np.pi, 401)  # Omega_n t / 2
        t = 2 * x / omega
        res = charge(
            model,
            dicke_state(model, 0, n),
            t,
            e_ops={"E_C": charger_hamiltonian(model), "E_I": interaction_hamiltonian(model)},
        )
        numeric = {
            "dE_B": res.delta_energy,
            "dE_C": res.e_data["E_C"] - res.e_data["E_C"][0],
            "E_I": res.e_data["E_I"],
        }
        cf = analytic.single_spin_energies(model, n, t)
        closed = {
            "dE_B": cf["E_B"] - cf["E_B"][0],
            "dE_C": cf["E_C"] - cf["E_C"][0],
            "E_I": cf["E_I"],
        }
        fig, ax = plt.subplots(figsize=(6, 4.6))
        title = (
            f"Fig. 2({panel}): B={params['B']:g}, h={params['h']:g}, "
            rf"$\Delta$={params['delta']:g}, N={paper.FIG2_N}, n={n}"
        )
        plot_single_spin_energies(x, numeric, closed, ax=ax, title=title)
        files.append(_save(fig, out / f"fig2{panel}.png"))
    return files


def _sweeps(setting, name, sweep_kw, checkpoints):
    sweeps = [
        scaling_sweep(
            setting.n_battery,
            n,
            initial=setting.initial,
            checkpoint=_checkpoint(checkpoints, f"{name}_N{n}"),
            **sweep_kw,
        )
        for n in setting.n_charger
    ]
    fits = [fit_power_law(s.n_battery, s.p_max, setting.fit_window) for s in sweeps]
    return sweeps, fits


def _scaling_figure(out, name, sweeps, fits, per_spin):
    files = []
    fig, ax = plt.subplots(figsize=(5, 3.6))
    plot_max_energy(sweeps, ax=ax, per_spin=per_spin)
    ax.set_title(f"Fig. {name[3:]}(a): maximum energy")
    files.append(_save(fig, out / f"{name}a.png"))
    fig, ax = plt.subplots(figsize=(5, 3.6))
    plot_max_power(sweeps, fits, ax=ax)
    ax.set_title(f"Fig. {name[3:]}(b): maximum power")
    files.append(_save(fig, out / f"{name}b.png"))
    return files


def table_one(fits_lower, fits_upper) -> list[TableIRow]:
    """Assemble Table I from the Fig. 3 (lower) and Fig. 4 (upper) fits."""
    rows = []
    for pub, fit in zip(paper.TABLE_I, list(fits_lower) + list(fits_upper), strict=True):
        rows.append(
            TableIRow(
                pub.regime,
                pub.n_charger,
                fit.alpha,
                fit.beta,
                pub.alpha,
                pub.beta,
                float(beta_limit(pub.n_charger)),
            )
        )
    return rows


def _checkpoint(folder: Path | None, name: str) -> Path | None:
    """The checkpoint file of one sweep in ``folder`` (None: no checkpoints)."""
    return None if folder is None else folder / f"{name}.jsonl"


def checkpoint_files(folder) -> list[Path]:
    """The checkpoint files ``reproduce(checkpoint=folder)`` writes, in the order it writes them."""
    names = [f"fig3_N{n}" for n in paper.FIG3.n_charger]
    names += [f"fig4_N{n}" for n in paper.FIG4.n_charger]
    return [Path(folder) / f"{name}.jsonl" for name in [*names, "fig5"]]


def reproduce(
    out_dir="figures",
    *,
    map=qutip.serial_map,  # noqa: A002 - QuTiP's name for it
    progress_bar=None,
    progress_kwargs: dict | None = None,
    checkpoint=None,
    log=None,
) -> dict:
    """Compute and write Figs. 2(a-d), 3(a,b), 4(a,b), 5 and ``table1.csv`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing. The files are written into a temporary folder beside it and
        moved in only when all are done (``table1.csv`` last), so an interrupted run leaves
        ``out_dir`` as it was.
    map : callable
        QuTiP map function for the sweeps (``qutip.serial_map``, ``qutip.parallel_map``, ...).
    progress_bar : {"text", "enhanced", "tqdm", "html", "", None}
        QuTiP's progress bar, one per sweep, on stderr; ``progress_kwargs`` go to it.
    checkpoint : str or Path, optional
        A folder (created if missing) for the checkpoint files of the sweeps, one per sweep
        (:func:`checkpoint_files`). Run again with the same folder, finished tasks are read
        back instead of computed. The files stay after a complete run: delete the folder to
        start afresh.
    log : callable, optional
        Called with a one-line message after each stage (the CLI passes ``print``).

    Returns
    -------
    dict
        ``{"table": [TableIRow, ...], "files": [Path, ...], "seconds": {...}}``.
    """
    _progress.check(progress_bar, progress_kwargs)  # a bad name fails before any work
    sweep_kw = {"map": map, "progress_bar": progress_bar, "progress_kwargs": progress_kwargs}
    checkpoints = None if checkpoint is None else Path(checkpoint)
    if checkpoints is not None:
        if checkpoints.exists() and not checkpoints.is_dir():
            raise ValueError(f"checkpoint {str(checkpoint)!r} is a file, expected a folder")
        checkpoints.mkdir(parents=True, exist_ok=True)
    target = Path(out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    # everything is written beside the target first and moved in when complete, so an
    # interrupted run never leaves a folder that looks like a result
    out = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    try:
        result = _write_all(out, sweep_kw, checkpoints, log)
        moved = []
        target.mkdir(exist_ok=True)
        for path in result["files"]:  # table1.csv last: it marks a complete set
            final = target / path.name
            os.replace(path, final)
            moved.append(final)
        result["files"] = moved
        return result
    finally:
        shutil.rmtree(out, ignore_errors=True)


def _write_all(out: Path, sweep_kw: dict, checkpoints: Path | None, log) -> dict:
    """Compute every figure and the table into the folder ``out``.

    ``sweep_kw``: ``map``, ``progress_bar``, ``progress_kwargs`` of every sweep;
    ``checkpoints``: the folder of their checkpoint files, or None.
    """
    say = log or (lambda msg: None)
    files, seconds = [], {}

    start = time.perf_counter()
    files += _fig2(out)
    seconds["fig2"] = time.perf_counter() - start
    say(f"Fig. 2 (a-d) written ({seconds['fig2']:.1f} s)")

    start = time.perf_counter()
    sweeps3, fits3 = _sweeps(paper.FIG3, "fig3", sweep_kw, checkpoints)
    files += _scaling_figure(out, "fig3", sweeps3, fits3, per_spin=False)
    seconds["fig3"] = time.perf_counter() - start
    say(f"Fig. 3 (a, b) written ({seconds['fig3']:.1f} s)")

    start = time.perf_counter()
    sweeps4, fits4 = _sweeps(paper.FIG4, "fig4", sweep_kw, checkpoints)
    files += _scaling_figure(out, "fig4", sweeps4, fits4, per_spin=True)
    seconds["fig4"] = time.perf_counter() - start
    say(f"Fig. 4 (a, b) written ({seconds['fig4']:.1f} s)")

    start = time.perf_counter()
    nb, nc = paper.FIG5["n_battery"], paper.FIG5["n_charger"]
    grid = power_grid(
        nb,
        nc,
        initial=paper.FIG5["initial"],
        checkpoint=_checkpoint(checkpoints, "fig5"),
        **sweep_kw,
    )
    fig, ax = plt.subplots(figsize=(5.5, 4))
    plot_power_grid(nb, nc, grid, ax=ax)
    ax.set_title(r"Fig. 5: $P_{max}$, $m=0$, $n=N$")
    files.append(_save(fig, out / "fig5.png"))
    np.savetxt(
        out / "fig5_pmax.csv",
        grid,
        delimiter=",",
        header=f"P_max; rows N_B={nb.start}..{nb.stop - 1}, cols N={nc.start}..{nc.stop - 1}",
    )
    files.append(out / "fig5_pmax.csv")
    seconds["fig5"] = time.perf_counter() - start
    say(f"Fig. 5 ({len(nb) * len(nc)} configurations) written ({seconds['fig5']:.1f} s)")

    table = table_one(fits3, fits4)
    path = out / "table1.csv"
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(TABLE_COLUMNS)
        for row in table:
            writer.writerow(
                [
                    row.regime,
                    row.N,
                    f"{row.alpha:.6f}",
                    f"{row.beta:.6f}",
                    row.alpha_paper,
                    row.beta_paper,
                    f"{row.beta_limit:.6f}",
                ]
            )
    files.append(path)
    return {"table": table, "files": files, "seconds": seconds}


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return path
