"""The resource guard: estimates within a small factor of the measured peak, the limit from
option, environment and default, and refusals before allocation."""

import tracemalloc

import numpy as np
import pytest

from qutip_centralspin import CentralSpinModel, charge, decay, dephasing, dicke_state, hamiltonian
from qutip_centralspin.resources import MEMORY_ENV, ResourceError, memory_limit
from qutip_centralspin.solvers.blocks import BlockSolver
from qutip_centralspin.solvers.estimates import estimate

CASES = [
    pytest.param(20, 20, [dephasing(0.1)], "auto", {}, id="blocks-dephasing"),
    pytest.param(12, 12, [decay(0.1)], "auto", {}, id="blocks-decay"),
    pytest.param(4, 4, [dephasing(0.1)], "piqs", {}, id="piqs"),
    pytest.param(3, 3, [dephasing(0.1)], "bruteforce", {}, id="bruteforce"),
    pytest.param(30, 200, None, "exact", {"store_states": True}, id="exact-states"),
    pytest.param(10, 40, None, "sesolve", {"store_states": True}, id="sesolve"),
]


@pytest.mark.parametrize("nb, nc, procs, solver, options", CASES)
def test_estimate_is_within_a_small_factor_of_the_measured_peak(nb, nc, procs, solver, options):
    model = CentralSpinModel(nb, nc)
    psi0 = dicke_state(model, 0, nc)
    tlist = np.linspace(0, 1, 301)
    est = estimate(model, psi0, tlist, processes=procs, solver=solver, options=options)
    tracemalloc.start()
    try:
        charge(model, psi0, tlist, processes=procs, solver=solver, options=options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0.5 <= est.memory / peak <= 4, (est, peak)


@pytest.mark.parametrize(
    "nb, nc, procs, start",
    [
        pytest.param(6, 5, [dephasing(0.2)], (1, 3), id="dephasing"),
        pytest.param(5, 6, [dephasing(0.1, target="charger")], (0, 6), id="charger-local"),
        pytest.param(6, 6, [decay(0.1), dephasing(0.1, target="charger")], (2, 6), id="decay"),
    ],
)
def test_block_size_bound(nb, nc, procs, start):
    """Exact on small block grids (the reachable blocks), checked against the solver."""
    model = CentralSpinModel(nb, nc, B=1.0, h=0.7)  # detuned: no chiral halving
    solver = BlockSolver(model, procs)
    actual = solver.dimension(dicke_state(model, *start))
    bound = solver.size_bound([sum(start)])
    assert bound == actual


def test_limit_from_option_environment_and_default(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    default = memory_limit()
    assert 0 < default
    monkeypatch.setenv(MEMORY_ENV, "1.5G")
    assert memory_limit() == int(1.5 * 2**30)
    assert memory_limit("200M") == 200 * 2**20
    assert memory_limit(12345) == 12345
    for bad in ("lots", -1, 0, float("inf")):
        with pytest.raises(ValueError, match="max_memory"):
            memory_limit(bad)
    monkeypatch.setenv(MEMORY_ENV, "nope")
    with pytest.raises(ValueError, match=MEMORY_ENV):
        memory_limit()


def test_charge_refuses_before_allocating(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "64M")
    model = CentralSpinModel(100, 100)
    psi0 = dicke_state(model, 0, 100)
    with pytest.raises(ResourceError, match=r"solver='blocks'.*memory limit 64 MiB"):
        charge(model, psi0, np.linspace(0, 1, 11), processes=[decay(0.1)])
    # the option overrides the environment
    small = CentralSpinModel(2, 2)
    with pytest.raises(ResourceError, match="memory limit"):
        charge(small, dicke_state(small, 0, 2), np.linspace(0, 1, 11), options={"max_memory": 100})
    res = charge(small, dicke_state(small, 0, 2), [0, 1], options={"max_memory": "1G"})
    assert res.delta_energy.shape == (2,)


def test_operators_and_states_refuse_huge_models():
    huge = CentralSpinModel(100_000, 100_000)
    with pytest.raises(ResourceError, match="Dicke-space operators"):
        hamiltonian(huge)
    # a Dicke ket is stored sparse (one entry): only QuTiP's index type limits it ...
    with pytest.raises(ValueError, match=r"the state \|m, n>.*Dicke label \(0, 0\)"):
        dicke_state(huge, 0, 0)
    # ... its density matrix needs memory of the order of the dimension
    with pytest.raises(ResourceError, match=r"the density matrix \|m, n><m, n\|"):
        dicke_state(CentralSpinModel(1000, 10**6), 0, 0, dm=True)


def test_matrix_free_generator_needs_less_memory():
    """The assembled generator stores ~12 entries per unknown; the matrix-free one only the
    Chebyshev vectors (its estimate is what the guard checks when it would run)."""
    model = CentralSpinModel(60, 60)
    psi0 = dicke_state(model, 0, 60)
    est = {
        g: estimate(model, psi0, 11, processes=[decay(0.1)], options={"generator": g})
        for g in ("csr", "matrix-free", "auto")
    }
    assert est["matrix-free"].memory < est["csr"].memory / 3
    assert "vectors (matrix-free generator)" in est["matrix-free"].details
    assert est["auto"].memory == est["matrix-free"].memory  # 60 x 60 local decay: > 4e5


def test_open_cavity_charger_is_estimated():
    """The open cavity charger's blocks reach the photons of the state's largest excitation;
    the estimate counts them (and picks the generator auto would) without building anything."""
    from qutip_centralspin.models.cavity import CavityModel
    from qutip_centralspin.solvers.cavity_blocks import CavityBlockSolver, cavity_loss

    procs = [cavity_loss(0.1), decay(0.1), dephasing(0.05)]
    small = CavityModel(3, omega=1.0, g=0.5)
    est = estimate(small, (0, 4), 11, processes=procs)
    solver = CavityBlockSolver(small, procs)
    assert est.solver == "blocks"
    assert est.size == solver.size_bound(solver.initial_sectors((0, 4)))
    big = CavityModel(140, omega=1.0, g=0.4 / np.sqrt(140), B=1.0)
    est = estimate(big, (0, 140), 201, processes=procs)
    assert "vectors (matrix-free generator)" in est.details
    # measured peak at N = 140: 1.0 GB resonant, 1.6 GB detuned (benchmarks/README.md)
    assert 1.0 * 2**30 < est.memory < 4 * 2**30


def test_estimate_refuses_models_it_does_not_cover():
    from qutip_centralspin.models.cavity import CavityModel

    with pytest.raises(ValueError, match="estimate covers the spin charger.*CavityModel"):
        estimate(CavityModel(4, omega=1.0, g=0.5), (0, 4), 11)
