"""``qutip-centralspin reproduce --checkpoint DIR [--resume]``: an interrupted run, resumed,
computes only the missing sweep tasks and writes exactly what an uninterrupted run writes.

The paper's grids are shrunk (same structure: three chargers per figure, Table I's six fits)
and the PNGs are not drawn, so each run takes well under a second; the sweeps, the checkpoint
files, the CLI flags and the CSV outputs are the real ones.
"""

import json

import matplotlib.pyplot as plt
import pytest
import qutip

from qutip_centralspin import cli
from qutip_centralspin.paper import data as paper
from qutip_centralspin.paper import reproduce

SMALL = {
    "FIG3": paper.Figure3Setting(
        n_charger=(5, 10, 15), n_battery=range(1, 6), initial="n=N", fit_window=(1, 5)
    ),
    "FIG4": paper.Figure3Setting(
        n_charger=(100, 200, 300), n_battery=range(1, 4), initial="n=N_B", fit_window=(1, 3)
    ),
    "FIG5": {"n_battery": range(1, 4), "n_charger": range(1, 6), "initial": "n=N"},
}
#: Map tasks of the small run: one per battery size of each sweep.
TASKS = 3 * 5 + 3 * 3 + 3
OUTPUTS = ("fig5_pmax.csv", "table1.csv")


def _no_png(fig, path):
    plt.close(fig)
    path.write_bytes(b"")
    return path


@pytest.fixture
def small_run(monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setattr(paper, name, value)
    monkeypatch.setattr(reproduce, "_fig2", lambda out: [])  # Fig. 2 has no sweep
    monkeypatch.setattr(reproduce, "_save", _no_png)


def run(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def table_lines(out: str) -> list[str]:
    """The printed Table I: its column names and rows (not the lines naming paths and times)."""
    return [line for line in out.splitlines() if line.startswith(" ")]


def records(folder) -> list[list]:
    """The keys recorded in every checkpoint file of a run, file by file."""
    return [
        [json.loads(line)["key"] for line in path.read_text().splitlines()[1:]]
        for path in reproduce.checkpoint_files(folder)
        if path.exists()
    ]


def interrupt_after(k: int):
    """``qutip.serial_map`` that raises KeyboardInterrupt (Ctrl-C, a pre-emption) after k
    results in all, counted over every sweep of the run."""
    inner, delivered = qutip.serial_map, []

    def map_func(task, values, task_args=None, task_kwargs=None, reduce_func=None, **kw):
        def reduce(result):
            reduce_func(result)
            delivered.append(1)
            if len(delivered) == k:
                raise KeyboardInterrupt

        return inner(task, values, task_args, task_kwargs, reduce_func=reduce, **kw)

    return map_func


@pytest.fixture
def reference(small_run, capsys, tmp_path):
    """Table and CSV files of an uninterrupted run without checkpoints."""
    code, out, err = run(capsys, "reproduce", "--out", str(tmp_path / "ref"))
    assert code == 0, err
    return table_lines(out), {name: (tmp_path / "ref" / name).read_bytes() for name in OUTPUTS}


@pytest.mark.parametrize("k", [4, 20])
def test_interrupted_reproduce_resumes_and_matches(capsys, monkeypatch, tmp_path, reference, k):
    out_dir, ckpt = tmp_path / "figs", tmp_path / "ckpt"
    argv = ["reproduce", "--out", str(out_dir), "--checkpoint", str(ckpt)]
    with monkeypatch.context() as patch:
        patch.setattr(qutip, "serial_map", interrupt_after(k))
        code, out, err = run(capsys, *argv)
    assert code == 130 and err.splitlines()[-1] == "qutip-centralspin: interrupted"
    assert not out_dir.exists()  # no result folder, but k tasks on disk
    assert sum(map(len, records(ckpt))) == k
    before = {p: p.read_bytes() for p in reproduce.checkpoint_files(ckpt) if p.exists()}

    # the same command again is refused: the folder holds a run
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "--resume" in err

    asked = []
    serial = qutip.serial_map

    def counting(task, values, *args, **kwargs):
        asked.extend(values)
        return serial(task, values, *args, **kwargs)

    monkeypatch.setattr(qutip, "serial_map", counting)
    argv.append("--resume")
    code, out, err = run(capsys, *argv, "--progress")
    assert code == 0, err
    assert len(asked) == TASKS - k  # only the missing tasks
    assert table_lines(out) == reference[0]
    for name in OUTPUTS:
        assert (out_dir / name).read_bytes() == reference[1][name], name
    assert "Total run time" in err and "Total run time" not in out  # bars on stderr
    # append-only: what was on disk is kept as it was, then each task once
    for path, data in before.items():
        assert path.read_bytes().startswith(data)
    assert sum(map(len, records(ckpt))) == TASKS

    asked.clear()  # a complete checkpoint: nothing is computed
    assert run(capsys, *argv)[0] == 0 and asked == []


def test_resume_with_a_process_pool(capsys, monkeypatch, tmp_path, reference):
    """--jobs 2 resumes a serial run: the workers compute, the main process writes."""
    ckpt = tmp_path / "ckpt"
    with monkeypatch.context() as patch:
        patch.setattr(qutip, "serial_map", interrupt_after(9))
        assert (
            run(capsys, "reproduce", "--out", str(tmp_path / "x"), "--checkpoint", str(ckpt))[0]
            == 130
        )
    out_dir = tmp_path / "figs"
    argv = ["reproduce", "--out", str(out_dir), "--checkpoint", str(ckpt), "--resume"]
    code, out, err = run(capsys, *argv, "--jobs", "2")
    assert code == 0, err
    assert sum(map(len, records(ckpt))) == TASKS  # 9 kept + the rest, none twice
    assert table_lines(out) == reference[0]
    for name in OUTPUTS:
        assert (out_dir / name).read_bytes() == reference[1][name], name


def test_a_fresh_checkpoint_folder_needs_no_resume(capsys, small_run, tmp_path):
    ckpt = tmp_path / "new" / "ckpt"
    argv = ["reproduce", "--out", str(tmp_path / "figs"), "--checkpoint", str(ckpt)]
    assert run(capsys, *argv)[0] == 0
    assert [len(keys) for keys in records(ckpt)] == [5, 5, 5, 3, 3, 3, 3]
    assert run(capsys, *argv, "--resume")[0] == 0  # --resume on a complete run: reads it back


@pytest.mark.parametrize(
    "extra, match",
    [
        pytest.param(["--resume"], "--resume needs --checkpoint", id="resume-alone"),
        pytest.param(["--checkpoint", "{file}"], "is a file", id="checkpoint-is-a-file"),
        pytest.param(["--progress", "txt"], "invalid choice", id="bad-bar"),
    ],
)
def test_refusals_are_one_line_before_any_work(capsys, monkeypatch, tmp_path, extra, match):
    afile = tmp_path / "afile"
    afile.write_text("x")
    asked = []
    monkeypatch.setattr(qutip, "serial_map", lambda *a, **k: asked.append(1))
    argv = ["reproduce", "--out", str(tmp_path / "figs")] + [e.format(file=afile) for e in extra]
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and match in err
    assert asked == [] and afile.read_text() == "x"
