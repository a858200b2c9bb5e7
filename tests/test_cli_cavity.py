"""Command line with ``--charger cavity``: the same numbers as the API, clear errors."""

import json

import numpy as np
import pytest

from qutip_centralspin import charge, decay
from qutip_centralspin.cli import main
from qutip_centralspin.maxima.open import open_max_power
from qutip_centralspin.models.cavity import CavityModel
from qutip_centralspin.solvers.cavity_blocks import cavity_loss
from qutip_centralspin.studies.cavity_limit import cavity_max_power


def run_main(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_pmax_of_the_lossy_cavity_equals_the_api(capsys):
    code, out, err = run_main(
        capsys, "pmax", "--nb", "2", "--charger", "cavity", "--omega", "1", "--g", "0.9",
        "--n0", "2", "--cavity-loss", "0.2", "--horizon", "3", "--json",
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    model = CavityModel(2, omega=1.0, g=0.9)
    ref = open_max_power(model, (0, 2), cavity_loss(0.2), 3.0)
    assert got["p_max"] == pytest.approx(ref.value, rel=1e-12)
    assert got["p_max_upper"] == pytest.approx(ref.upper_bound, rel=1e-12)
    assert got["p_max_window"] == [0.0, 3.0] and got["cavity_loss"] == 0.2
    assert (got["omega"], got["g"]) == (1.0, 0.9)


def test_pmax_of_the_closed_cavity_defaults_to_the_spin_limit(capsys):
    code, out, err = run_main(capsys, "pmax", "--nb", "2", "--n", "9", "--charger", "cavity",
                              "--n0", "2", "--json")  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    ref = cavity_max_power(CavityModel(2, omega=1.0, g=3.0), (0, 2))  # g = A sqrt(N)
    assert got["p_max"] == pytest.approx(ref.value, rel=1e-12)


def test_charge_cavity_json_equals_the_api(capsys):
    code, out, err = run_main(
        capsys, "charge", "--nb", "3", "--charger", "cavity", "--g", "0.8", "--omega", "1.1",
        "--n0", "3", "--cavity-loss", "0.2", "--decay", "0.1", "--t-max", "2",
        "--points", "21", "--json",
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    model = CavityModel(3, omega=1.1, g=0.8)
    ref = charge(model, (0, 3), np.linspace(0, 2, 21), processes=[decay(0.1), cavity_loss(0.2)])
    np.testing.assert_allclose(got["delta_e"], ref.delta_energy, atol=1e-12)
    assert got["solver"] == "blocks"


@pytest.mark.parametrize(
    "argv, match",
    [
        (["charge", "--nb", "2", "--charger", "cavity", "--g", "1", "--n0", "1",
          "--charger-decay", "0.1"], "cavity-loss"),
        (["charge", "--nb", "2", "--charger", "cavity", "--n0", "1"], "--g"),
        (["charge", "--nb", "2", "--charger", "cavity", "--g", "1"], "--n0"),
        (["charge", "--nb", "2", "--n", "3", "--cavity-loss", "0.1"], "--charger cavity"),
        (["pmax", "--nb", "2", "--n", "3", "--cavity-loss", "0.1"], "--charger cavity"),
        (["pmax", "--nb", "2", "--charger", "cavity", "--g", "1", "--n0", "1",
          "--cavity-loss", "-0.1"], "cavity-loss"),
        (["charge", "--nb", "2"], "--n"),
    ],
)  # fmt: skip
def test_bad_cavity_arguments_one_line_exit_2(capsys, argv, match):
    code, out, err = run_main(capsys, *argv)
    assert code == 2 and out == ""
    assert match in err and len(err.strip().splitlines()) == 1


def test_pmax_and_charge_of_the_dicke_charger_equal_the_api(capsys):
    from qutip_centralspin.models.dicke import DickeChargerModel
    from qutip_centralspin.solvers.dicke_engine import dicke_charge
    from qutip_centralspin.studies.dicke_advantage import dicke_maxima

    code, out, err = run_main(
        capsys, "pmax", "--nb", "2", "--charger", "dicke", "--coupling", "0.4", "--omega", "1",
        "--n0", "2", "--json",
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    model = DickeChargerModel(2, omega_c=1.0, omega_a=1.0, coupling=0.4)
    ref = dicke_maxima(model, (0, 2), ergotropy=False)
    assert got["p_max"] == pytest.approx(ref.p_max.value, rel=1e-12)
    assert got["photon_cutoff"] == ref.cutoff.cutoff and got["cutoff_converged"]
    code, out, err = run_main(
        capsys, "charge", "--nb", "2", "--charger", "dicke", "--coupling", "0.4",
        "--t-max", "3", "--points", "31", "--json",
    )  # fmt: skip
    assert code == 0, err
    got = json.loads(out)
    res = dicke_charge(model, np.linspace(0, 3, 31), state=(0, 2))
    np.testing.assert_allclose(got["delta_e"], res.delta_energy, atol=1e-12)


@pytest.mark.parametrize(
    "argv, match",
    [
        (["pmax", "--nb", "2", "--charger", "dicke"], "--coupling"),
        (["charge", "--nb", "2", "--charger", "dicke", "--coupling", "0.3", "--decay", "0.1"],
         "closed"),
        (["pmax", "--nb", "2", "--charger", "dicke", "--coupling", "0.3", "--cavity-loss", "1"],
         "--charger cavity"),
    ],
)  # fmt: skip
def test_bad_dicke_arguments_one_line_exit_2(capsys, argv, match):
    code, out, err = run_main(capsys, *argv)
    assert code == 2 and out == ""
    assert match in err and len(err.strip().splitlines()) == 1


def test_dicke_scaling_flag(capsys):
    """--scaling dicke runs lambda / sqrt(N_B): the certified P_max of the model built here."""
    from qutip_centralspin.models.dicke import DickeChargerModel
    from qutip_centralspin.studies.dicke_advantage import dicke_maxima

    code = main(
        ["pmax", "--nb", "4", "--charger", "dicke", "--coupling", "0.4", "--omega", "1",
         "--scaling", "dicke", "--json"]
    )  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["scaling"] == "dicke" and out["effective_coupling"] == 0.2
    model = DickeChargerModel(4, omega_c=1.0, omega_a=1.0, coupling=0.2)  # 0.4 / sqrt(4)
    assert out["p_max"] == pytest.approx(
        dicke_maxima(model, ergotropy=False).p_max.value, rel=1e-9
    )
