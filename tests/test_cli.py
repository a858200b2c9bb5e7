"""Command line: ``qutip_centralspin.cli.main``, ``python -m qutip_centralspin`` and the script."""

import csv
import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tolerances import CERTIFIED_RTOL, TAU_RTOL

from qutip_centralspin import CentralSpinModel, __version__, max_energy, max_power
from qutip_centralspin.cli import main
from qutip_centralspin.paper import data as paper
from qutip_centralspin.paper.analytic import c_star
from qutip_centralspin.solvers import SectorEngine

# --- tolerances of this file (each with the reason for its size) ------------------------------
SAME_CALL_RTOL = 1e-12  # CLI and API run the same certified search; JSON floats round-trip
TEXT_RTOL = 1e-11  # the text output prints 12 significant digits
CURVE_ATOL = 1e-12  # charge --json Delta E_B vs the engine on the same grid (machine precision)
TABLE_ALPHA_ATOL = 0.002  # the Table I target for alpha
TABLE_BETA_RTOL = 0.002  # the Table I target for beta (0.2 %)

REPO = Path(__file__).resolve().parents[1]
TABLE_HEADER = "regime,N,alpha,beta,alpha_paper,beta_paper,beta_limit"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_main(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_module(*argv, timeout=120):
    """``python -m qutip_centralspin ...`` in a fresh interpreter (repo importable)."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "qutip_centralspin", *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=REPO,
    )


def strict_json(text):
    """json.loads that rejects the non-standard NaN / Infinity tokens (as jq, JS, Go do)."""

    def reject(token):
        raise ValueError(f"non-standard JSON token {token}")

    return json.loads(text, parse_constant=reject)


# --- pmax ------------------------------------------------------------------------------------
PMAX_ARGS = [
    "pmax",
    "--nb",
    "3",
    "--n",
    "6",
    "--m0",
    "1",
    "--n0",
    "4",
    "--B",
    "1.5",
    "--h",
    "0.7",
    "--A",
    "0.9",
    "--delta",
    "0.2",
]
PMAX_MODEL = CentralSpinModel(3, 6, B=1.5, h=0.7, A=0.9, delta=0.2)
PMAX_STATE = (1, 4)


def test_pmax_json_equals_api(capsys):
    code, out, err = run_main(capsys, *PMAX_ARGS, "--json")
    assert code == 0 and err == ""
    data = strict_json(out)
    assert {"p_max", "t_pmax", "e_max"} <= set(data)
    p, e = max_power(PMAX_MODEL, PMAX_STATE), max_energy(PMAX_MODEL, PMAX_STATE)
    assert data["p_max"] == pytest.approx(p.value, rel=SAME_CALL_RTOL)
    assert data["t_pmax"] == pytest.approx(p.time, rel=SAME_CALL_RTOL)
    assert data["e_max"] == pytest.approx(e.value, rel=SAME_CALL_RTOL)


def test_pmax_json_default_state_is_full_charger(capsys):
    code, out, _ = run_main(capsys, "pmax", "--nb", "1", "--n", "8", "--json")
    assert code == 0
    data = json.loads(out)
    model = CentralSpinModel(1, 8)
    # N_B = 1 from |0, N>: c* sqrt(b_{N,N}) = c* sqrt(N)  (Eq. 15), independent of the engine
    assert data["p_max"] == pytest.approx(c_star()[0] * math.sqrt(8), rel=CERTIFIED_RTOL)
    assert data["p_max"] == pytest.approx(max_power(model, (0, 8)).value, rel=SAME_CALL_RTOL)


def test_pmax_text(capsys):
    code, out, err = run_main(capsys, *PMAX_ARGS)
    assert code == 0 and err == ""
    p, e = max_power(PMAX_MODEL, PMAX_STATE), max_energy(PMAX_MODEL, PMAX_STATE)
    number = r"([-+0-9.eE]+|inf)"
    values = {
        k: float(re.search(rf"{k}\s*=\s*{number}", out).group(1))
        for k in ("P_max", "tau", "E_max")
    }
    assert values["P_max"] == pytest.approx(p.value, rel=TEXT_RTOL)
    assert values["tau"] == pytest.approx(p.time, rel=TAU_RTOL)
    assert values["E_max"] == pytest.approx(e.value, rel=TEXT_RTOL)


def test_pmax_json_of_stationary_state_is_standard_json(capsys):
    code, out, _ = run_main(capsys, "pmax", "--nb", "2", "--n", "3", "--n0", "0", "--json")
    assert code == 0
    data = strict_json(out)
    assert data["p_max"] == 0.0


def test_pmax_stationary_state_values(capsys):
    code, out, _ = run_main(capsys, "pmax", "--nb", "2", "--n", "3", "--n0", "0", "--json")
    assert code == 0
    data = strict_json(out)  # an unattained tau (inf) is written as null
    assert data["p_max"] == 0.0 and data["t_pmax"] is None and data["e_max"] == 0.0


# --- charge ----------------------------------------------------------------------------------
def test_charge_json(capsys):
    args = ["charge", "--nb", "2", "--n", "5", "--n0", "4", "--B", "1.2", "--points", "101"]
    code, out, err = run_main(capsys, *args, "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert {"t", "delta_e", "p_max", "t_pmax", "e_max"} <= set(data)
    model = CentralSpinModel(2, 5, B=1.2)
    t = np.asarray(data["t"])
    delta_e = np.asarray(data["delta_e"])
    assert t.shape == delta_e.shape == (101,)
    tau = max_power(model, (0, 4)).time
    assert t[0] == 0.0 and t[-1] == pytest.approx(3 * tau, rel=SAME_CALL_RTOL)  # default 3 tau
    np.testing.assert_allclose(
        delta_e, SectorEngine(model).evolve((0, 4)).delta_energy(t), atol=CURVE_ATOL
    )
    power = delta_e[1:] / t[1:]
    assert data["p_max"] == pytest.approx(power.max(), rel=SAME_CALL_RTOL)
    assert data["t_pmax"] == pytest.approx(t[1 + np.argmax(power)], rel=SAME_CALL_RTOL)
    assert data["e_max"] == pytest.approx(delta_e.max(), rel=SAME_CALL_RTOL)
    # a grid value never beats the certified maximum
    assert data["p_max"] <= max_power(model, (0, 4)).upper_bound


def test_charge_text_and_t_max(capsys):
    code, out, _ = run_main(
        capsys, "charge", "--nb", "2", "--n", "3", "--t-max", "2.5", "--points", "11"
    )
    assert code == 0
    assert "P_max" in out and "E_max" in out
    code, out, _ = run_main(
        capsys, "charge", "--nb", "2", "--n", "3", "--t-max", "2.5", "--points", "11", "--json"
    )
    assert json.loads(out)["t"] == pytest.approx(np.linspace(0, 2.5, 11).tolist(), rel=1e-15)


def test_charge_plot_writes_png(capsys, tmp_path):
    target = tmp_path / "charging.png"
    code, _, err = run_main(capsys, "charge", "--nb", "2", "--n", "4", "--plot", str(target))
    assert code == 0 and err == ""
    data = target.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 1000


# --- bad arguments: exit code 2 and exactly one line on stderr --------------------------------
BAD_ARGS = {
    "nb-zero": ["pmax", "--nb", "0", "--n", "3"],
    "nb-not-int": ["pmax", "--nb", "x", "--n", "3"],
    "n0-too-big": ["pmax", "--nb", "2", "--n", "3", "--n0", "4"],
    "n0-negative": ["pmax", "--nb", "2", "--n", "3", "--n0", "-1"],
    "m0-too-big": ["pmax", "--nb", "2", "--n", "3", "--m0", "3"],
    "unknown-flag": ["pmax", "--nb", "2", "--n", "3", "--bogus"],
    "missing-n": ["pmax", "--nb", "2"],
    "nan-field": ["pmax", "--nb", "2", "--n", "3", "--B", "nan"],
    "unknown-command": ["frobnicate"],
    "charge-nb-zero": ["charge", "--nb", "0", "--n", "3"],
    "charge-points": ["charge", "--nb", "2", "--n", "3", "--points", "1"],
    "charge-t-max": ["charge", "--nb", "2", "--n", "3", "--t-max", "-1"],
    "reproduce-jobs": ["reproduce", "--jobs", "0"],
}


@pytest.mark.parametrize("name", list(BAD_ARGS))
def test_bad_arguments_one_line_exit_2(name, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a reproduce that wrongly runs writes here, not in the repo
    code, out, err = run_main(capsys, *BAD_ARGS[name])
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "error" in lines[0]
    assert out == ""


@pytest.mark.parametrize("name", ["nb-not-int", "missing-n"])
def test_bad_arguments_subprocess(name):
    proc = run_module(*BAD_ARGS[name])
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    assert proc.stdout == ""


def test_version(capsys):
    code, out, _ = run_main(capsys, "--version")
    assert code == 0
    assert out.strip() == f"qutip-centralspin {__version__}"


def test_no_command_prints_help_and_exits_2(capsys):
    code, out, _ = run_main(capsys)
    assert code == 2
    assert "usage" in out.lower()


# --- python -m and the console script ----------------------------------------------------------
def test_python_dash_m_pmax_json():
    proc = run_module(*PMAX_ARGS, "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["p_max"] == pytest.approx(
        max_power(PMAX_MODEL, PMAX_STATE).value, rel=SAME_CALL_RTOL
    )
    assert data["e_max"] == pytest.approx(
        max_energy(PMAX_MODEL, PMAX_STATE).value, rel=SAME_CALL_RTOL
    )


def test_console_script_version():
    exe = shutil.which("qutip-centralspin")
    if exe is None:
        pytest.skip("console script qutip-centralspin is not on PATH (package not installed)")
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"qutip-centralspin {__version__}"


# --- reproduce (slow) ----------------------------------------------------------------------------
#: The files of the main job: Figs. 2-5 and Table I of the paper.
REPRODUCE_OUTPUTS = (
    "fig2a.png",
    "fig2b.png",
    "fig2c.png",
    "fig2d.png",
    "fig3a.png",
    "fig3b.png",
    "fig4a.png",
    "fig4b.png",
    "fig5.png",
    "fig5_pmax.csv",
    "table1.csv",
)


@pytest.mark.slow
def test_reproduce_writes_every_file(capsys, tmp_path):
    out_dir = tmp_path / "figs"
    code, out, err = run_main(capsys, "reproduce", "--out", str(out_dir))
    assert code == 0, err
    for name in REPRODUCE_OUTPUTS:
        path = out_dir / name
        assert path.is_file() and path.stat().st_size > 0, name
        if name.endswith(".png"):
            assert path.read_bytes()[:8] == PNG_MAGIC, name
    lines = (out_dir / "table1.csv").read_text().splitlines()
    assert lines[0] == TABLE_HEADER
    rows = list(csv.DictReader(lines))
    assert len(rows) == 6
    for row, pub in zip(rows, paper.TABLE_I, strict=True):
        assert (row["regime"], int(row["N"])) == (pub.regime, pub.n_charger)
        assert float(row["alpha"]) == pytest.approx(pub.alpha, abs=TABLE_ALPHA_ATOL)
        assert float(row["beta"]) == pytest.approx(pub.beta, rel=TABLE_BETA_RTOL)
        assert float(row["alpha_paper"]) == pub.alpha and float(row["beta_paper"]) == pub.beta
    grid = np.loadtxt(out_dir / "fig5_pmax.csv", delimiter=",")
    assert grid.shape == (40, 200) and np.all(grid > 0)
    assert "Table I" in out


# --- charge with dissipative processes (issue 5) -----------------------------------------------
#: The flag scheme of issue 5, written out independently of the package's tables.
PROCESS_FLAG_CASES = [
    ("--dephasing", "dephasing", "battery", "local"),
    ("--decay", "decay", "battery", "local"),
    ("--pumping", "pumping", "battery", "local"),
    ("--charger-dephasing", "dephasing", "charger", "local"),
    ("--charger-decay", "decay", "charger", "local"),
    ("--collective-dephasing", "dephasing", "battery", "collective"),
    ("--collective-charger-decay", "decay", "charger", "collective"),
]
OPEN_RTOL = 1e-12  # same block solver, same grid: only JSON float round trip differs


@pytest.mark.parametrize(
    "flag, kind, target, scope", [pytest.param(*c, id=c[0]) for c in PROCESS_FLAG_CASES]
)
def test_charge_process_flag_runs_that_process(capsys, flag, kind, target, scope):
    from qutip_centralspin import charge, dicke_state
    from qutip_centralspin.models.processes import Process

    argv = ["charge", "--nb", "2", "--n", "3", "--t-max", "1.0", "--points", "21", flag, "0.3"]
    code, out, err = run_main(capsys, *argv, "--json")
    assert code == 0, err
    data = strict_json(out)
    model = CentralSpinModel(2, 3)
    ref = charge(
        model,
        dicke_state(model, 0, 3),
        np.linspace(0, 1.0, 21),
        processes=[Process(kind, 0.3, target=target, scope=scope)],
    )
    np.testing.assert_allclose(data["delta_e"], ref.delta_energy, rtol=OPEN_RTOL, atol=1e-14)
    closed = charge(model, dicke_state(model, 0, 3), np.linspace(0, 1.0, 21))
    assert np.max(np.abs(ref.delta_energy - closed.delta_energy)) > 1e-4  # the process acts


def test_charge_negative_rate_is_a_one_line_error(capsys):
    code, _, err = run_main(capsys, "charge", "--nb", "2", "--n", "3", "--decay", "-0.1")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "decay" in err
