"""Command line ``cycle``: the battery cycle from the shell, same numbers as the API."""

import json
import math

import pytest

from qutip_centralspin import CentralSpinModel, decay, dicke_state
from qutip_centralspin.cli import main
from qutip_centralspin.studies.cycle import battery_cycle

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_main(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cycle_json_equals_the_api(capsys):
    code, out, err = run_main(
        capsys, "cycle", "--nb", "3", "--n", "4", "--tau", "0.4", "--storage", "3",
        "--decay", "0.3", "--points", "61", "--json",
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    model = CentralSpinModel(3, 4)
    ref = battery_cycle(model, dicke_state(model, 0, 4), 0.4, 3.0, processes=decay(0.3), points=61)
    for key in ("drawn_energy", "charged_energy", "stored_energy", "stored_ergotropy"):
        assert got[key] == pytest.approx(getattr(ref, key), rel=1e-12)
    assert got["energy_half_life"] == pytest.approx(math.log(2) / 0.3, abs=0.06)
    assert got["processes"] == [
        {"kind": "decay", "rate": 0.3, "target": "battery", "scope": "local"}
    ]


def test_cycle_text_load_and_plot(capsys, tmp_path):
    png = tmp_path / "cycle.png"
    code, out, err = run_main(
        capsys, "cycle", "--nb", "2", "--n", "4", "--tau", "0.5", "--storage", "1",
        "--load-time", "2", "--plot", str(png),
    )  # fmt: skip
    assert code == 0, err
    assert "drawn from the charger" in out and "delivered at t =" in out
    assert png.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--tau", "0", "--storage", "1"], "tau"),
        (["--tau", "1", "--storage", "-1"], "storage_time"),
        (["--tau", "1", "--storage", "1", "--decay", "0.2", "--load-time", "1"], "symmetric"),
    ],
)
def test_cycle_bad_input_one_line_exit_2(capsys, argv, match):
    code, out, err = run_main(capsys, "cycle", "--nb", "2", "--n", "3", *argv)
    assert code == 2 and out == ""
    assert match in err and len(err.strip().splitlines()) == 1
