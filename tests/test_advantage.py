"""Quantum advantage Gamma(N_B, N) against closed forms and the cavity limit."""

import math

import numpy as np
import pytest
import qutip

from qutip_centralspin import CentralSpinModel, analytic, max_power
from qutip_centralspin import advantage as adv

CERTIFIED_RTOL = 1e-10  # both P_max are certified to 1e-10 relative: Gamma to ~2e-10
RATIO_RTOL = 3e-10  # Gamma is a ratio of two certified maxima
LIMIT_RTOL = (
    1e-3  # spin -> cavity: Gamma(N) - Gamma_inf ~ N_B/N (measured 1.2e-4 at N = 1e4, N_B = 4)
)


@pytest.mark.parametrize("charger", ["n=N_B", "full", "dicke:1", "coherent:0.7", "thermal:2"])
@pytest.mark.parametrize("n_charger", [1, 4, 25])
def test_gamma_is_one_for_a_single_spin(charger, n_charger):
    res = adv.quantum_advantage(1, n_charger, charger=charger, h=0.8, delta=0.1)
    assert res.gamma == pytest.approx(1.0, rel=RATIO_RTOL)
    assert res.hp_gamma == 1.0


@pytest.mark.parametrize("n_battery", [2, 3, 6])
def test_single_charger_spin_closed_form(n_battery):
    """N = 1, full charger: P_coll = c* B A sqrt(N_B), P_cell = c* B A (Eqs. 15, N = 1 limit)."""
    res = adv.quantum_advantage(n_battery, 1, charger="full", B=1.3, h=1.3, A=0.7)
    model = CentralSpinModel(n_battery, 1, B=1.3, h=1.3, A=0.7)
    p_coll = analytic.single_charger_max_power(model)[0]
    assert res.p_collective == pytest.approx(p_coll, rel=CERTIFIED_RTOL)
    assert res.p_cell == pytest.approx(analytic.c_star()[0] * 1.3 * 0.7, rel=CERTIFIED_RTOL)
    assert res.gamma == pytest.approx(1 / math.sqrt(n_battery), rel=RATIO_RTOL)


def test_cell_is_the_paper_single_spin_and_collective_is_max_power():
    """Cell P_max = c* B A sqrt(b_{N,1}) = c* B A sqrt(N); collective straight from max_power."""
    res = adv.quantum_advantage(4, 30, B=1.0, h=1.0, A=1.2)
    cell = CentralSpinModel(1, 30, B=1.0, h=1.0, A=1.2)
    assert res.p_cell == pytest.approx(
        analytic.single_spin_max_power(cell, 1)[0], rel=CERTIFIED_RTOL
    )
    assert res.p_cell == pytest.approx(
        analytic.c_star()[0] * 1.2 * math.sqrt(30), rel=CERTIFIED_RTOL
    )
    direct = max_power(CentralSpinModel(4, 30, A=1.2), (0, 4)).value
    assert res.p_collective == pytest.approx(direct, rel=CERTIFIED_RTOL)
    assert res.p_parallel == 4 * res.p_cell
    assert res.gamma == pytest.approx(direct / (4 * res.p_cell), rel=RATIO_RTOL)


def test_gamma_grows_with_n_towards_the_cavity_limit_below_hp():
    """Gamma(N_B, N) increases with N to Gamma_inf (cavity), which lies below sqrt(N_B)."""
    nb = 4
    gammas = [adv.quantum_advantage(nb, n).gamma for n in (10, 100, 1000, 10000)]
    assert np.all(np.diff(gammas) > 0)
    limit = float(adv.advantage_limit(nb)[0])
    assert gammas[-1] == pytest.approx(limit, rel=LIMIT_RTOL)
    assert limit < adv.hp_advantage(nb)


def test_advantage_limit_scales_like_sqrt_n_battery():
    """Gamma_inf / sqrt(N_B) decreases towards a constant ~0.80 (N_B up to 64 here)."""
    sizes = [1, 2, 4, 8, 16, 32, 64]
    ratio = adv.advantage_limit(sizes) / np.sqrt(sizes)
    assert ratio[0] == pytest.approx(1.0, rel=RATIO_RTOL)
    assert np.all(np.diff(ratio) < 0)
    assert 0.80 < ratio[-1] < 0.81


def test_sweep_matches_pointwise_and_parallel_map():
    sweep = adv.advantage_sweep([1, 2, 5], [5, 20], h=0.9)
    assert sweep.gamma.shape == (3, 2)
    for i, nb in enumerate([1, 2, 5]):
        for j, n in enumerate([5, 20]):
            point = adv.quantum_advantage(nb, n, h=0.9)
            assert sweep.gamma[i, j] == pytest.approx(point.gamma, rel=RATIO_RTOL)
    np.testing.assert_allclose(sweep.hp_gamma, np.sqrt([1, 2, 5]))
    par = adv.advantage_sweep(
        [1, 2, 5], [5, 20], h=0.9, map=qutip.parallel_map, map_kw={"num_cpus": 2}
    )
    np.testing.assert_array_equal(par.gamma, sweep.gamma)


@pytest.mark.slow
def test_advantage_limit_large_batteries():
    """Measured: Gamma_inf / sqrt(N_B) = 0.8041 at N_B = 1024 (slowly decreasing)."""
    ratio = adv.advantage_limit([256, 1024]) / np.sqrt([256, 1024])
    assert 0.803 < ratio[1] < ratio[0] < 0.806


def test_errors():
    with pytest.raises(ValueError, match="'n=N_B' needs n_battery <= n_charger"):
        adv.quantum_advantage(5, 3)
    with pytest.raises(ValueError, match="n_battery must be an integer >= 1"):
        adv.quantum_advantage(0, 3)
    with pytest.raises(ValueError, match="spec must be one of"):
        adv.advantage_sweep([1], [3], charger="warm")
    with pytest.raises(ValueError, match="delta must be a finite real"):
        adv.quantum_advantage(2, 3, delta=float("nan"))
