"""The command line at its edges: one line on stderr and exit 2 for every refusal, checked
before any computing; negative numbers in both spellings; Ctrl-C; atomic ``reproduce``."""

import time

import pytest

from qutip_centralspin import cli
from qutip_centralspin.paper import reproduce


def _run(capsys, *argv):
    start = time.perf_counter()
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err, time.perf_counter() - start


REFUSED = [
    pytest.param(
        ["charge", "--nb", "200", "--n", "200", "--decay", "0.1"],
        "memory limit",
        id="open-too-large",
    ),
    pytest.param(
        ["charge", "--nb", "1000", "--n", "1000", "--dephasing", "0.1"],
        "memory limit",
        id="open-huge",
    ),
    pytest.param(
        ["charge", "--nb", "2", "--n", "3", "--points", "30000000"],
        "memory limit",
        id="too-many-points",
    ),
    pytest.param(["pmax", "--nb", "100000", "--n", "100000"], "memory limit", id="pmax-huge"),
    pytest.param(
        ["charge", "--nb", "2", "--n", "3", "--plot", "/nonexistent/dir/x.png"],
        "does not exist",
        id="plot-folder",
    ),
    pytest.param(
        ["charge", "--nb", "2", "--n", "3", "--t-max", "inf"], "finite number", id="t-max-inf"
    ),
    pytest.param(["charge", "--nb", "2", "--n", "3", "--B", "nan"], "finite number", id="B-nan"),
    pytest.param(
        ["charge", "--nb", "2", "--n", "3", "--dephasing", "-0.1"],
        "dephasing must be",
        id="negative-rate",
    ),
    pytest.param(["pmax", "--nb", "0", "--n", "3"], "n_battery", id="nb-zero"),
]


@pytest.mark.parametrize("argv, match", REFUSED)
def test_refusals_are_one_line_exit_2_and_fast(capsys, monkeypatch, argv, match):
    monkeypatch.setenv("QUTIP_CENTRALSPIN_MAX_MEMORY", "4G")
    code, out, err, seconds = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and match in err
    assert seconds < 10


def test_output_folder_that_is_a_file(capsys, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, out, err, seconds = _run(capsys, "reproduce", "--out", str(afile))
    assert code == 2 and "is a file" in err and seconds < 5
    assert afile.read_text() == "x"


@pytest.mark.parametrize("value", ["-1e-3", "-0.25", "-2"])
def test_negative_numbers_in_both_spellings(capsys, value):
    a = _run(capsys, "pmax", "--nb", "2", "--n", "3", "--delta", value, "--json")
    b = _run(capsys, "pmax", "--nb", "2", "--n", "3", f"--delta={value}", "--json")
    assert a[0] == b[0] == 0
    assert a[1] == b[1] and f'"delta": {float(value)}' in a[1]


def test_progress_goes_to_stderr(capsys):
    code, out, err, _ = _run(capsys, "charge", "--nb", "2", "--n", "2", "--dephasing", "0.1")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == ["charger=spins", "P_max", "E_max"]
    assert "solver=blocks" in lines[0]


def test_interrupted_reproduce_leaves_nothing(capsys, monkeypatch, tmp_path):
    """Ctrl-C in the middle: one line, exit 130, no output folder, no partial folder."""
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(reproduce, "_sweeps", interrupted)
    target = tmp_path / "figs"
    code, out, err, _ = _run(capsys, "reproduce", "--out", str(target))
    assert calls and code == 130
    assert err.strip().splitlines()[-1] == "qutip-centralspin: interrupted"
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither figs/ nor a .figs.partial-* folder


def test_reproduce_into_an_existing_folder_replaces_only_its_files(monkeypatch, tmp_path):
    """The finished set is moved in file by file, table1.csv last; other files stay."""

    def fake(out, sweep_kw, checkpoints, log):
        files = []
        for name in ("fig2a.png", "table1.csv"):
            (out / name).write_text(name)
            files.append(out / name)
        return {"table": [], "files": files, "seconds": {}}

    monkeypatch.setattr(reproduce, "_write_all", fake)
    target = tmp_path / "figs"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "fig2a.png").write_text("old")
    result = reproduce.reproduce(target)
    assert sorted(p.name for p in target.iterdir()) == ["fig2a.png", "notes.txt", "table1.csv"]
    assert (target / "fig2a.png").read_text() == "fig2a.png"
    assert [p.name for p in result["files"]] == ["fig2a.png", "table1.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["figs"]


@pytest.mark.parametrize(
    "argv, converged, reason",
    [
        pytest.param(["--nb", "2", "--n", "3"], True, "", id="paper-state"),
        pytest.param(
            ["--nb", "1", "--n", "1", "--B", "1.5", "--m0", "1", "--n0", "0"],
            True,
            "",
            id="no-gain",
        ),
        pytest.param(
            ["--nb", "2", "--n", "3", "--B", "1e10"],
            False,
            "double precision",
            id="below-round-off",
        ),
    ],
)
def test_pmax_reports_every_bracket_and_flag(capsys, argv, converged, reason):
    import json

    code, out, err, _ = _run(capsys, "pmax", *argv, "--json")
    assert code == 0, err
    data = json.loads(out)
    for name in ("p_max", "e_max"):
        assert data[f"{name}_converged"] is converged
        assert reason in data[f"{name}_reason"]
        assert data[f"{name}_upper"] >= data[name]
    code, out, _, _ = _run(capsys, "pmax", *argv)
    assert ("NOT certified" in out) is (not converged)
