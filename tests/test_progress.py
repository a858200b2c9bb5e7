"""Progress bars: QuTiP's ``progress_bar`` names and ``progress_kwargs`` on every long call, and
the bar on stderr, never on stdout (which carries the CLI's JSON and tables).

QuTiP's own ``"text"`` and ``"enhanced"`` bars print to stdout (``qutip.ui.progressbar``): the
first test pins that, so the others, which capture at the file-descriptor level (``capfd``),
check a redirection that is needed.
"""

import importlib.util
import json

import numpy as np
import pytest
import qutip
from qutip.ui.progressbar import progress_bars

from qutip_centralspin import CentralSpinModel, charge, cli, dephasing, dicke_state
from qutip_centralspin.studies.advantage import advantage_sweep
from qutip_centralspin.studies.scaling import power_grid, scaling_sweep

BARS = ["text", "enhanced"]


@pytest.mark.parametrize("bar", BARS)
def test_qutips_own_bars_print_to_stdout(capfd, bar):
    """The reason for this module: QuTiP's printing bars use stdout."""
    made = progress_bars[bar](2)
    made.update()
    made.finished()
    out, err = capfd.readouterr()
    assert "Total run time" in out and err == ""


SWEEPS = [
    pytest.param(lambda **kw: scaling_sweep(range(1, 5), 3, energy=False, **kw), id="scaling"),
    pytest.param(lambda **kw: power_grid(range(1, 5), [2, 3], **kw), id="power_grid"),
    pytest.param(lambda **kw: advantage_sweep([1, 2], [3], **kw), id="advantage"),
]


@pytest.mark.parametrize("sweep", SWEEPS)
@pytest.mark.parametrize("bar", BARS)
def test_sweep_progress_goes_to_stderr(capfd, sweep, bar):
    sweep(progress_bar=bar)
    out, err = capfd.readouterr()
    assert out == ""
    assert "Total run time" in err


@pytest.mark.parametrize("bar", [None, "", False])
def test_no_bar_prints_nothing(capfd, bar):
    power_grid(range(1, 3), [2], progress_bar=bar)
    assert capfd.readouterr() == ("", "")


def test_progress_kwargs_reach_the_bar(capfd):
    """Four tasks: the text bar prints at 25/50/75/100 %, with chunk_size=50 at 50/100 % only."""
    power_grid(range(1, 5), [2], progress_bar="text")
    default = [line.split("%")[0] for line in capfd.readouterr().err.splitlines() if "%" in line]
    power_grid(range(1, 5), [2], progress_bar="text", progress_kwargs={"chunk_size": 50})
    chunked = [line.split("%")[0] for line in capfd.readouterr().err.splitlines() if "%" in line]
    assert default == ["25.0", "50.0", "75.0", "100.0"]
    assert chunked == ["50.0", "100.0"]


def test_a_bad_bar_is_refused_before_any_work():
    asked = []

    def spy(task, values, *args, **kwargs):
        asked.extend(values)
        return qutip.serial_map(task, values, *args, **kwargs)

    with pytest.raises(ValueError, match="progress_bar must be one of .* got 'txt'"):
        power_grid(range(1, 3), [2], progress_bar="txt", map=spy)
    with pytest.raises(ValueError, match="progress_kwargs must be a dict"):
        power_grid(range(1, 3), [2], progress_bar="text", progress_kwargs=[1], map=spy)
    assert asked == []


@pytest.mark.skipif(importlib.util.find_spec("tqdm") is not None, reason="tqdm is installed")
def test_tqdm_without_tqdm_is_a_clear_error():
    with pytest.raises(ValueError, match="needs the tqdm package"):
        power_grid(range(1, 3), [2], progress_bar="tqdm")


# --- open runs and QuTiP's solvers through charge -------------------------------------------
MODEL = CentralSpinModel(2, 3)
TIMES = np.linspace(0.0, 2.0, 21)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"processes": [dephasing(0.1)]}, id="blocks"),
        pytest.param({"processes": [dephasing(0.1)], "solver": "piqs"}, id="piqs"),
        pytest.param({"solver": "sesolve"}, id="sesolve"),
    ],
)
@pytest.mark.parametrize("bar", BARS)
def test_charge_progress_goes_to_stderr(capfd, kwargs, bar):
    res = charge(MODEL, dicke_state(MODEL, 0, 3), TIMES, options={"progress_bar": bar}, **kwargs)
    out, err = capfd.readouterr()
    assert out == ""
    assert "Total run time" in err
    assert np.isfinite(res.e_max)


# --- the command line ---------------------------------------------------------------------
def test_cli_charge_progress_on_stderr_and_json_on_stdout(capfd):
    argv = ["charge", "--nb", "2", "--n", "2", "--dephasing", "0.1", "--json"]
    assert cli.main([*argv, "--progress"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out)["solver"] == "blocks"  # stdout is exactly one JSON object
    assert "Total run time" in err
    assert cli.main([*argv, "--progress", "enhanced"]) == 0
    out, err = capfd.readouterr()
    assert json.loads(out)["solver"] == "blocks" and "Elapsed" in err
    assert cli.main(argv) == 0  # no --progress: no bar
    out, err = capfd.readouterr()
    assert json.loads(out)["solver"] == "blocks" and err == ""


def test_cli_progress_refuses_unknown_bars(capfd):
    code = cli.main(["charge", "--nb", "2", "--n", "2", "--progress", "txt"])
    out, err = capfd.readouterr()
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "--progress" in err
