"""``charge(..., method=)``: the exact solvers, the truncated Wigner estimate, or the choice
between them by the resource estimate (one door, said in ``stats``)."""

import json

import numpy as np
import pytest

import qutip_centralspin as qcs
from qutip_centralspin.cli import main
from qutip_centralspin.resources import MEMORY_ENV
from qutip_centralspin.solvers.twa_accuracy import TWAAccuracyWarning

TLIST = 0.3 + np.linspace(0.0, 0.15, 11)  # the first charge of N_B = N = 32 (t0 > 0)


def test_twa_door_tracks_the_exact_first_charge_at_n32():
    """TWA against the exact block solver (local dephasing and decay 0.1): the first charge
    within 2 % of its maximum plus three standard errors (measured: 0.4-0.8 % at N = 32)."""
    model = qcs.CentralSpinModel(32, 32)
    procs = [qcs.dephasing(0.1), qcs.decay(0.1)]
    exact = qcs.charge(model, (0, 32), TLIST, processes=procs)
    twa = qcs.charge(
        model, (0, 32), TLIST, processes=procs, method="twa", options={"ntraj": 400, "seed": 7}
    )
    assert twa.solver == "twa" and "estimate" in twa.stats["method"]
    err = twa.stats["standard error"]["delta_energy"]
    scale = exact.delta_energy.max()
    assert scale > 20.0 and np.argmax(exact.delta_energy) >= 9  # the first charge, rising
    assert np.all(np.abs(twa.delta_energy - exact.delta_energy) <= 0.02 * scale + 3 * err)


def test_auto_runs_exact_where_it_fits_and_twa_beyond():
    model = qcs.CentralSpinModel(6, 6)
    procs = [qcs.dephasing(0.1)]
    auto = qcs.charge(model, (0, 6), TLIST, processes=procs, method="auto")
    exact = qcs.charge(model, (0, 6), TLIST, processes=procs)
    assert auto.solver == exact.solver == "blocks"
    assert auto.stats["method choice"].startswith("exact")
    np.testing.assert_array_equal(auto.delta_energy, exact.delta_energy)
    with pytest.warns(TWAAccuracyWarning, match="validated to"):  # N = 6: outside, said
        tight = qcs.charge(
            model, (0, 6), TLIST, processes=procs, method="auto",
            options={"max_memory": 1000, "ntraj": 50, "seed": 1},
        )  # fmt: skip
    assert tight.solver == "twa" and "over the limit" in tight.stats["method choice"]
    assert "validated to" in tight.stats["accuracy"]
    # the TWA's options go to the TWA only: on the exact path they are not an error
    opts = {"ntraj": 50, "seed": 1}
    fits = qcs.charge(model, (0, 6), TLIST, processes=procs, method="auto", options=opts)
    np.testing.assert_array_equal(fits.delta_energy, exact.delta_energy)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param(
            {"method": "fast"}, r"method must be one of \('exact', 'twa', 'auto'\)", id="unknown"
        ),  # fmt: skip
        pytest.param(
            {"method": "twa", "e_ops": [lambda t, s: 0.0]}, "e_ops is not supported", id="e_ops"
        ),  # fmt: skip
        pytest.param({"method": "twa", "solver": "blocks"}, "solver must be 'auto'", id="solver"),
    ],
)
def test_method_errors_name_the_argument(kwargs, match):
    model = qcs.CentralSpinModel(3, 3)
    with pytest.raises(ValueError, match=match):
        qcs.charge(model, (0, 3), TLIST, **kwargs)


def test_twa_needs_a_label():
    model = qcs.CentralSpinModel(3, 3)
    with pytest.raises(ValueError, match="Dicke label"):
        qcs.charge(model, qcs.dicke_state(model, 0, 3), TLIST, method="twa")


def test_cli_method_twa(capsys):
    argv = ["charge", "--nb", "20", "--n", "20", "--decay", "0.1", "--json", "--points", "5"]
    twa = ["--method", "twa", "--t-max", "0.3", "--ntraj", "50", "--seed", "2"]
    with pytest.warns(TWAAccuracyWarning, match="N_B = 20, N = 20"):
        assert main([*argv, *twa]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["solver"] == "twa" and len(record["delta_e_stderr"]) == 5
    assert record["processes"][0]["kind"] == "decay"
    assert main([*argv, "--method", "twa"]) == 2
    assert "needs --t-max" in capsys.readouterr().err
    assert main([*argv, "--ntraj", "10"]) == 2
    assert "apply to --method twa or auto" in capsys.readouterr().err


def test_cli_pmax_method_twa(capsys):
    """pmax --method twa: estimates (never certified) near the certified P_max at N = 32."""
    argv = ["pmax", "--nb", "32", "--n", "32", "--json"]
    assert main([*argv, "--method", "twa", "--ntraj", "400", "--seed", "3"]) == 0
    twa = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    exact = json.loads(capsys.readouterr().out)
    assert twa["method"] == "twa" and not twa["p_max_converged"] and exact["p_max_converged"]
    assert "TWA estimate" in twa["p_max_reason"]
    assert (
        abs(twa["p_max"] - exact["p_max"])
        <= 0.01 * exact["p_max"] + 3 * (twa["p_max_upper"] - twa["p_max"]) / 2
    )
    assert main([*argv, "--method", "twa", "--ergotropy"]) == 2


def test_cli_pmax_method_auto(capsys, monkeypatch):
    """pmax --method auto: the certified maxima within the memory limit (the same numbers as
    --method exact), the TWA estimates beyond it; --json says which and why."""
    argv = ["pmax", "--nb", "4", "--n", "6", "--json"]
    assert main([*argv, "--method", "auto", "--ntraj", "50"]) == 0
    auto = json.loads(capsys.readouterr().out)
    assert main(argv) == 0
    exact = json.loads(capsys.readouterr().out)
    assert auto["method"] == exact["method"] == "exact" and auto["p_max_converged"]
    assert auto["method_choice"].startswith("exact: within")
    assert auto["p_max"] == exact["p_max"] and auto["e_max"] == exact["e_max"]
    monkeypatch.setenv(MEMORY_ENV, "1000")  # the limit of the resource estimate
    with pytest.warns(TWAAccuracyWarning, match="validated to"):
        assert main([*argv, "--method", "auto", "--ntraj", "50", "--seed", "1"]) == 0
    twa = json.loads(capsys.readouterr().out)
    assert twa["method"] == "twa" and not twa["p_max_converged"]
    assert "over the limit" in twa["method_choice"] and "TWA estimate" in twa["p_max_reason"]
    assert main([*argv, "--method", "auto", "--ergotropy"]) == 2  # the TWA path refuses it
    assert "the TWA path" in capsys.readouterr().err
    monkeypatch.delenv(MEMORY_ENV)
    assert main([*argv, "--ntraj", "50"]) == 2
    assert "apply to --method twa or auto" in capsys.readouterr().err
    assert main(["pmax", "--charger", "dicke", "--nb", "2", "--method", "twa"]) == 2
    assert "the Dicke charger is exact" in capsys.readouterr().err
