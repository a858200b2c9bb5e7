"""Quantum advantage Gamma(N_B, N) against closed forms and the cavity limit."""

import math

import numpy as np
import pytest
import qutip
from scipy.optimize import minimize_scalar

from qutip_centralspin import CentralSpinModel, max_power
from qutip_centralspin.paper import analytic
from qutip_centralspin.studies import advantage as adv

CERTIFIED_RTOL = 1e-10  # both P_max are certified to 1e-10 relative: Gamma to ~2e-10
RATIO_RTOL = 3e-10  # Gamma is a ratio of two certified maxima
TAU_RTOL = 1e-4  # P(t) is flat at its maximum: a 1e-10 value bracket fixes t only to ~1e-5
LIMIT_RTOL = (
    1e-3  # spin -> cavity: Gamma(N) - Gamma_inf ~ N_B/N (measured 1.2e-4 at N = 1e4, N_B = 4)
)


def scan_maximum(power, step, stop):
    """Global max of ``power(t)`` for t > 0: samples every ``step`` until t exceeds
    ``stop(P_best)`` (no later time can beat P_best), then a bounded local optimiser."""
    best_p, best_t, t0 = 0.0, None, 0.0
    while best_t is None or t0 < stop(best_p):
        t = t0 + step * np.arange(1, 4001)
        p = power(t)
        i = int(np.argmax(p))
        if p[i] > best_p:
            best_p, best_t = float(p[i]), float(t[i])
        t0 = float(t[-1])
        assert t0 < 1e6 * step, "no gain found"
    opt = minimize_scalar(
        lambda x: -power(np.array([x]))[0],
        bounds=(best_t - step, best_t + step),
        method="bounded",
        options={"xatol": 1e-14 * best_t},
    )
    return -opt.fun, opt.x


def cell_max_power(cell, weights):
    """One spin charged by a charger with Dicke populations ``weights[n]``: Delta E_B is the
    weighted sum of Eq. (12) over n (H_B is sector-diagonal), maximised over t here."""
    terms = [(w, n) for n, w in enumerate(weights) if w > 0]

    def power(t):
        return sum(w * analytic.single_spin_delta_energy(cell, n, t) for w, n in terms) / t

    fastest = max(analytic.single_spin_rabi_frequency(cell, n) for _, n in terms)
    return scan_maximum(power, 2 * math.pi / fastest / 50, lambda p: cell.B / p)  # dE_B <= B


def charger_populations(spec, n_charger, h):
    """Dicke populations of a charger spec, written out here (binomial / Gibbs weights)."""
    if spec.startswith("coherent:"):
        c2 = math.cos(float(spec.split(":")[1]) / 2) ** 2
        return [
            math.comb(n_charger, n) * c2**n * (1 - c2) ** (n_charger - n)
            for n in range(n_charger + 1)
        ]
    if spec.startswith("thermal:"):
        gibbs = np.exp(-h * np.arange(n_charger + 1) / float(spec.split(":")[1]))
        return gibbs / gibbs.sum()
    n = {"n=N_B": 1, "full": n_charger}.get(spec) or int(spec.split(":")[1])
    return np.eye(n_charger + 1)[n]


@pytest.mark.parametrize("charger", ["n=N_B", "full", "dicke:1", "coherent:0.7", "thermal:2"])
@pytest.mark.parametrize("n_charger", [1, 4, 25])
def test_single_spin_cell_against_closed_forms(charger, n_charger):
    """P_cell (and, for N_B = 1, P_coll) of every charger against Eq. (12) summed over the
    charger's Dicke populations: the closed-form Eq. (15) for a Dicke charger."""
    res = adv.quantum_advantage(1, n_charger, charger=charger, h=0.8, delta=0.1)
    cell = CentralSpinModel(1, n_charger, h=0.8, delta=0.1)
    weights = charger_populations(charger, n_charger, h=0.8)
    value, tau = cell_max_power(cell, weights)
    if np.count_nonzero(weights) == 1:  # a Dicke charger: Eq. (15) with detuning
        value, tau = analytic.single_spin_max_power(cell, int(np.argmax(weights)))
    assert res.p_cell == pytest.approx(value, rel=CERTIFIED_RTOL)
    assert res.t_cell == pytest.approx(tau, rel=TAU_RTOL)
    assert res.p_collective == pytest.approx(value, rel=CERTIFIED_RTOL)


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


def tavis_cummings_max_power(n_battery):
    """P_max of N_B spins (B = 1) from |m = 0> (x) |N_B photons>, resonant, g = 1: in the
    rotating frame H = S^+ a + S^- a^dag on the sector of N_B excitations, built here from
    ``qutip.jmat`` and ``qutip.destroy`` and diagonalised with numpy."""
    dim = n_battery + 1
    sz, sp = (qutip.tensor(qutip.jmat(n_battery / 2, k), qutip.qeye(dim)) for k in "z+")
    a = qutip.tensor(qutip.qeye(dim), qutip.destroy(dim))
    H = (sp * a + sp.dag() * a.dag()).data.as_scipy().tocsr()
    spins = np.real(sz.diag())  # S^z of each basis state, jmat order (+j first)
    photons = np.tile(np.arange(dim), dim)
    idx = np.flatnonzero(np.rint(spins + n_battery / 2) + photons == n_battery)
    energies, vectors = np.linalg.eigh(H[idx][:, idx].toarray())
    start = np.flatnonzero((spins[idx] == -n_battery / 2) & (photons[idx] == n_battery))[0]
    coeff = vectors[start].conj()
    z = spins[idx]

    def power(t):
        amp = vectors @ (coeff[:, None] * np.exp(-1j * np.outer(energies, t)))
        return (z @ np.abs(amp) ** 2 + n_battery / 2) / t

    step = 2 * math.pi / np.ptp(energies) / 25
    return scan_maximum(power, step, lambda p: n_battery / p)[0]  # Delta S^z <= N_B


@pytest.mark.parametrize("sizes", [pytest.param([1, 2, 4, 8, 16, 32, 64], id="up-to-64")])
def test_advantage_limit_against_independent_tavis_cummings(sizes):
    """Gamma_inf = P_TC(N_B) / (N_B c*) with P_TC from an independent diagonalisation; it
    is 1 for one spin and Gamma_inf / sqrt(N_B) decreases (the HP value sqrt(N_B) is above)."""
    limit = adv.advantage_limit(sizes)
    cs = analytic.c_star()[0]
    expected = [tavis_cummings_max_power(nb) / (nb * cs) for nb in sizes]
    np.testing.assert_allclose(limit, expected, rtol=RATIO_RTOL)
    ratio = limit / np.sqrt(sizes)
    assert ratio[0] == pytest.approx(1.0, rel=RATIO_RTOL)
    assert np.all(np.diff(ratio) < 0)


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
    """Gamma_inf(N_B) at N_B = 256, 1024 against the independent Tavis-Cummings build."""
    sizes = [256, 1024]
    limit = adv.advantage_limit(sizes)
    cs = analytic.c_star()[0]
    expected = [tavis_cummings_max_power(nb) / (nb * cs) for nb in sizes]
    np.testing.assert_allclose(limit, expected, rtol=RATIO_RTOL)
    assert limit[1] / math.sqrt(1024) < limit[0] / math.sqrt(256)


def test_errors():
    with pytest.raises(ValueError, match="'n=N_B' needs n_battery <= n_charger"):
        adv.quantum_advantage(5, 3)
    with pytest.raises(ValueError, match="n_battery must be an integer >= 1"):
        adv.quantum_advantage(0, 3)
    with pytest.raises(ValueError, match="spec must be one of"):
        adv.advantage_sweep([1], [3], charger="warm")
    with pytest.raises(ValueError, match="delta must be a finite real"):
        adv.quantum_advantage(2, 3, delta=float("nan"))


@pytest.mark.parametrize(
    "reference, n_cell",
    [
        pytest.param("cells", 12, id="cells-own-N"),
        pytest.param("split", 3, id="split-N/N_B"),
        pytest.param("pairs", 1, id="pairs-1+1"),
    ],
)
def test_parallel_reference_cells_against_eq15(reference, n_cell):
    """Each reference's cell (one battery spin, n_cell charger spins, |n=1>) against the
    closed form Eq. (15), P = c* B A sqrt(b_{N,1}) = c* B A sqrt(n_cell) at resonance; the
    collective side is the same for every reference."""
    res = adv.quantum_advantage(4, 12, reference=reference, A=0.7)
    cell = CentralSpinModel(1, n_cell, A=0.7)
    value, tau = analytic.single_spin_max_power(cell, 1)
    assert value == pytest.approx(analytic.c_star()[0] * 0.7 * math.sqrt(n_cell), rel=1e-12)
    assert res.p_cell == pytest.approx(value, rel=CERTIFIED_RTOL)
    assert res.t_cell == pytest.approx(tau, rel=TAU_RTOL)
    direct = max_power(CentralSpinModel(4, 12, A=0.7), (0, 4)).value
    assert res.gamma == pytest.approx(direct / (4 * value), rel=RATIO_RTOL)
    assert res.reference == reference and adv.ADVANTAGE_REFERENCES[reference] in res.definition
    assert f"reference={reference!r}" in repr(res) and "definition=" in repr(res)


def test_pairs_cell_is_a_two_spin_rabi_problem_brute_force():
    """reference="pairs", full chargers: the cell is one battery spin and one charger spin,
    brute-forced here on the 4-dim two-qubit space (H = B s^z + h s^z + A(s+ s- + s- s+))."""
    B, A = 1.0, 0.8
    res = adv.quantum_advantage(3, 6, charger="full", reference="pairs", B=B, h=B, A=A)
    sz, sp = qutip.jmat(0.5, "z"), qutip.jmat(0.5, "+")
    i2 = qutip.qeye(2)
    H = (
        B * qutip.tensor(sz, i2)
        + B * qutip.tensor(i2, sz)
        + A * (qutip.tensor(sp, sp.dag()) + qutip.tensor(sp.dag(), sp))
    )
    psi0 = qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 0))  # battery down, charger up
    hb = B * qutip.tensor(sz, i2)
    times = np.linspace(0.0, 6.0, 6001)  # psi0 at t = 0
    e = qutip.sesolve(H, psi0, times, e_ops=[hb], options={"atol": 1e-12, "rtol": 1e-10})
    power = (np.asarray(e.expect[0])[1:] + B / 2) / times[1:]
    assert res.p_cell == pytest.approx(power.max(), rel=1e-6)
    assert res.p_cell >= power.max() - 1e-9
    collective = max_power(CentralSpinModel(3, 6, A=A), (0, 6)).value
    assert res.gamma == pytest.approx(collective / (3 * res.p_cell), rel=RATIO_RTOL)


def test_sweep_reference_matches_pointwise():
    sweep = adv.advantage_sweep([1, 2, 4], [4, 8], reference="split")
    assert sweep.p_cell.shape == (3, 2) and sweep.reference == "split"
    for i, nb in enumerate([1, 2, 4]):
        for j, n in enumerate([4, 8]):
            point = adv.quantum_advantage(nb, n, reference="split")
            assert sweep.gamma[i, j] == pytest.approx(point.gamma, rel=RATIO_RTOL)
    assert "N/N_B charger spins" in repr(sweep)


def test_reference_errors():
    with pytest.raises(ValueError, match=r"reference must be one of .*got 'halves'"):
        adv.quantum_advantage(2, 4, reference="halves")
    with pytest.raises(
        ValueError, match="divisible by n_battery, got n_charger = 5, n_battery = 2"
    ):
        adv.quantum_advantage(2, 5, reference="split")
    with pytest.raises(ValueError, match="divisible by n_battery"):
        adv.advantage_sweep([3], [4], reference="split")
