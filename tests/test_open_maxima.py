"""Certified maxima of open runs: brackets against dense grids, derivatives against finite
differences, the derivative bound against the measured third derivative."""

import numpy as np
import pytest
from helpers import random_open_start

from qutip_centralspin import (
    CentralSpinModel,
    charge,
    decay,
    dephasing,
    dicke_state,
    max_power,
    pumping,
)
from qutip_centralspin.maxima.open import open_max_energy, open_max_power
from qutip_centralspin.solvers.blocks import BlockSolver


def _cases():
    rng = np.random.default_rng(11)
    out = []
    for i in range(6):
        model, psi0, m0, n0 = random_open_start(rng, 3, 4, mixture=bool(i % 2), weight=0.6)
        procs = [
            [decay(0.2)],
            [dephasing(0.15), decay(0.1, target="charger")],
            [pumping(0.1), decay(0.3, scope="collective")],
        ][i % 3]
        out.append(pytest.param(model, psi0, procs, id=f"case{i}-m0={m0}-n0={n0}"))
    return out


@pytest.mark.parametrize("model, psi0, procs", _cases())
def test_brackets_hold_against_dense_grids(model, psi0, procs):
    horizon = 3.0
    times = np.linspace(0.0, horizon, 6001)
    run = charge(model, psi0, times, processes=procs)
    for certify, curve in ((open_max_power, run.power), (open_max_energy, run.delta_energy)):
        res = certify(model, psi0, procs, horizon, rtol=1e-7)
        assert res.converged, res.reason
        grid = float(curve.max())
        assert grid <= res.upper_bound + 1e-12  # nothing on the grid beats the bound
        assert res.value >= grid - res.tolerance - 1e-12  # the value is the supremum's
        assert res.upper_bound - res.value <= res.tolerance * (1 + 1e-9)
        assert res.window == (0.0, horizon) and res.horizon == horizon
        if res.time_bracket is not None:
            lo, hi = res.time_bracket
            assert lo <= res.time <= hi


def test_derivatives_and_their_bound():
    model = CentralSpinModel(3, 4, B=1.1, h=0.9, A=0.8, delta=0.3)
    psi0 = dicke_state(model, 1, 3)
    solver = BlockSolver(model, [dephasing(0.2), decay(0.3)])
    dense, m3, _ = solver.energy_derivatives(psi0, 3.0, order=2)
    t = np.linspace(0.0, 3.0, 30001)
    e, e1, e2 = dense(t)
    np.testing.assert_allclose(np.gradient(e, t)[2:-2], e1[2:-2], atol=2e-6)
    np.testing.assert_allclose(np.gradient(e1, t)[2:-2], e2[2:-2], atol=2e-5)
    e3 = np.gradient(e2, t)[2:-2]
    assert np.abs(e3).max() <= m3
    assert np.abs(e3).max() >= 0.2 * m3  # the bound is not vacuous
    run = solver.solve(psi0, t[::1000])
    np.testing.assert_allclose(e[::1000] - e[0], run.delta_energy, atol=1e-12)


def test_zero_rates_reproduce_the_closed_certified_maximum():
    model = CentralSpinModel(2, 5)
    psi0 = dicke_state(model, 0, 5)
    closed = max_power(model, (0, 5))
    res = open_max_power(model, psi0, decay(0.0), horizon=2 * closed.time, rtol=1e-9)
    assert res.value == pytest.approx(closed.value, rel=1e-8)
    assert res.time == pytest.approx(closed.time, rel=1e-5)


def test_bad_input_is_refused():
    model = CentralSpinModel(1, 2)
    psi0 = dicke_state(model, 0, 2)
    with pytest.raises(ValueError, match="horizon"):
        open_max_power(model, psi0, decay(0.1), horizon=0.0)
    with pytest.raises(ValueError, match="rtol"):
        open_max_energy(model, psi0, decay(0.1), horizon=1.0, rtol=-1.0)
