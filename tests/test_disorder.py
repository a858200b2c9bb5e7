"""Binning disordered couplings into groups: the bins, and the binned model against qubits."""

import numpy as np
import pytest
import qutip
from tolerances import EXACT_ATOL, ODE_ATOL, ODE_OPTIONS

from qutip_centralspin import CentralSpinModel, max_power
from qutip_centralspin.solvers.group_engine import charge_groups
from qutip_centralspin.studies.disorder import (
    bin_couplings,
    binned_model,
    binning_convergence,
    box_profile,
    hyperfine_profile,
)


def test_distinct_values_are_binned_exactly():
    couplings = [0.5, 1.0, -0.2, 1.0, 0.5, -0.2]
    assert bin_couplings(couplings, 3) == ((2, 1.0), (2, 0.5), (2, -0.2))
    # counts that do not divide: the first bins (the strongest couplings) one larger
    assert [n for n, _ in bin_couplings(np.arange(7.0), 3)] == [3, 2, 2]


@pytest.mark.parametrize("n_groups", [pytest.param(g, id=f"G={g}") for g in (1, 3, 7)])
def test_rms_keeps_the_sum_of_squares_and_mean_the_sum(n_groups):
    couplings = np.random.default_rng(3).uniform(-0.3, 1.5, 20)
    rms = bin_couplings(couplings, n_groups)
    mean = bin_couplings(couplings, n_groups, rule="mean")
    assert sum(n for n, _ in rms) == 20
    assert sum(n * a * a for n, a in rms) == pytest.approx(np.sum(couplings**2), rel=1e-13)
    assert sum(n * a for n, a in mean) == pytest.approx(np.sum(couplings), rel=1e-13)


def test_one_spin_per_group_is_the_disordered_model_on_qubits():
    """H = B s^z + h sum_k tau_k^z + sum_k A_k (s^+ tau_k^- + h.c.) on qubits, A_k per spin."""
    couplings = hyperfine_profile(5, 2.0, A0=1.3)
    B, h = 1.0, 0.8
    n = couplings.size + 1

    def site(op, i):
        ops = [qutip.qeye(2)] * n
        ops[i] = op
        return qutip.tensor(ops)

    sz = site(qutip.sigmaz() / 2, 0)
    H = B * sz
    for k, a in enumerate(couplings, start=1):
        H += h * site(qutip.sigmaz() / 2, k)
        H += a * (site(qutip.sigmap(), 0) * site(qutip.sigmam(), k))
        H += a * (site(qutip.sigmam(), 0) * site(qutip.sigmap(), k))
    up, down = qutip.basis(2, 0), qutip.basis(2, 1)
    psi0 = qutip.tensor([down] + [up] * couplings.size)
    tlist = np.linspace(0.4, 3.0, 20)
    ref = qutip.sesolve(H, psi0, tlist, e_ops=[B * sz], options=ODE_OPTIONS).expect[0]
    model = binned_model([(1, B)], couplings, couplings.size, h=h)
    got = charge_groups(model, ((0,), model.charger_sizes), tlist)
    np.testing.assert_allclose(got.delta_energy, ref - ref[0], atol=ODE_ATOL)


def test_binned_model_shares_the_couplings_over_battery_groups():
    model = binned_model([(1, 1.0), (2, 0.5)], [1.0, 1.0, 0.25], 2, delta=0.1)
    np.testing.assert_allclose(model.A, [[1.0, 0.25], [1.0, 0.25]], atol=EXACT_ATOL)
    assert model.charger_sizes == (2, 1)
    np.testing.assert_allclose(model.delta, 0.1)


def test_convergence_stops_at_the_tolerance():
    couplings = hyperfine_profile(12, 4.0)
    loose = binning_convergence([(2, 1.0)], couplings, tol=0.5, max_groups=6)
    assert loose.groups == (1, 2) and loose.converged
    tight = binning_convergence([(2, 1.0)], couplings, tol=1e-14, max_groups=3)
    assert tight.groups == (1, 2, 3) and not tight.converged
    assert [m.value for m in tight.maxima[:2]] == [m.value for m in loose.maxima]
    rms, mean = (
        binning_convergence([(2, 1.0)], couplings, rule=rule, tol=1e-14, max_groups=12)
        for rule in ("rms", "mean")
    )
    # one spin per group (G = 12): both rules are the exact disordered model
    assert rms.groups[-1] == mean.groups[-1] == 12
    assert rms.p_max == pytest.approx(mean.p_max, rel=1e-9)


def test_zero_width_box_is_the_box_model():
    model = binned_model([(4, 1.0)], box_profile(60, 0.0, A0=0.7), 3, h=1.1)
    assert model.charger_sizes == (20, 20, 20)
    best = max_power(model, ((0,), model.charger_sizes))
    want = max_power(CentralSpinModel(4, 60, h=1.1, A=0.7), (0, 60))
    assert best.value == pytest.approx(want.value, rel=1e-9)


def test_box_profile_stays_in_its_box():
    couplings = box_profile(500, 0.4, A0=-1.0, seed=7)
    assert couplings.min() >= -1.2 and couplings.max() <= -0.8
    np.testing.assert_array_equal(couplings, box_profile(500, 0.4, A0=-1.0, seed=7))


@pytest.mark.parametrize(
    "call, match",
    [
        pytest.param(
            lambda: bin_couplings([1.0, 2.0], 3),
            r"n_groups must be an integer in \[1, 2\], got 3",
            id="too-many",
        ),
        pytest.param(
            lambda: bin_couplings([1.0, np.nan], 1), r"couplings must be .* finite", id="nan"
        ),
        pytest.param(
            lambda: bin_couplings([1.0], 1, rule="median"),
            r"rule must be 'rms' or 'mean', got 'median'",
            id="rule",
        ),
        pytest.param(
            lambda: box_profile(4, -0.1),
            r"width must be a finite real number >= 0, got -0.1",
            id="width",
        ),
        pytest.param(
            lambda: hyperfine_profile(4, 0.0),
            r"k0 must be a finite real number > 0, got 0.0",
            id="k0",
        ),
    ],
)
def test_refusals(call, match):
    with pytest.raises(ValueError, match=match):
        call()
