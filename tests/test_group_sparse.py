"""The sparse path of the multi-group engine against its dense path and against qubits.

``dense_limit=0`` forces the sparse path (CSR sectors, Chebyshev propagation) on small
sectors, so each comparison with the dense path (eigendecomposition) runs in well under a
second. Agreement is asked to 1e-9 relative to |B| N_B (sum_a |B_a| N_a).
"""

import numpy as np
import pytest
import qutip
from test_groups import Qubits, _random_model
from tolerances import ODE_ATOL

from qutip_centralspin import max_power
from qutip_centralspin.maxima.certified import max_energy
from qutip_centralspin.models.groups import Gibbs, GroupModel, dicke_state
from qutip_centralspin.resources import MEMORY_ENV, ResourceError
from qutip_centralspin.solvers.group_engine import GroupEngine, charge_groups
from qutip_centralspin.solvers.group_sparse import SparseGroupEvolution

SPARSE_RTOL = 1e-9  # relative to |B| N_B: Chebyshev (tail 1e-17) against eigh, both ~1e-13

SHAPES = [
    pytest.param((2,), (3,), id="1+1"),
    pytest.param((2, 1), (3,), id="2+1"),
    pytest.param((1,), (2, 3), id="1+2"),
    pytest.param((2, 1), (2, 2), id="2+2"),
    pytest.param((1,), (2, 1, 3), id="1+3"),
]


def _tlist(seed):
    """Irregular times not starting at 0 (the origin is tlist[0])."""
    rng = np.random.default_rng(seed)
    return 0.7 + np.cumsum(rng.uniform(0.01, 0.4, 25))


def _superposition(model, seed):
    """Three random labels (different sectors in general), complex amplitudes."""
    rng = np.random.default_rng(seed)
    out = {}
    while len(out) < 3:
        m = tuple(int(rng.integers(0, n + 1)) for n in model.battery_sizes)
        n = tuple(int(rng.integers(0, n + 1)) for n in model.charger_sizes)
        out[(m, n)] = complex(rng.normal(), rng.normal())
    return out


def _states(model, seed):
    """Labels, a superposition across sectors, the same as a Qobj ket, and a density matrix
    with coherences between sectors mixed with a product state."""
    sup = _superposition(model, seed)
    ket = sum(a * dicke_state(model, *key) for key, a in sup.items()).unit()
    first = next(iter(sup))
    rho = 0.6 * ket.proj() + 0.4 * dicke_state(model, *first, dm=True)
    return {"labels": first, "superposition": sup, "ket": ket, "dm": rho}


def _z_op(model):
    """An e_op: S^z of the first charger group."""
    dims = model.dims[0]
    nb = len(model.battery)
    return qutip.tensor(
        [qutip.jmat((d - 1) / 2, "z") if g == nb else qutip.qeye(d) for g, d in enumerate(dims)]
    )


def _assert_close(a, b, scale):
    np.testing.assert_allclose(a, b, rtol=0, atol=SPARSE_RTOL * scale)


@pytest.mark.parametrize("battery, charger", SHAPES)
@pytest.mark.parametrize("seed", [1, 2])
def test_sparse_matches_dense(battery, charger, seed):
    model = _random_model(100 * seed + len(charger), battery, charger)
    scale = model.battery_spread
    tlist = _tlist(seed)
    e_op = _z_op(model)
    for name, state in _states(model, seed).items():
        dense = charge_groups(model, state, tlist, e_ops=[e_op], options={"store_states": True})
        sparse = charge_groups(
            model, state, tlist, e_ops=[e_op], options={"store_states": True}, dense_limit=0
        )
        assert "sparse group sectors" in sparse.stats["method"], name
        assert "syevd" in dense.stats["method"], name
        _assert_close(sparse.delta_energy, dense.delta_energy, scale)
        _assert_close(sparse.power[1:], dense.power[1:], scale / (tlist[1] - tlist[0]))
        assert sparse.initial_energy == pytest.approx(dense.initial_energy, abs=1e-12 * scale)
        assert sparse.initial_rate == pytest.approx(dense.initial_rate, abs=1e-12 * scale)
        _assert_close(sparse.e_data[0], dense.e_data[0], max(model.charger_sizes))
        for a, b in zip(sparse.states, dense.states, strict=True):
            assert (a - b).norm() < SPARSE_RTOL, name


@pytest.mark.parametrize("battery, charger", SHAPES[1:4])
def test_sparse_energy_at_any_times_and_reduced_state(battery, charger):
    model = _random_model(7, battery, charger)
    state = _superposition(model, 7)
    dense = GroupEngine(model).evolve(state)
    sparse = GroupEngine(model, dense_limit=0).evolve(state)
    assert isinstance(sparse, SparseGroupEvolution)
    scale = model.battery_spread
    t = np.array([2.5, 0.0, -1.2, 7.0, 0.3, 2.5, -0.1])  # unsorted, repeated, negative
    for _ in range(2):  # the second call starts from the kept checkpoints
        _assert_close(sparse.battery_energy(t), dense.battery_energy(t), scale)
    _assert_close(sparse.power(t), dense.power(t), scale / 0.1)
    assert sparse.energy_ceiling() == pytest.approx(dense.energy_ceiling(), abs=1e-12 * scale)
    grid = np.linspace(0.0, 3.0, 7)
    np.testing.assert_allclose(
        sparse.reduced_battery_matrices(grid), dense.reduced_battery_matrices(grid), atol=1e-9
    )
    assert sparse.sector_weights == pytest.approx(dense.sector_weights, abs=1e-14)


def test_sparse_long_times_cross_segments():
    """Many Chebyshev segments (t * half width >> SEGMENT_TERMS) and a long gap."""
    model = _random_model(9, (2, 1), (3, 2))
    state = _superposition(model, 9)
    dense = GroupEngine(model).evolve(state)
    sparse = GroupEngine(model, dense_limit=0).evolve(state)
    t = np.concatenate([np.linspace(0, 5, 40), [900.0, 2000.0]])
    _assert_close(sparse.battery_energy(t), dense.battery_energy(t), 10 * model.battery_spread)


GIBBS = [
    pytest.param((2,), (3, 2), (0,), (Gibbs(1.5), 2), id="thermal-charger"),
    pytest.param((2, 1), (3,), (Gibbs(0.8), 0), (3,), id="thermal-battery"),
]


@pytest.mark.parametrize("battery, charger, m, n", GIBBS)
def test_sparse_gibbs_groups_match_dense(battery, charger, m, n):
    model = _random_model(53, battery, charger, charging=True)
    tlist = _tlist(3)
    dense = charge_groups(model, (m, n), tlist)
    sparse = charge_groups(model, (m, n), tlist, dense_limit=0)
    assert "one engine per ladder" in sparse.stats["method"]
    _assert_close(sparse.delta_energy, dense.delta_energy, model.battery_spread)


def test_sparse_matches_qubits():
    """Brute force: every spin a qubit, qutip.sesolve; the engine on the sparse path."""
    model = _random_model(41, (2, 1), (2, 2))
    tlist = np.linspace(0.5, 4.0, 30)
    m, n = (1, 0), (2, 1)
    reference = Qubits(model).energies(m + n, tlist)
    result = charge_groups(model, (m, n), tlist, dense_limit=0)
    assert "sparse" in result.stats["method"]
    np.testing.assert_allclose(result.delta_energy, reference - reference[0], atol=ODE_ATOL)
    assert result.initial_energy == pytest.approx(reference[0], abs=ODE_ATOL)


@pytest.mark.parametrize("kind", ["power", "energy", "first", "window"])
def test_sparse_maxima_are_grid_estimates(kind):
    model = _random_model(61, (2,), (3, 2), charging=True)
    state = ((0,), (3, 2))
    sparse_engine = GroupEngine(model, dense_limit=0)
    call = {
        "power": lambda **kw: max_power(model, state, **kw),
        "energy": lambda **kw: max_energy(model, state, **kw),
        "first": lambda **kw: max_energy(model, state, peak="first", **kw),
        "window": lambda **kw: max_energy(model, state, window=2.0, **kw),
    }[kind]
    certified = call()
    estimate = call(engine=sparse_engine)
    assert certified.converged
    assert not estimate.converged
    assert estimate.horizon is None and estimate.time_bracket is None
    assert "grid estimate, not certified" in estimate.reason
    assert "spacing" in estimate.reason and "dense_limit 0" in estimate.reason
    # a sample of the true curve: never above the certified bound, and close to the maximum
    assert estimate.value <= certified.upper_bound + 1e-12 * model.battery_spread
    assert estimate.value == pytest.approx(certified.value, rel=1e-8)
    if kind in ("power", "first"):  # a window's maximum may be reached at several times
        assert estimate.time == pytest.approx(certified.time, rel=1e-4)
    assert estimate.upper_bound >= estimate.value


def test_sparse_maxima_of_gibbs_mixture_are_estimates():
    model = _random_model(53, (2,), (3, 2), charging=True)
    state = ((0,), (Gibbs(1.5), 2))
    from qutip_centralspin.maxima.certified import certified_max_power
    from qutip_centralspin.solvers.group_engine import mixture_evolution

    evo = mixture_evolution(model, *state, dense_limit=0)
    assert not evo.certifiable
    estimate = certified_max_power(evo)
    assert not estimate.converged and "grid estimate" in estimate.reason
    assert estimate.value == pytest.approx(max_power(model, state).value, rel=1e-8)


def test_certification_data_refused_with_sizes():
    model = _random_model(61, (2,), (3, 2), charging=True)
    evo = GroupEngine(model, dense_limit=3).evolve(((0,), (3, 2)))
    with pytest.raises(ValueError, match=r"largest occupied sector has 6 levels, above "):
        evo.derivative_bound(1)
    with pytest.raises(ValueError, match=r"dense_limit = 3"):
        evo.state_derivative_bound(1)


def test_dense_limit_is_checked():
    model = GroupModel(battery=[(1, 1.0)], charger=[(2, 1.0)])
    with pytest.raises(ValueError, match=r"dense_limit must be an integer"):
        GroupEngine(model, dense_limit=-1)
    with pytest.raises(ValueError, match=r"dense_limit must be None when an engine is given"):
        charge_groups(model, ((0,), (2,)), [0.0, 1.0], engine=GroupEngine(model), dense_limit=0)


def test_large_sector_runs_sparse_where_dense_is_refused(monkeypatch):
    """8008 levels (N_B = 10, six charger groups of 50, all excited): dense needs ~1.5 GB for
    H alone, refused under a 300 MB limit; the sparse path fits and runs by default."""
    monkeypatch.setenv(MEMORY_ENV, "300M")
    model = GroupModel(
        battery=[(10, 1.0)], charger=[(50, 1.0)] * 6, A=[[1.0, 0.8, 0.6, 0.5, 0.4, 0.3]]
    )
    state = ((0,), (50,) * 6)
    engine = GroupEngine(model)
    assert engine.block_basis(300).size == 8008
    with pytest.raises(ResourceError, match=r"the dense sector of size 8008"):
        engine.sector(300)
    result = charge_groups(model, state, [1.0, 1.02, 1.05])
    assert "largest occupied sector 8008" in result.stats["method"]
    assert result.delta_energy[0] == 0.0
    assert 0 < result.delta_energy[-1] <= model.battery_spread
