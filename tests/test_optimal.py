"""Optimal charging: gradients against finite differences, objectives against independent
solvers, optima against closed forms, the lambda = 1 and step protocols, and qutip-qoc.

Known answers (resonant N_B = 1, B = h): from |m=0, n> the sector {|0, n>, |1, n-1>} is a
two-level system, H_K = lambda (Omega sigma_x + c 1) with Omega = A sqrt(n (N - n + 1)) and c
from the Ising term (a phase only when both levels share it, e.g. N = 1). Then
psi(T) = exp(-i Omega int lambda sigma_x)|0, n>: the battery population is
p = sin^2(Omega int_0^T lambda dt), rho_B = diag(p, 1 - p), Delta E_B = B p and
W = B max(0, 2p - 1). With |lambda| <= 1, |int lambda| <= T: for Omega T <= pi/2 the
optimum is lambda = 1 (p = sin^2(Omega T)); for Omega T >= pi/2 it is p = 1 (W = B).
"""

import math

import numpy as np
import pytest

from qutip_centralspin import CentralSpinModel, charge, decay, dephasing, dicke_state
from qutip_centralspin.models.protocols import step
from qutip_centralspin.observables.ergotropy import Ergotropy
from qutip_centralspin.studies.optimal import (
    ClosedObjective,
    OpenObjective,
    _durations,
    _weights_gradient,
    optimize_charging,
    protocol_of,
)

#: Exact gradient against central differences (step 1e-6: error ~ 1e-10 in these units).
FD_ATOL = 1e-7
#: Exact engines against each other (rounding only).
EXACT_ATOL = 1e-10
#: Against the adaptive ODE of sesolve / mesolve (reference options: atol 1e-12, rtol 1e-10).
ODE_ATOL = 1e-6
#: A local optimum of a closed form: L-BFGS-B stops at a projected gradient ~ 1e-5.
OPTIMUM_ATOL = 1e-8


def _central_differences(f, values, durations, h=1e-6):
    eye = np.eye(values.size)
    d_val = [(f(values + h * e, durations) - f(values - h * e, durations)) / (2 * h) for e in eye]
    d_dur = [(f(values, durations + h * e) - f(values, durations - h * e)) / (2 * h) for e in eye]
    return np.array(d_val), np.array(d_dur)


def _states(model):
    """A ket with coherences between excitation sectors, and a mixture with them."""
    sup = (dicke_state(model, 0, 4) + 0.6j * dicke_state(model, 1, 2)).unit()
    mix = 0.6 * dicke_state(model, 1, 4).proj() + 0.4 * sup.proj()
    return {"superposition": sup, "mixture": mix}


@pytest.mark.parametrize("objective", ["ergotropy", "energy"])
@pytest.mark.parametrize("state", ["superposition", "mixture"])
@pytest.mark.parametrize("battery", ["dicke", "qubits"])
def test_exact_gradient_matches_central_differences(objective, state, battery):
    model = CentralSpinModel(2, 4, B=1.1, h=0.9, A=0.8, delta=0.3)
    f = ClosedObjective(model, _states(model)[state], objective=objective, battery=battery)
    rng = np.random.default_rng(7)
    values, durations = rng.uniform(-1, 1, 4), rng.uniform(0.2, 0.6, 4)
    value, d_val, d_dur = f.value_and_gradient(values, durations)
    assert value == f(values, durations)
    assert abs(value) > 0.05  # a non-trivial point (not a passive state)
    fd_val, fd_dur = _central_differences(f, values, durations)
    np.testing.assert_allclose(d_val, fd_val, atol=FD_ATOL)
    np.testing.assert_allclose(d_dur, fd_dur, atol=FD_ATOL)
    assert np.abs(d_val).max() > 1e-2 and np.abs(d_dur).max() > 1e-2


def test_free_boundary_chain_rule_matches_central_differences():
    model = CentralSpinModel(2, 3, B=1.0, h=1.2, A=1.0, delta=-0.4)
    f = ClosedObjective(model, dicke_state(model, 0, 3))
    T, values, weights = 1.3, np.array([0.9, 0.8, 1.0]), np.array([0.4, 0.9, 0.7])
    value, _, d_dur = f.value_and_gradient(values, _durations(T, weights))
    assert value > 0.5 and abs(d_dur @ weights) > 1.0  # not a passive state; T matters
    g = _weights_gradient(T, weights, d_dur)
    h = 1e-6
    fd = [
        (f(values, _durations(T, weights + h * e)) - f(values, _durations(T, weights - h * e)))
        / (2 * h)
        for e in np.eye(3)
    ]
    np.testing.assert_allclose(g, fd, atol=FD_ATOL)
    assert abs(g @ weights) < 1e-12  # scaling all weights leaves the lengths unchanged


@pytest.mark.parametrize("battery", ["dicke", "qubits"])
@pytest.mark.parametrize("state", ["superposition", "mixture"])
def test_closed_objective_matches_qutip_paths(state, battery):
    """W and Delta E_B at T against sesolve/mesolve on the QobjEvo H_0 + lambda(t) H_I, and
    Delta E_B against the exact switched engine."""
    model = CentralSpinModel(2, 4, B=1.1, h=0.9, A=0.8, delta=0.3)
    psi0 = _states(model)[state]
    values, durations = np.array([1.0, -0.4, 0.7]), np.array([0.5, 0.3, 0.6])
    T = durations.sum()
    ref = charge(
        model,
        psi0,
        np.linspace(0, T, 5),
        coupling=protocol_of(values, durations),
        solver="sesolve" if psi0.isket else "mesolve",
        e_ops={"W": Ergotropy(model, battery=battery)},
        options={"atol": 1e-12, "rtol": 1e-10},
    )
    w = ClosedObjective(model, psi0, battery=battery)(values, durations)
    e = ClosedObjective(model, psi0, objective="energy")(values, durations)
    assert w == pytest.approx(ref.e_data["W"][-1], abs=ODE_ATOL)
    assert e == pytest.approx(ref.delta_energy[-1], abs=ODE_ATOL)
    exact = charge(model, psi0, [0.0, T], coupling=protocol_of(values, durations))
    assert exact.solver == "exact"
    assert e == pytest.approx(exact.delta_energy[-1], abs=EXACT_ATOL)


@pytest.mark.parametrize(
    ("omega_t", "expected"),
    [
        pytest.param(math.pi / 2, 1.0, id="OmegaT=pi/2: full charge, lambda=1 optimal"),
        pytest.param(math.pi / 3, 0.5, id="OmegaT=pi/3: W = -B cos(2 Omega T)"),
        pytest.param(math.pi, 1.0, id="OmegaT=pi: lambda=1 gives 0, the optimum B"),
    ],
)
def test_known_optimum_resonant_single_spins(omega_t, expected):
    """N_B = N = 1, B = h, any Delta (a phase in the sector): W* = B max(0, 2p* - 1)."""
    B, A = 1.3, 0.7
    model = CentralSpinModel(1, 1, B=B, h=B, A=A, delta=0.4)
    psi0 = dicke_state(model, 0, 1)
    T = omega_t / A  # Omega = A sqrt(1 * 1)
    best = optimize_charging(model, psi0, T, segments=3, starts=2)
    assert best.objective == pytest.approx(expected * B, abs=OPTIMUM_ATOL)
    assert best.objective <= B + EXACT_ATOL  # never above the bound
    p_one = math.sin(omega_t) ** 2
    assert best.baseline == pytest.approx(B * max(0.0, 2 * p_one - 1), abs=EXACT_ATOL)
    if omega_t <= math.pi / 2:  # lambda = 1 is the optimum
        assert best.improvement == pytest.approx(0.0, abs=OPTIMUM_ATOL)
        np.testing.assert_allclose(np.abs(best.values), 1.0, atol=1e-4)


def test_a_passive_start_is_moved_by_the_energy_first():
    """One segment, lambda = 1 the only start: Omega T = 0.85 pi gives p = sin^2(0.85 pi)
    < 1/2, a passive rho_B (W = 0, zero gradient), while Delta E_B = B p grows as lambda
    decreases, up to lambda = 1/1.7 where p = 1 and W = B."""
    model = CentralSpinModel(1, 1, B=0.9, h=0.9, A=1.0)
    best = optimize_charging(model, dicke_state(model, 0, 1), 0.85 * math.pi, segments=1, starts=0)
    assert best.baseline == pytest.approx(0.0, abs=1e-12)
    assert best.objective == pytest.approx(0.9, abs=OPTIMUM_ATOL)
    assert abs(best.values[0]) == pytest.approx(1 / 1.7, abs=1e-4)  # p(lambda) is even
    assert best.optimizer["energy_warm_start"]


@pytest.mark.parametrize("omega_t", [math.pi / 4, math.pi / 2])
def test_known_optimum_energy_many_charger_spins(omega_t):
    """N_B = 1, N = 4 from |0, 4>: Omega = 2A; Delta E_B* = B sin^2(min(Omega T, pi/2))."""
    B, A = 0.8, 1.1
    model = CentralSpinModel(1, 4, B=B, h=B, A=A)
    T = omega_t / (2 * A)
    best = optimize_charging(model, dicke_state(model, 0, 4), T, objective="energy", segments=2)
    assert best.quantity == "energy"
    assert best.objective == pytest.approx(B * math.sin(omega_t) ** 2, abs=OPTIMUM_ATOL)


@pytest.mark.parametrize("objective", ["ergotropy", "energy"])
@pytest.mark.parametrize("boundaries", ["fixed", "free"])
def test_optimum_beats_lambda_one_and_every_grid_step(objective, boundaries):
    """The baseline and the steps are evaluated here on the sesolve path; the returned
    protocol is re-evaluated there too."""
    model = CentralSpinModel(2, 4, B=1.1, h=0.9, A=0.8, delta=0.3)
    psi0 = dicke_state(model, 0, 4)
    T, M = 1.5, 4
    best = optimize_charging(
        model, psi0, T, segments=M, objective=objective, boundaries=boundaries
    )

    def independent(protocol):
        res = charge(
            model,
            psi0,
            [0.0, T],
            coupling=protocol,
            solver="sesolve",
            e_ops={"W": Ergotropy(model)},
            options={"atol": 1e-12, "rtol": 1e-10},
        )
        return res.e_data["W"][-1] if objective == "ergotropy" else res.delta_energy[-1]

    steps = [independent(step(k * T / M)) for k in range(1, M + 1)]
    assert best.baseline == pytest.approx(steps[-1], abs=ODE_ATOL)  # step(T) is lambda = 1
    assert best.step == pytest.approx(max(steps), abs=ODE_ATOL)
    assert best.objective >= max(steps) - ODE_ATOL
    assert best.improvement == pytest.approx(best.objective - best.baseline)
    assert best.improvement > 0.1  # here the optimum is well above lambda = 1
    assert independent(best.protocol) == pytest.approx(best.objective, abs=ODE_ATOL)
    assert np.all(np.abs(best.values) <= 1.0)
    assert best.times[0] == 0.0 and best.T == T and np.all(np.diff(best.times) > 0)
    assert best.protocol.values[-1] == 0.0 and best.protocol.times[-1] == T
    assert best.gradient == "exact (adjoint)" and best.evaluations > M
    assert best.optimizer["method"] == "L-BFGS-B" and best.optimizer["nfev"] >= 1
    assert all(after >= before for _, before, after in best.starts)


def test_seeded_runs_are_reproducible_and_bounds_respected():
    model = CentralSpinModel(2, 3, B=1.0, h=1.3, A=1.0, delta=0.4)
    psi0 = dicke_state(model, 0, 3)
    kwargs = dict(segments=3, bounds=(-0.5, 0.8), starts=2, seed=11, boundaries="free")
    one = optimize_charging(model, psi0, 1.2, **kwargs)
    two = optimize_charging(model, psi0, 1.2, **kwargs)
    np.testing.assert_array_equal(one.values, two.values)
    np.testing.assert_array_equal(one.times, two.times)
    assert one.objective == two.objective and one.starts == two.starts
    assert np.all((one.values >= -0.5) & (one.values <= 0.8))
    # the baseline is the paper's lambda = 1 even when the bounds exclude it
    ref = charge(model, psi0, [0.0, 1.2], coupling=step(1.2), e_ops={"W": Ergotropy(model)})
    assert one.baseline == pytest.approx(ref.e_data["W"][-1], abs=EXACT_ATOL)


def test_open_gradient_with_zero_rates_matches_the_exact_closed_gradient():
    """Two independent engines: block solver + finite differences, sectors + adjoint."""
    model = CentralSpinModel(2, 2, B=1.0, h=1.3, A=1.0, delta=0.4)
    psi0 = dicke_state(model, 0, 2)
    values, durations = np.array([0.9, 0.4]), np.array([0.5, 0.6])
    for objective in ("energy", "ergotropy"):
        open_ = OpenObjective(model, psi0, dephasing(0.0), objective=objective)
        closed = ClosedObjective(model, psi0, objective=objective)
        got = open_.value_and_gradient(values, durations)
        exact = closed.value_and_gradient(values, durations)
        assert abs(exact[0]) > 0.05
        assert got[0] == pytest.approx(exact[0], abs=EXACT_ATOL)
        np.testing.assert_allclose(got[1], exact[1], atol=1e-6)
        np.testing.assert_allclose(got[2], exact[2], atol=1e-6)


def test_open_optimum_is_feasible_and_matches_the_qubit_reference():
    model = CentralSpinModel(1, 2, B=1.0, h=1.6, A=1.0, delta=0.5)
    psi0 = dicke_state(model, 0, 2)
    T = 1.2
    best = optimize_charging(model, psi0, T, segments=2, processes=decay(0.2), starts=0)
    assert best.gradient == "central finite differences"
    assert np.all(np.abs(best.values) <= 1.0)
    assert best.objective >= best.baseline and best.objective >= best.step
    ref = charge(
        model,
        psi0,
        [0.0, T],
        processes=decay(0.2),
        coupling=best.protocol,
        solver="bruteforce",
        e_ops={"W": Ergotropy(model)},
    )
    assert ref.e_data["W"][-1] == pytest.approx(best.objective, abs=ODE_ATOL)
    closed = optimize_charging(model, psi0, T, segments=2, starts=0)
    assert best.objective < closed.objective  # decay costs ergotropy


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"segments": 0}, "segments", id="segments<1"),
        pytest.param({"segments": 2.5}, "segments", id="segments-float"),
        pytest.param({"T": 0.0}, "T must", id="T=0"),
        pytest.param({"T": -1.0}, "T must", id="T<0"),
        pytest.param({"T": math.inf}, "T must", id="T=inf"),
        pytest.param({"bounds": (0.5, 0.2)}, "bounds", id="bounds-reversed"),
        pytest.param({"bounds": (-2.0, 1.0)}, "bounds", id="bounds-wide"),
        pytest.param({"bounds": (0.0, math.nan)}, r"bounds\[1\]", id="bounds-nan"),
        pytest.param({"bounds": 1.0}, "bounds", id="bounds-scalar"),
        pytest.param({"objective": "power"}, "objective", id="objective"),
        pytest.param({"boundaries": "moving"}, "boundaries", id="boundaries"),
        pytest.param({"battery": "cells"}, "battery", id="battery"),
        pytest.param({"starts": -1}, "starts", id="starts"),
        pytest.param({"maxiter": 0}, "maxiter", id="maxiter"),
    ],
)
def test_bad_input_names_the_parameter(kwargs, match):
    model = CentralSpinModel(1, 2)
    args = {"T": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        optimize_charging(model, dicke_state(model, 0, 2), **args)


def test_objectives_refuse_bad_protocols():
    model = CentralSpinModel(1, 2)
    f = ClosedObjective(model, dicke_state(model, 0, 2))
    with pytest.raises(ValueError, match="durations"):
        f([1.0], [0.0])
    with pytest.raises(ValueError, match="equal length"):
        f([1.0, 0.5], [0.3])
    with pytest.raises(ValueError, match="processes"):
        OpenObjective(model, dicke_state(model, 0, 2), [])


def test_qutip_qoc_grape_finds_the_same_optimum_on_a_two_level_sector():
    """N_B = 1 from |0, 2>: W = B max(0, 2p - 1) with p the fidelity to |1, 1>, which
    qutip-qoc can state. GRAPE (same M equal slots, same bounds) from two guesses; our
    optimum is at least as good as each, and the best of them equals ours (both find the
    same local optimum). Measured with qutip-qoc 0.2.0 (which needs numpy < 2)."""
    qoc = pytest.importorskip("qutip_qoc")
    from qutip_centralspin import hamiltonian

    model = CentralSpinModel(1, 2, B=1.0, h=1.6, A=1.0, delta=0.5)
    psi0, target = dicke_state(model, 0, 2), dicke_state(model, 1, 1)
    M, T = 4, 1.2
    ours = optimize_charging(model, psi0, T, segments=M)
    H0 = hamiltonian(model.replace(A=0.0, delta=0.0))
    HI = hamiltonian(model) - H0
    f = ClosedObjective(model, psi0)
    found = []
    for guess in (np.ones(M), np.array([0.3, -0.2, 0.5, 0.1])):
        res = qoc.optimize_pulses(
            qoc.Objective(psi0, [H0, HI], target),
            {"lam": {"guess": guess, "bounds": [-1, 1]}},
            np.linspace(T / M, T, M),  # M slots of T/M
            algorithm_kwargs={"alg": "GRAPE", "fid_err_targ": 1e-12, "max_iter": 500},
        )
        amps = np.asarray(res.optimized_controls[0], dtype=float).ravel()[:M]
        w = f(amps, np.full(M, T / M))
        p = (1 - res.infidelity) ** 2  # PSU infidelity: 1 - |<target|psi(T)>|
        assert w == pytest.approx(model.B * max(0.0, 2 * p - 1), abs=1e-8)
        found.append(w)
    assert ours.objective >= max(found) - 1e-9
    assert ours.objective == pytest.approx(max(found), abs=1e-6)
