"""Scaling sweeps and power-law fits (``qutip_centralspin.studies.scaling``): Table I, the HP limit.

Independent routes: the paper's Table I, closed forms (N = 1, Eq. 30), a bosonic-charger model
built here from ``qutip.jmat`` and ``qutip.destroy``, ``numpy.linalg.lstsq`` for the fit, and
``qutip.parallel_map`` against ``qutip.serial_map``.
"""

import math

import numpy as np
import pytest
import qutip
from scipy.optimize import minimize_scalar
from tolerances import CERTIFIED_RTOL

from qutip_centralspin import CentralSpinModel, max_power
from qutip_centralspin.paper import analytic
from qutip_centralspin.paper import data as paper
from qutip_centralspin.paper.reproduce import table_one
from qutip_centralspin.studies.cavity_limit import tavis_cummings_scaling
from qutip_centralspin.studies.scaling import (
    beta_limit,
    fit_power_law,
    initial_charger_excitations,
    power_grid,
    scaling_sweep,
)

# --- tolerances of this file (each with the reason for its size) ------------------------------
ALPHA_ATOL = 0.002  # the Table I target: alpha within +-0.002 of the paper
BETA_RTOL = 0.002  # the Table I target: beta within 0.2 % (paper used a finite dt)
FIT_RTOL = 1e-12  # least squares on exact power laws: conditioning ~ 1e2, values ~ 1e2 ulps
LSTSQ_RTOL = 1e-10  # two least-squares routes (polyfit vs lstsq) on noisy data
PARALLEL_RTOL = 1e-13  # same code in another process: identical up to BLAS summation order
HP_DECADE_FACTOR = 5.0  # finite-size errors of the HP limits fall ~10x per decade of N; ask 5x
HP_FEW_RTOL = 2e-3  # Eq. 30 with n - m <= 3 at N_B = N = 1e3: error (n - 1)/(2N) <= 1e-3
BOSON_RTOL = 1e-4  # Fig. 4 fits at N = 1e4 vs the N -> inf bosonic charger: error ~ 0.55/N
BOSON_LIMIT_RTOL = 1e-9  # certified cavity P_max (1e-10) vs a refined dense scan (~1e-14)
SLOPE_ATOL = 0.01  # local exponent d ln P / d ln N_B at N_B ~ 60, N = 1e4: 3/2 - O(1/N_B)


# --- Table I ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table_fits():
    """Fits exactly as ``reproduce`` makes them: paper.FIG3 / FIG4, scaling_sweep, fit_power_law.

    (``energy=False``: P_max does not depend on it, and it halves the cost.)
    """
    fits = {}
    for setting in (paper.FIG3, paper.FIG4):
        for n in setting.n_charger:
            sweep = scaling_sweep(setting.n_battery, n, initial=setting.initial, energy=False)
            fits[n] = fit_power_law(sweep.n_battery, sweep.p_max, setting.fit_window)
    return fits


@pytest.mark.parametrize("row", paper.TABLE_I, ids=lambda r: f"{r.regime}-N{r.n_charger}")
def test_table_one(row, table_fits):
    fit = table_fits[row.n_charger]
    assert fit.alpha == pytest.approx(row.alpha, abs=ALPHA_ATOL)
    assert fit.beta == pytest.approx(row.beta, rel=BETA_RTOL)
    assert fit.window == ({"lower": paper.FIG3, "upper": paper.FIG4}[row.regime]).fit_window


def test_table_one_assembly(table_fits):
    """``reproduce.table_one`` puts our fits beside the paper's and adds c* sqrt(N)."""
    lower = [table_fits[n] for n in paper.FIG3.n_charger]
    upper = [table_fits[n] for n in paper.FIG4.n_charger]
    rows = table_one(lower, upper)
    assert [(r.regime, r.N) for r in rows] == [(p.regime, p.n_charger) for p in paper.TABLE_I]
    for r, pub in zip(rows, paper.TABLE_I, strict=True):
        assert (r.alpha_paper, r.beta_paper) == (pub.alpha, pub.beta)
        assert r.alpha == table_fits[r.N].alpha and r.beta == table_fits[r.N].beta
        assert r.beta_limit == pytest.approx(analytic.c_star()[0] * math.sqrt(r.N), rel=1e-14)


def test_paper_settings():
    assert paper.FIG3.initial == "n=N" and paper.FIG4.initial == "n=N_B"
    assert (paper.FIG3.fit_window, paper.FIG4.fit_window) == ((20, 80), (1, 50))
    assert initial_charger_excitations("n=N", 7, 30) == 30
    assert initial_charger_excitations("n=N_B", 7, 30) == 7


# --- the two bounds of the exponent ----------------------------------------------------------
def test_lower_bound_single_charger_spin():
    """N = 1 (the lower bound): P_max = c* sqrt(N_B) exactly, so the fit is alpha = 1/2, beta = c*."""
    sweep = scaling_sweep(range(20, 81), 1, energy=False)
    fit = fit_power_law(sweep.n_battery, sweep.p_max)
    assert fit.alpha == pytest.approx(0.5, abs=2 * CERTIFIED_RTOL)
    assert fit.beta == pytest.approx(analytic.c_star()[0], rel=2 * CERTIFIED_RTOL)


@pytest.mark.parametrize("n0", [1, 2, 3])
def test_hp_limit_few_excitations(n0):
    """Eq. 30 (HP for battery *and* charger) needs n - m << N_B, N: the ratio to
    c* B A sqrt(N_B N)(n - m) tends to 1 like 1/N; n0 = 1 is exact for every size."""
    errors = []
    for size in (10, 100, 1000):  # the engine holds a dense (N_B+1)(N+1) vector: keep it small
        model = CentralSpinModel(size, size)
        exact = max_power(model, (0, n0)).value
        errors.append(abs(exact / analytic.hp_max_power(model, 0, n0)[0] - 1))
    if n0 == 1:
        assert max(errors) <= 2 * CERTIFIED_RTOL
        return
    for coarse, fine in zip(errors, errors[1:], strict=False):
        assert fine * HP_DECADE_FACTOR <= coarse
    assert errors[-1] <= HP_FEW_RTOL


def bosonic_charger_power(n_battery):
    """N -> inf at fixed N_B (HP for the charger only): the charger is a mode ``a`` with
    J^- -> sqrt(N) a, and P_max = B A sqrt(N) f(N_B), f = max_x [S^z(x) - S^z(0)]/x for
    H = S^+ a + S^- a^dag from |m=0> (x) |N_B photons>. Built from qutip, not the package."""
    dim = n_battery + 1
    sz, sp, sm = (qutip.tensor(qutip.jmat(n_battery / 2, k), qutip.qeye(dim)) for k in "z+-")
    a = qutip.tensor(qutip.qeye(dim), qutip.destroy(dim))
    psi0 = qutip.tensor(qutip.basis(dim, dim - 1), qutip.basis(dim, n_battery))  # m_z = -j
    energies, vectors = np.linalg.eigh((sp * a + sm * a.dag()).full())
    coeff = vectors.conj().T @ psi0.full().ravel()
    keep = np.abs(coeff) > 1e-14  # the sector of psi0
    energies, vectors, coeff = energies[keep], vectors[:, keep], coeff[keep]
    z = vectors.conj().T @ sz.full() @ vectors
    z0 = np.real(coeff.conj() @ z @ coeff)

    def gain_rate(x):
        x = np.atleast_1d(x)
        amp = np.exp(-1j * np.outer(energies, x)) * coeff[:, None]
        return (np.real(np.einsum("ax,ab,bx->x", amp.conj(), z, amp)) - z0) / x

    x = np.linspace(1e-3, 6.0 / math.sqrt(n_battery), 4001)
    i = int(np.argmax(gain_rate(x)))
    opt = minimize_scalar(
        lambda y: -gain_rate(y)[0],
        bounds=(x[i - 1], x[i + 1]),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return -opt.fun


@pytest.fixture(scope="module")
def boson_powers():
    sizes = np.arange(1, 11)
    f = np.array([bosonic_charger_power(nb) for nb in sizes])
    assert f[0] == pytest.approx(analytic.c_star()[0], rel=1e-9)  # N_B = 1: c* sqrt(N)
    return sizes, f


@pytest.fixture(scope="module")
def boson_fit(boson_powers):
    return fit_power_law(*boson_powers)


def test_fig4_fits_converge_to_bosonic_charger_limit(boson_fit):
    """Fig. 4 state (n = N_B), fits over N_B in [1, 10]: as N grows, alpha and beta/sqrt(N)
    converge (error ~ 1/N) to the fit of the exact N -> inf limit (charger = boson mode)."""
    alpha_err, beta_err = [], []
    for n in (100, 1000, 10_000):
        sweep = scaling_sweep(range(1, 11), n, initial="n=N_B", energy=False)
        fit = fit_power_law(sweep.n_battery, sweep.p_max)
        alpha_err.append(abs(fit.alpha - boson_fit.alpha))
        beta_err.append(abs(fit.beta / (boson_fit.beta * math.sqrt(n)) - 1))
    for errs in (alpha_err, beta_err):
        for coarse, fine in zip(errs, errs[1:], strict=False):
            assert fine * HP_DECADE_FACTOR <= coarse
    assert beta_err[-1] <= BOSON_RTOL
    assert alpha_err[-1] <= 2 * BOSON_RTOL


def test_fig4_limit_prefactor_is_below_c_star(boson_powers, boson_fit):
    """Eq. 31 (beta = c* sqrt(N), alpha = 3/2) assumes n - m = N_B << N_B, i.e. HP for the
    battery too, which the Fig. 4 state never satisfies: over N_B in [1, 10] the N -> inf fit
    has alpha < 3/2 and beta < c* sqrt(N). (The paper's own Table I shows beta / (c* sqrt(N))
    falling with N: 0.967, 0.918, 0.904.) The bosonic charger built here is the package's
    resonant Tavis-Cummings battery (``cavity``) with one photon per spin, g = A sqrt(N) = 1."""
    sizes, f = boson_powers
    cavity = tavis_cummings_scaling(sizes, g=1.0, B=1.0)
    np.testing.assert_allclose(cavity.p_collective, f, rtol=BOSON_LIMIT_RTOL)
    assert boson_fit.alpha < 1.5
    assert boson_fit.beta < analytic.c_star()[0]


def test_upper_bound_exponent_three_halves():
    """N >> N_B >> 1 (Fig. 4 state): the local exponent d ln P_max / d ln N_B tends to 3/2."""
    n = 10_000
    p = {nb: max_power(CentralSpinModel(nb, n), (0, nb)).value for nb in (10, 20, 40, 80)}
    slopes = [math.log(p[2 * nb] / p[nb]) / math.log(2) for nb in (10, 20, 40)]
    assert all(s < 1.5 for s in slopes)
    assert slopes[0] < slopes[1] < slopes[2]
    assert slopes[-1] == pytest.approx(1.5, abs=SLOPE_ATOL)


def test_beta_limit():
    assert beta_limit(100) == pytest.approx(analytic.c_star()[0] * 10, rel=1e-15)
    assert beta_limit(4, B=2.0, A=0.5) == pytest.approx(analytic.c_star()[0] * 2, rel=1e-15)
    np.testing.assert_allclose(beta_limit([1, 4, 9]), analytic.c_star()[0] * np.array([1, 2, 3]))


# --- fit_power_law -------------------------------------------------------------------------------
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.4075, 1.5])
@pytest.mark.parametrize("beta", [0.72, 7.0056, 15.9241])
def test_fit_recovers_exact_power_law(alpha, beta):
    x = np.arange(1, 81)
    fit = fit_power_law(x, beta * x.astype(float) ** alpha)
    assert fit.alpha == pytest.approx(alpha, rel=FIT_RTOL)
    assert fit.beta == pytest.approx(beta, rel=FIT_RTOL)
    assert fit.residual <= 1e-12
    assert fit.window == (1, 80)
    np.testing.assert_allclose(fit(x), beta * x.astype(float) ** alpha, rtol=1e3 * FIT_RTOL)


def test_fit_window_ignores_points_outside():
    x = np.arange(1, 81)
    y = 4.37 * x.astype(float) ** 0.5013
    y[x < 20] *= 1.7  # the unsaturated region of Fig. 3: must not enter the fit
    fit = fit_power_law(x, y, window=(20, 80))
    assert fit.alpha == pytest.approx(0.5013, rel=FIT_RTOL)
    assert fit.beta == pytest.approx(4.37, rel=FIT_RTOL)
    assert fit.window == (20, 80)


def test_fit_matches_independent_least_squares(rng):
    x = np.arange(1, 51).astype(float)
    y = 9.4 * x**1.44 * np.exp(rng.normal(scale=0.05, size=x.size))
    fit = fit_power_law(x, y)
    design = np.column_stack([np.log(x), np.ones_like(x)])
    (alpha, log_beta), *_ = np.linalg.lstsq(design, np.log(y), rcond=None)
    assert fit.alpha == pytest.approx(alpha, rel=LSTSQ_RTOL)
    assert fit.beta == pytest.approx(math.exp(log_beta), rel=LSTSQ_RTOL)
    rms = math.sqrt(np.mean((design @ [alpha, log_beta] - np.log(y)) ** 2))
    assert fit.residual == pytest.approx(rms, rel=1e-8)


@pytest.mark.parametrize(
    ("x", "y", "window"),
    [
        ([1, 2, 3], [1.0, 2.0, 3.0], (3, 5)),  # one point in the window
        ([1, 2, 3], [1.0, 2.0, 3.0], (10, 20)),  # none
        ([1, 2, 3], [1.0, 2.0], None),  # shapes differ
        ([1, 2, 3], [1.0, 0.0, 3.0], None),  # log of zero
        ([1, 2, 3], [1.0, -2.0, 3.0], None),  # negative power
    ],
    ids=["one-point", "no-point", "shape", "zero", "negative"],
)
def test_fit_bad_input(x, y, window):
    with pytest.raises(ValueError):
        fit_power_law(x, y, window)


# --- sweeps: map functions, grids, inputs ----------------------------------------------------
def test_scaling_sweep_agrees_with_max_power():
    sweep = scaling_sweep(range(1, 6), 7, initial="n=N_B", B=1.2, h=0.9, A=0.8, delta=0.3)
    assert sweep.n_charger == 7 and sweep.initial == "n=N_B"
    assert sweep.params == {"B": 1.2, "h": 0.9, "A": 0.8, "delta": 0.3}
    np.testing.assert_array_equal(sweep.n_battery, np.arange(1, 6))
    for i, nb in enumerate(range(1, 6)):
        model = CentralSpinModel(nb, 7, B=1.2, h=0.9, A=0.8, delta=0.3)
        p = max_power(model, (0, nb))
        assert sweep.p_max[i] == pytest.approx(p.value, rel=CERTIFIED_RTOL)
        assert sweep.t_pmax[i] == pytest.approx(p.time, rel=1e-6)
    assert sweep.e_max.shape == (5,) and sweep.e_converged.dtype == bool
    assert np.all(sweep.e_max > 0) and np.all(sweep.e_max <= 1.2 * np.arange(1, 6) * (1 + 1e-12))


def test_parallel_map_gives_serial_numbers():
    kwargs = dict(initial="n=N", B=1.1, h=0.9, delta=0.2)
    serial = scaling_sweep(range(1, 7), 6, map=qutip.serial_map, **kwargs)
    parallel = scaling_sweep(
        range(1, 7), 6, map=qutip.parallel_map, map_kw={"num_cpus": 2}, **kwargs
    )
    for name in ("p_max", "t_pmax", "e_max"):
        np.testing.assert_allclose(
            getattr(parallel, name), getattr(serial, name), rtol=PARALLEL_RTOL, err_msg=name
        )
    np.testing.assert_array_equal(parallel.e_converged, serial.e_converged)
    grid_s = power_grid(range(1, 5), range(1, 6))
    grid_p = power_grid(range(1, 5), range(1, 6), map=qutip.parallel_map, map_kw={"num_cpus": 2})
    np.testing.assert_allclose(grid_p, grid_s, rtol=PARALLEL_RTOL)


def test_power_grid_shape_and_agreement():
    nb, nc = range(1, 7), [1, 3, 8, 12]
    grid = power_grid(nb, nc)
    assert grid.shape == (6, 4)
    for j, n in enumerate(nc):
        sweep = scaling_sweep(nb, n, energy=False)
        np.testing.assert_allclose(grid[:, j], sweep.p_max, rtol=0)
        assert sweep.e_max is None and sweep.e_converged is None
    # spot checks against max_power directly, and the N = 1 closed form in column 0
    assert grid[4, 2] == pytest.approx(
        max_power(CentralSpinModel(5, 8), (0, 8)).value, rel=CERTIFIED_RTOL
    )
    for i, b in enumerate(nb):
        cf = analytic.single_charger_max_power(CentralSpinModel(b, 1), 0)[0]
        assert grid[i, 0] == pytest.approx(cf, rel=CERTIFIED_RTOL)


def test_energy_flag_does_not_change_power():
    with_e = scaling_sweep(range(1, 5), 9, energy=True)
    without = scaling_sweep(range(1, 5), 9, energy=False)
    np.testing.assert_array_equal(with_e.p_max, without.p_max)


@pytest.mark.parametrize(
    ("call", "kwargs"),
    [
        (scaling_sweep, dict(n_battery=range(1, 12), n_charger=10, initial="n=N_B")),
        (power_grid, dict(n_battery=range(1, 5), n_charger=range(1, 4), initial="n=N_B")),
        (scaling_sweep, dict(n_battery=range(1, 3), n_charger=4, initial="n=2")),
        (power_grid, dict(n_battery=range(1, 3), n_charger=range(1, 3), initial="full")),
        (scaling_sweep, dict(n_battery=[0, 1, 2], n_charger=4)),
        (scaling_sweep, dict(n_battery=range(1, 3), n_charger=0)),
        (power_grid, dict(n_battery=range(1, 3), n_charger=[2, -1])),
        (scaling_sweep, dict(n_battery=range(1, 3), n_charger=4, B=math.nan)),
    ],
    ids=[
        "NB>N-sweep",
        "NB>N-grid",
        "bad-initial",
        "bad-initial-grid",
        "NB=0",
        "N=0",
        "N<0",
        "nan-B",
    ],
)
def test_bad_sweep_input(call, kwargs):
    with pytest.raises(ValueError):
        call(**kwargs)


def test_initial_state_names():
    with pytest.raises(ValueError, match="n_battery <= n_charger"):
        initial_charger_excitations("n=N_B", 11, 10)
    with pytest.raises(ValueError, match="initial must be one of"):
        initial_charger_excitations("n = N", 1, 1)


# --- the full Fig. 5 grid (slow) --------------------------------------------------------------
@pytest.mark.slow
def test_fig5_grid_monotone_and_bounded():
    """P_max over N_B in [1, 40], N in [1, 200] from |0, N>: positive, the N = 1 column equals
    c* sqrt(N_B), the N_B = 1 row equals c* sqrt(N); grows along both axes near the diagonal."""
    grid = power_grid(paper.FIG5["n_battery"], paper.FIG5["n_charger"])
    assert grid.shape == (40, 200)
    assert np.all(grid > 0)
    cs = analytic.c_star()[0]
    np.testing.assert_allclose(grid[:, 0], cs * np.sqrt(np.arange(1, 41)), rtol=CERTIFIED_RTOL)
    np.testing.assert_allclose(grid[0, :], cs * np.sqrt(np.arange(1, 201)), rtol=CERTIFIED_RTOL)
    assert np.all(np.diff(grid[:, 199]) > 0)  # N = 200 >> N_B: more battery spins, more power
    assert np.all(np.diff(grid[39, :]) > 0)  # N_B = 40: a bigger full charger, more power
