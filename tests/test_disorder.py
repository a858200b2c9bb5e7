"""Binning disordered couplings into groups: the bins, and the binned model against qubits."""

import itertools

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
    within_bin_spread,
)
from qutip_centralspin.studies.disorder_scaling import disorder_scaling
from qutip_centralspin.studies.scaling import fit_power_law, scaling_sweep


def test_distinct_values_are_binned_exactly():
    couplings = [0.5, 1.0, -0.2, 1.0, 0.5, -0.2]
    assert bin_couplings(couplings, 3) == ((2, 1.0), (2, 0.5), (2, -0.2))
    # counts that do not divide: the first bins (the strongest couplings) one larger
    assert [n for n, _ in bin_couplings(np.arange(7.0), 3, split="count")] == [3, 2, 2]


def test_squares_split_is_the_optimal_partition():
    """Brute force over every contiguous cut: the least lost sum of A^4 (within_bin_spread)."""
    couplings = np.sort(hyperfine_profile(9, 2.5) * np.random.default_rng(5).uniform(0.8, 1.2, 9))
    a4 = np.sum(couplings**4)
    desc = couplings[::-1]
    best = np.inf
    for cuts in itertools.combinations(range(1, 9), 2):
        parts = np.split(desc, cuts)
        best = min(best, sum(np.sum((p**2 - np.mean(p**2)) ** 2) for p in parts) / a4)
    assert within_bin_spread(couplings, 3) == pytest.approx(best, rel=1e-12)
    bins = bin_couplings(couplings, 3)
    lost = a4 - sum(n * a**4 for n, a in bins)  # what the RMS bins lose of sum A^4
    assert lost / a4 == pytest.approx(best, rel=1e-9)
    # the strongest coupling of a steep profile gets a bin of its own; equal counts do not
    assert bins[0][0] == 1 and bin_couplings(couplings, 3, split="count")[0][0] == 3


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
    loose = binning_convergence([(2, 1.0)], couplings, tol=0.1, max_groups=6)
    assert loose.converged and loose.error < 0.1 <= loose.errors[-2]
    tight = binning_convergence([(2, 1.0)], couplings, tol=1e-14, max_groups=3)
    assert tight.groups == (1, 2, 3) and not tight.converged
    n = min(len(loose.groups), 3)
    assert [m.value for m in tight.maxima[:n]] == [m.value for m in loose.maxima[:n]]
    assert tight.errors[0] == np.inf and len(tight.changes) == 2
    rms, mean = (
        binning_convergence([(2, 1.0)], couplings, rule=rule, tol=1e-14, max_groups=12)
        for rule in ("rms", "mean")
    )
    # one spin per group (G = 12): both rules are the exact disordered model, error 0
    assert rms.groups[-1] == mean.groups[-1] == 12 and rms.converged and rms.error == 0.0
    assert rms.p_max == pytest.approx(mean.p_max, rel=1e-9)


def _exact_pmax(n_battery, couplings):
    """P_max of one spin per group: the disordered model without binning."""
    model = binned_model([(n_battery, 1.0)], couplings, len(couplings))
    return max_power(model, ((0,), model.charger_sizes)).value


BOUND_CASES = [
    pytest.param(nb, name, n, seed, id=f"NB={nb}-{name}-N={n}-s={seed}")
    for nb in (2, 4)
    for n in (8, 10)
    for name, seed in [("box1", 0), ("box2", 1), ("box2", 2), ("hf1", 0), ("hf2", 0), ("hf4", 0)]
]


@pytest.mark.parametrize("n_battery, name, n_spins, seed", BOUND_CASES)
def test_error_estimate_bounds_the_true_error(n_battery, name, n_spins, seed):
    """At every G tried, the estimate is at least the error against one spin per group."""
    if name.startswith("box"):
        couplings = box_profile(n_spins, float(name[3:]), seed=seed + 100 * n_spins)
    else:
        couplings = hyperfine_profile(n_spins, float(name[2:]))
    exact = _exact_pmax(n_battery, couplings)
    study = binning_convergence([(n_battery, 1.0)], couplings, tol=1e-3, max_groups=n_spins)
    assert study.converged
    for g, best, estimate in zip(study.groups, study.maxima, study.errors, strict=True):
        true = abs(best.value - exact) / exact
        assert true <= estimate + 1e-12, (g, true, estimate)


def test_the_change_alone_understates_the_error():
    """Why the estimate is needed: equal-count bins plateau, the change drops below 1e-3
    while P_max is still 26 % off (N_B = 4, e^{-k}, 8 spins); the estimate is not fooled."""
    couplings = hyperfine_profile(8, 1.0)
    exact = _exact_pmax(4, couplings)
    counts = binning_convergence([(4, 1.0)], couplings, split="count", tol=1e-14, max_groups=7)
    plateau = int(np.argmin(counts.changes)) + 1  # index into groups / maxima
    assert counts.changes[plateau - 1] < 1e-3
    assert abs(counts.maxima[plateau].value - exact) / exact > 0.2
    assert counts.errors[plateau] > 0.2
    squares = binning_convergence([(4, 1.0)], couplings, tol=1e-3)
    assert abs(squares.p_max - exact) / exact < 1e-3 and squares.groups[-1] <= 5


def test_zero_width_box_is_the_box_model():
    want = max_power(CentralSpinModel(4, 60, h=1.1, A=0.7), (0, 60))
    for split in ("count", "squares"):
        model = binned_model([(4, 1.0)], box_profile(60, 0.0, A0=0.7), 3, h=1.1, split=split)
        assert sum(model.charger_sizes) == 60
        assert split == "squares" or model.charger_sizes == (20, 20, 20)
        best = max_power(model, ((0,), model.charger_sizes))
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
            lambda: bin_couplings([1.0], 1, split="kmeans"),
            r"split must be 'squares' or 'count', got 'kmeans'",
            id="split",
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


# -- alpha against the spread w (studies.disorder_scaling) ----------------------------------------

SCALING = dict(widths=[0.0, 1.0, 2.0], n_battery=[1, 2, 4], n_charger=[6], n_samples=3, seed=4)


@pytest.fixture(scope="module")
def scaling_serial():
    return disorder_scaling(**SCALING)


def test_zero_width_alpha_is_the_homogeneous_fit():
    study = disorder_scaling([0.0], [1, 2, 3, 5], [5, 12], n_samples=4)
    for c, n in enumerate((5, 12)):
        sweep = scaling_sweep([1, 2, 3, 5], n, energy=False)
        want = fit_power_law(sweep.n_battery, sweep.p_max).alpha
        assert study.alpha[c, 0] == pytest.approx(want, rel=1e-9)
        np.testing.assert_allclose(study.p_max[c, 0], sweep.p_max, rtol=1e-9)
        np.testing.assert_allclose(study.tau[c, 0], sweep.t_pmax, rtol=1e-6)
    assert np.all(study.alpha_err == 0) and np.all(study.p_max_err == 0)
    assert np.all(study.groups == 1) and np.all(study.binning_error == 0)


def test_fit_and_averages_from_the_samples(scaling_serial):
    """The means, standard errors and alpha recomputed from the raw samples by hand."""
    s = scaling_serial
    p = s.samples[0, 2, :, :, 0]  # w = 2: (sample, N_B)
    np.testing.assert_allclose(s.p_max[0, 2], p.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(s.p_max_err[0, 2], p.std(axis=0, ddof=1) / np.sqrt(3), rtol=1e-12)
    slope = np.polyfit(np.log([1, 2, 4]), np.log(p.mean(axis=0)), 1)[0]
    assert s.alpha[0, 2] == pytest.approx(slope, rel=1e-12)
    leave = [
        np.polyfit(np.log([1, 2, 4]), np.log(np.delete(p, i, 0).mean(0)), 1)[0] for i in range(3)
    ]
    assert s.alpha_err[0, 2] == pytest.approx(
        np.sqrt(2 / 3 * np.sum((leave - np.mean(leave)) ** 2))
    )
    assert s.alpha_err[0, 2] > 0 and s.alpha_fit_err[0, 2] > 0
    # the cells of Gamma are N_B = 1 of the same samples
    gamma = s.gamma()[0][0, 2]
    np.testing.assert_allclose(gamma, p.mean(0) / (np.array([1, 2, 4]) * p[:, 0].mean()))
    ratio, _ = s.ratio(4)
    assert ratio[0, 0] == 1.0 and ratio[0, 2] == pytest.approx(s.p_max[0, 2, 2] / s.p_max[0, 0, 2])
    assert np.all(s.binning_error < 1e-3)


def test_parallel_map_gives_the_same_numbers(scaling_serial):
    par = disorder_scaling(**SCALING, map=qutip.parallel_map, map_kw={"num_cpus": 2})
    np.testing.assert_array_equal(par.samples, scaling_serial.samples)
    np.testing.assert_array_equal(par.alpha, scaling_serial.alpha)


def test_checkpoint_resume_gives_the_same_numbers(scaling_serial, tmp_path):
    path = tmp_path / "alpha.jsonl"
    first = disorder_scaling(**{**SCALING, "widths": [0.0, 2.0]}, checkpoint=path)
    lines = len(path.read_text().splitlines())
    assert lines == 1 + 1 + 3  # header, w = 0, three samples at w = 2
    resumed = disorder_scaling(**SCALING, checkpoint=path)  # computes w = 1 only
    assert len(path.read_text().splitlines()) == lines + 3
    np.testing.assert_array_equal(resumed.samples, scaling_serial.samples)
    np.testing.assert_array_equal(resumed.alpha_err, scaling_serial.alpha_err)
    np.testing.assert_array_equal(first.samples[:, 1], scaling_serial.samples[:, 2])
    with pytest.raises(ValueError, match="other parameters"):
        disorder_scaling(**{**SCALING, "seed": 5}, checkpoint=path)


def test_advantage_lost_at_interpolates_and_claims_nothing_beyond_the_grid(scaling_serial):
    s = scaling_serial
    lost = s.advantage_lost_at("gamma")
    gamma = s.gamma()[0][0, :, -1]
    if np.all(gamma > 1):
        assert lost == {6: None}
    import dataclasses

    fake = dataclasses.replace(s, alpha=np.array([[1.2, 1.1, 0.9]]))
    assert fake.advantage_lost_at("alpha") == {6: pytest.approx(1.5)}
    assert dataclasses.replace(s, alpha=np.array([[1.2, 1.1, 1.05]])).advantage_lost_at() == {
        6: None
    }


def test_plot_labels(scaling_serial):
    for quantity in ("alpha", "p_max", "tau", "gamma"):
        ax = scaling_serial.plot(quantity=quantity)
        assert "$w$" in ax.get_xlabel() and "A_0" in ax.get_xlabel()
        assert ax.get_legend() is not None and ax.get_ylabel()
    assert "alpha" in scaling_serial.plot().get_ylabel()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        pytest.param(
            {"widths": [1.0, 0.0]}, r"widths must be distinct and increasing", id="w-order"
        ),
        pytest.param({"widths": [-1.0]}, r"widths must be a finite real number >= 0", id="w-neg"),
        pytest.param({"n_battery": [2, 2]}, r"n_battery must hold at least two", id="nb"),
        pytest.param({"n_samples": 0}, r"n_samples must be an integer >= 1, got 0", id="ns"),
        pytest.param({"tol": 0.0}, r"tol must be a finite real number > 0, got 0.0", id="tol"),
    ],
)
def test_scaling_refusals(kwargs, match):
    with pytest.raises(ValueError, match=match):
        disorder_scaling(**{**SCALING, **kwargs})
