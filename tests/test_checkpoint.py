"""Resumable sweeps (``qutip_centralspin.studies.checkpoint``): a sweep stopped after k tasks, run again
with its checkpoint file, computes exactly the missing tasks and returns exactly (bit for bit)
what an uninterrupted sweep returns; crash residue is repaired; another sweep's file is refused.

Interruptions are simulated three ways: a map that raises after k results (an exception or
Ctrl-C in the caller), a map that returns early (a timeout), and a process killed with SIGKILL
in the middle of a sweep (nothing after the kill runs: only what was on disk survives).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import qutip

from qutip_centralspin.studies import checkpoint as ckpt_mod
from qutip_centralspin.studies.advantage import advantage_sweep
from qutip_centralspin.studies.checkpoint import Checkpoint, IncompleteMapError, checkpoint_map
from qutip_centralspin.studies.scaling import power_grid, scaling_sweep

ROOT = Path(__file__).resolve().parents[1]


class Crash(Exception):
    """Stands for whatever stops a job: a pre-emption, a node failure, Ctrl-C."""


def crashing_map(after: int, inner=qutip.serial_map):
    """A QuTiP map that raises :class:`Crash` once ``after`` results have been delivered."""

    def map_func(task, values, task_args=None, task_kwargs=None, reduce_func=None, **kw):
        delivered = []

        def reduce(result):
            left = reduce_func(result)
            delivered.append(1)
            if len(delivered) >= after:
                raise Crash(f"stopped after {after} results")
            return left

        return inner(task, values, task_args, task_kwargs, reduce_func=reduce, **kw)

    return map_func


class CountingMap:
    """A QuTiP map that records which values it was asked to compute (any inner map)."""

    def __init__(self, inner=qutip.serial_map, **map_kw):
        self.inner, self.map_kw, self.values = inner, map_kw, []

    def __call__(self, task, values, task_args=None, task_kwargs=None, **kw):
        self.values += [value for _tag, value in values]  # checkpoint_map sends (tag, value)
        if self.map_kw:
            kw["map_kw"] = {**(kw.get("map_kw") or {}), **self.map_kw}
        return self.inner(task, values, task_args, task_kwargs, **kw)


def records(path: Path) -> list[dict]:
    """The result lines of a checkpoint file (every line must be JSON)."""
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["format"] == ckpt_mod.FORMAT
    return [json.loads(line) for line in lines[1:]]


def assert_same_sweep(a, b):
    """Every field equal, bit for bit (NaN equal to NaN)."""
    for field in a.__dataclass_fields__:
        x, y = getattr(a, field), getattr(b, field)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            np.testing.assert_array_equal(x, y, err_msg=field)
            assert np.asarray(x).dtype == np.asarray(y).dtype, field
        else:
            assert x == y, field


# --- the three sweeps: interrupted after k tasks, resumed, equal to an uninterrupted run ------
SWEEPS = [
    pytest.param(
        lambda **kw: scaling_sweep(range(1, 7), 5, **kw),
        [1, 2, 3, 4, 5, 6],
        assert_same_sweep,
        id="scaling_sweep",
    ),
    pytest.param(
        lambda **kw: power_grid(range(1, 6), [1, 3, 7], **kw),
        [1, 2, 3, 4, 5],
        lambda a, b: np.testing.assert_array_equal(a, b),
        id="power_grid",
    ),
    pytest.param(
        lambda **kw: advantage_sweep([1, 2, 3], [4, 6], **kw),
        [["cell", 4], ["cell", 6], ["row", 1], ["row", 2], ["row", 3]],
        assert_same_sweep,
        id="advantage_sweep",
    ),
]


@pytest.mark.parametrize("sweep, keys, same", SWEEPS)
@pytest.mark.parametrize("k", [1, 3])
def test_interrupted_sweep_resumes_only_the_missing_tasks(tmp_path, sweep, keys, same, k):
    path = tmp_path / "sweep.jsonl"
    reference = sweep()  # no checkpoint
    with pytest.raises(Crash):
        sweep(checkpoint=path, map=crashing_map(after=k))
    assert [r["key"] for r in records(path)] == keys[:k]

    counting = CountingMap()
    resumed = sweep(checkpoint=path, map=counting)
    assert [list(v) if isinstance(v, tuple) else v for v in counting.values] == keys[k:]
    same(resumed, reference)
    assert sorted(map(json.dumps, (r["key"] for r in records(path)))) == sorted(
        map(json.dumps, keys)
    )

    again = CountingMap()
    same(sweep(checkpoint=path, map=again), reference)  # complete file: nothing computed
    assert again.values == []


def test_killed_process_resumes(tmp_path):
    """SIGKILL after 2 of 5 rows: the fsync-ed rows survive, the rest is computed on resume."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("no SIGKILL on this platform")
    path = tmp_path / "grid.jsonl"
    script = tmp_path / "killed.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, signal
            import qutip
            from qutip_centralspin.studies.scaling import power_grid

            def map_func(task, values, task_args=None, task_kwargs=None, reduce_func=None, **kw):
                done = []

                def reduce(result):
                    reduce_func(result)
                    done.append(1)
                    if len(done) == 2:
                        os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally

                return qutip.serial_map(task, values, task_args, task_kwargs,
                                        reduce_func=reduce, **kw)

            power_grid(range(1, 6), [2, 9], checkpoint={str(path)!r}, map=map_func)
            print("not reached")
            """
        )
    )
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "not reached" not in proc.stdout
    assert [r["key"] for r in records(path)] == [1, 2]

    counting = CountingMap()
    grid = power_grid(range(1, 6), [2, 9], checkpoint=path, map=counting)
    assert counting.values == [3, 4, 5]
    np.testing.assert_array_equal(grid, power_grid(range(1, 6), [2, 9]))


def test_map_that_returns_early_is_an_error_and_keeps_the_finished_tasks(tmp_path):
    """A map stopped by its timeout returns without every result: refused, not returned."""

    def first_only(task, values, task_args=None, task_kwargs=None, **kw):
        return qutip.serial_map(task, values[:1], task_args, task_kwargs, **kw)

    path = tmp_path / "s.jsonl"
    with pytest.raises(IncompleteMapError, match="2 of 3 tasks not done"):
        scaling_sweep([4, 5, 6], 3, checkpoint=path, map=first_only)
    assert [r["key"] for r in records(path)] == [4]
    with pytest.raises(IncompleteMapError):
        scaling_sweep([4, 5, 6], 3, map=first_only)  # without a checkpoint too
    counting = CountingMap()
    assert_same_sweep(
        scaling_sweep([4, 5, 6], 3, checkpoint=path, map=counting), scaling_sweep([4, 5, 6], 3)
    )
    assert counting.values == [5, 6]


# --- parallel maps: the workers compute, the calling process writes --------------------------
# (loky_pmap and mpi_pmap: tests/test_mpi.py, which needs the mpi extra)
PARALLEL = [pytest.param(qutip.parallel_map, id="parallel_map")]


@pytest.mark.parametrize("pmap", PARALLEL)
def test_parallel_map_writes_and_resumes(tmp_path, pmap):
    path = tmp_path / "grid.jsonl"
    reference = power_grid(range(1, 7), [1, 4])
    with pytest.raises(Crash):
        power_grid(range(1, 7), [1, 4], checkpoint=path, map=crashing_map(2))
    counting = CountingMap(pmap, num_cpus=2)
    grid = power_grid(range(1, 7), [1, 4], checkpoint=path, map=counting)
    assert sorted(counting.values) == [3, 4, 5, 6]
    np.testing.assert_array_equal(grid, reference)
    # results arrive in any order; the file holds each task once
    assert sorted(r["key"] for r in records(path)) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("pmap", PARALLEL)
def test_error_while_writing_stops_a_parallel_map_and_is_raised(tmp_path, pmap):
    """A result that cannot be written (not JSON) is raised, not lost on the map's thread."""
    with pytest.raises(ValueError, match="needs JSON data: the result for"):
        checkpoint_map(
            complex, [1, 2, 3], checkpoint=tmp_path / "c.jsonl", map=pmap, map_kw={"num_cpus": 2}
        )


# --- crash residue and damage -------------------------------------------------------------------
def _complete_file(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "grid.jsonl"
    power_grid(range(1, 5), [3, 5], checkpoint=path)
    return path, path.read_bytes()


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(
            lambda data: data[: data.rstrip(b"\n").rfind(b"\n") + 1 + 20], id="half-line"
        ),
        pytest.param(
            lambda data: data[: data.rstrip(b"\n").rfind(b"\n") + 1] + b"\0" * 64, id="nul-tail"
        ),
        pytest.param(lambda data: data[:-1], id="no-final-newline"),
    ],
)
def test_unfinished_last_line_is_dropped_and_recomputed(tmp_path, cut):
    path, complete = _complete_file(tmp_path)
    path.write_bytes(cut(complete))
    counting = CountingMap()
    grid = power_grid(range(1, 5), [3, 5], checkpoint=path, map=counting)
    assert counting.values == [4]  # the last row, and only it
    np.testing.assert_array_equal(grid, power_grid(range(1, 5), [3, 5]))
    assert path.read_bytes() == complete  # repaired: identical to an uninterrupted run


def test_header_cut_short_starts_afresh(tmp_path):
    path, complete = _complete_file(tmp_path)
    path.write_bytes(complete[:30])
    counting = CountingMap()
    power_grid(range(1, 5), [3, 5], checkpoint=path, map=counting)
    assert counting.values == [1, 2, 3, 4]
    assert path.read_bytes() == complete


def test_damaged_line_in_the_middle_is_refused(tmp_path):
    path, complete = _complete_file(tmp_path)
    lines = complete.split(b"\n")
    lines[2] = lines[2][:15]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ValueError, match="line 3 is not a record"):
        power_grid(range(1, 5), [3, 5], checkpoint=path)


# --- another sweep's file is refused, and left untouched ------------------------------------
REFUSED = [
    pytest.param(
        lambda p: power_grid(range(1, 5), [3, 5], B=2.0, checkpoint=p),
        "B: 1.0 in the file, 2.0 now",
        id="other-B",
    ),
    pytest.param(
        lambda p: power_grid(range(1, 5), [3, 6], checkpoint=p),
        r"n_charger: \[3,5\] in the file, \[3,6\] now",
        id="other-chargers",
    ),
    pytest.param(
        lambda p: power_grid(range(1, 5), [3, 5], initial="n=N_B", checkpoint=p),
        "initial: n=N in the file, n=N_B now",
        id="other-initial",
    ),
    pytest.param(
        lambda p: scaling_sweep(range(1, 5), 3, checkpoint=p),
        "sweep: power_grid in the file, scaling_sweep now",
        id="other-sweep",
    ),
    pytest.param(
        lambda p: advantage_sweep([1, 2], [3, 5], checkpoint=p),
        "holds results of '_row_task', not '_sweep_task'",
        id="other-task",
    ),
]


@pytest.mark.parametrize("call, match", REFUSED)
def test_other_parameters_are_refused(tmp_path, call, match):
    path, complete = _complete_file(tmp_path)
    with pytest.raises(ValueError, match=match):
        call(path)
    assert path.read_bytes() == complete


def test_same_parameters_spelled_differently_are_accepted(tmp_path):
    """B=1 (int) and B=1.0 are one sweep: nothing is recomputed."""
    path, _ = _complete_file(tmp_path)
    counting = CountingMap()
    power_grid([1, 2, 3, 4], (3, 5), B=1, A=1, checkpoint=path, map=counting)
    assert counting.values == []


def test_other_package_version_is_refused(tmp_path, monkeypatch):
    path, complete = _complete_file(tmp_path)
    monkeypatch.setattr(ckpt_mod, "__version__", "99.0")
    with pytest.raises(ValueError, match="results of two versions are not mixed"):
        power_grid(range(1, 5), [3, 5], checkpoint=path)
    assert path.read_bytes() == complete


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "fig5_pmax.csv"
    path.write_text("# P_max\n1.0,2.0\n")
    with pytest.raises(ValueError, match="is not a qutip-centralspin checkpoint"):
        power_grid(range(1, 3), [3], checkpoint=path)
    assert path.read_text() == "# P_max\n1.0,2.0\n"


def test_missing_folder_is_refused_before_any_work(tmp_path):
    counting = CountingMap()
    with pytest.raises(ValueError, match="does not exist"):
        power_grid([1], [2], checkpoint=tmp_path / "nope" / "g.jsonl", map=counting)
    assert counting.values == []


# --- the file and the generic map ----------------------------------------------------------------
def test_a_grid_can_grow_on_the_same_file(tmp_path):
    path = tmp_path / "grid.jsonl"
    power_grid(range(1, 4), [2, 5], checkpoint=path)
    counting = CountingMap()
    grid = power_grid(range(1, 7), [2, 5], checkpoint=path, map=counting)
    assert counting.values == [4, 5, 6]
    np.testing.assert_array_equal(grid, power_grid(range(1, 7), [2, 5]))


def test_results_round_trip_exactly_including_nan_inf_and_numpy(tmp_path):
    path = tmp_path / "odd.jsonl"
    odd = {
        0: [np.float64(0.1), np.int64(7), np.bool_(True), float("nan")],
        1: [float("inf"), -float("inf"), 5e-324, np.arange(3)],
    }
    first = checkpoint_map(odd.__getitem__, [0, 1], checkpoint=path, params={})
    again = checkpoint_map(odd.__getitem__, [0, 1], checkpoint=path, params={})
    assert json.dumps(first) == json.dumps(again)  # NaN == NaN as text
    assert first[0][0] == 0.1 and first[1][2] == 5e-324 and first[1][3] == [0, 1, 2]
    assert type(first[0][2]) is bool and type(first[0][1]) is int
    assert first[1][:2] == [float("inf"), -float("inf")] and first[0][3] != first[0][3]


def test_duplicate_values_are_computed_once(tmp_path):
    counting = CountingMap()
    out = checkpoint_map(abs, [-2, 3, -2], checkpoint=tmp_path / "a.jsonl", map=counting)
    assert out == [2, 3, 2] and counting.values == [-2, 3]


def test_values_that_are_not_json_are_refused_before_any_work(tmp_path):
    counting = CountingMap()
    with pytest.raises(ValueError, match="needs JSON data: the value"):
        checkpoint_map(abs, [1, object()], checkpoint=tmp_path / "a.jsonl", map=counting)
    assert counting.values == [] and not (tmp_path / "a.jsonl").exists()


def test_checkpoint_object_reads_what_it_wrote(tmp_path):
    path = tmp_path / "c.jsonl"
    with Checkpoint(path, "t", {"x": 1}) as ckpt:
        assert len(ckpt) == 0
        assert ckpt.record((1, "a"), (2.5, None)) == [2.5, None]
    with Checkpoint(path, "t", {"x": 1}) as ckpt:
        assert len(ckpt) == 1 and [1, "a"] in ckpt and ckpt[(1, "a")] == [2.5, None]


def test_a_sweep_that_fails_before_any_result_leaves_no_file(tmp_path):
    """A wrong argument must not leave a file that would refuse the corrected call."""
    path = tmp_path / "g.jsonl"
    with pytest.raises(ValueError, match="n_battery <= n_charger"):
        power_grid([3, 4], [2], initial="n=N_B", checkpoint=path)
    with pytest.raises(ValueError, match="initial must be one of"):
        scaling_sweep([1, 2], 3, initial="n=2", checkpoint=path)
    assert not path.exists()
    power_grid([1, 2], [2], initial="n=N_B", checkpoint=path)  # the corrected call runs
    assert [r["key"] for r in records(path)] == [1, 2]
