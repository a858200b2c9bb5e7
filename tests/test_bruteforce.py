"""The collective (Dicke-space) model against a brute-force build on individual spins.

The battery is built on 2^N_B qubits from Pauli matrices (s_i = sigma_i / 2, S = sum_i s_i).
The charger is either built on its own N qubits too (small N) or as an (N+1)-level Dicke space
written from the paper's Eqs. (B1)-(B3) in ascending-n order -- neither uses ``qutip.jmat``
nor the package's index map.
"""

import itertools
import math

import numpy as np
import pytest
import qutip
from tolerances import EXACT_ATOL, ODE_ATOL

from qutip_centralspin import CentralSpinModel, dicke_state, hamiltonian
from qutip_centralspin.models.states import battery_dicke, charger_dicke
from qutip_centralspin.observables.energy import BatteryEnergy
from qutip_centralspin.solvers import SectorEngine

UP, DOWN = qutip.basis(2, 0), qutip.basis(2, 1)  # sigma_z UP = +UP


def qubit_collective(n_qubits):
    """(S^z, S^+, S^-) = sum_i (sigma^z_i / 2, sigma^+_i, sigma^-_i) on n qubits."""
    eye = [qutip.qeye(2)] * n_qubits

    def site(op, i):
        ops = list(eye)
        ops[i] = op
        return qutip.tensor(ops)

    sz = sum(site(qutip.sigmaz() / 2, i) for i in range(n_qubits))
    sp = sum(site(qutip.sigmap(), i) for i in range(n_qubits))
    return sz, sp, sp.dag()


def dicke_charger(N):
    """(J^z, J^+, J^-) on the (N+1)-level Dicke space, basis index = n (Eqs. B1-B3)."""
    jz = np.diag([n - N / 2 for n in range(N + 1)])
    jm = np.zeros((N + 1, N + 1))
    for n in range(1, N + 1):
        jm[n - 1, n] = math.sqrt(n * (N - n + 1))  # J^-|n> = sqrt(b_{N,n})|n-1>
    return qutip.Qobj(jz), qutip.Qobj(jm.T), qutip.Qobj(jm)


def symmetric_qubit_state(n_qubits, m):
    """Normalised sum of all n-qubit basis states with exactly m spins up."""
    terms = []
    for ups in itertools.combinations(range(n_qubits), m):
        terms.append(qutip.tensor([UP if i in ups else DOWN for i in range(n_qubits)]))
    return sum(terms).unit()


def brute_force_hamiltonian(model, charger_on_qubits):
    nb, nc = model.n_battery, model.n_charger
    sz, sp, sm = qubit_collective(nb)
    if charger_on_qubits:
        jz, jp, jm = qubit_collective(nc)
    else:
        jz, jp, jm = dicke_charger(nc)
    ib, ic = qutip.qeye(sz.dims[0]), qutip.qeye(jz.dims[0])
    Sz, Sp, Sm = (qutip.tensor(op, ic) for op in (sz, sp, sm))
    Jz, Jp, Jm = (qutip.tensor(ib, op) for op in (jz, jp, jm))
    H = model.B * Sz + model.h * Jz + model.A * (Sp * Jm + Sm * Jp) + 2 * model.delta * Sz * Jz
    return H, model.B * Sz


def charger_ket(N, n, on_qubits):
    if on_qubits:
        return symmetric_qubit_state(N, n)
    return qutip.basis(N + 1, n)


def brute_energy(model, battery_ket, charger, times, ode_options, charger_on_qubits=False):
    H, h_b = brute_force_hamiltonian(model, charger_on_qubits)
    psi0 = qutip.tensor(battery_ket, charger)
    res = qutip.sesolve(H, psi0, times, e_ops=[h_b], options=ode_options)
    return np.real(np.asarray(res.e_data[0]))


def collective_energy(model, psi0, times, ode_options):
    res = qutip.sesolve(
        hamiltonian(model), psi0, times, e_ops=[BatteryEnergy(model)], options=ode_options
    )
    return np.asarray(res.e_data[0])


CASES = [
    pytest.param(CentralSpinModel(1, 3, B=1.0, h=1.0), id="NB1-resonant"),
    pytest.param(CentralSpinModel(2, 4, B=1.2, h=0.9, A=0.7, delta=0.3), id="NB2"),
    pytest.param(CentralSpinModel(3, 2, B=0.8, h=1.1, A=1.0, delta=-0.5), id="NB3-N<NB"),
    pytest.param(CentralSpinModel(4, 5, B=1.0, h=1.0, A=1.0, delta=0.0), id="NB4-resonant"),
    pytest.param(CentralSpinModel(4, 3, B=2.0, h=0.5, A=0.6, delta=0.8), id="NB4-generic"),
]
TIMES = np.linspace(0.0, 6.0, 61)


@pytest.mark.parametrize("model", CASES)
def test_empty_battery_matches_brute_force(model, ode_options):
    nb, N = model.n_battery, model.n_charger
    for n in sorted({N, (N + 1) // 2}):
        battery = qutip.tensor([DOWN] * nb)
        brute = brute_energy(model, battery, charger_ket(N, n, False), TIMES, ode_options)
        collective = collective_energy(model, dicke_state(model, 0, n), TIMES, ode_options)
        np.testing.assert_allclose(collective, brute, rtol=0, atol=ODE_ATOL)
        assert np.ptp(brute) > 0.1  # there is a signal to compare


@pytest.mark.parametrize("model", CASES)
def test_symmetric_dicke_battery_matches_brute_force(model, ode_options):
    nb, N = model.n_battery, model.n_charger
    n = N // 2
    for m in range(1, nb + 1):
        battery = symmetric_qubit_state(nb, m)
        # the qubit construction is the package's battery Dicke state |m>
        sz = qubit_collective(nb)[0]
        assert qutip.expect(sz, battery) == pytest.approx(m - nb / 2, abs=EXACT_ATOL)
        brute = brute_energy(model, battery, charger_ket(N, n, False), TIMES, ode_options)
        collective = collective_energy(model, dicke_state(model, m, n), TIMES, ode_options)
        np.testing.assert_allclose(collective, brute, rtol=0, atol=ODE_ATOL)


@pytest.mark.parametrize("model", CASES)
def test_battery_superposition_matches_brute_force(model, ode_options, rng):
    """Relative signs of the Dicke states matter here: S^+ must have positive amplitudes."""
    nb, N = model.n_battery, model.n_charger
    amps = rng.normal(size=nb + 1) + 1j * rng.normal(size=nb + 1)
    qubits = sum(a * symmetric_qubit_state(nb, m) for m, a in enumerate(amps)).unit()
    collective_b = sum(a * battery_dicke(model, m) for m, a in enumerate(amps)).unit()
    n = (N + 1) // 2
    brute = brute_energy(model, qubits, charger_ket(N, n, False), TIMES, ode_options)
    psi0 = qutip.tensor(collective_b, charger_dicke(model, n))
    collective = collective_energy(model, psi0, TIMES, ode_options)
    np.testing.assert_allclose(collective, brute, rtol=0, atol=ODE_ATOL)
    exact = SectorEngine(model).evolve(psi0).battery_energy(TIMES)
    np.testing.assert_allclose(exact, brute, rtol=0, atol=ODE_ATOL)


@pytest.mark.parametrize(
    "model",
    [
        pytest.param(CentralSpinModel(2, 3, B=1.1, h=0.8, A=0.9, delta=0.4), id="NB2-N3"),
        pytest.param(CentralSpinModel(3, 4, B=1.0, h=1.0, A=1.0, delta=0.0), id="NB3-N4"),
    ],
)
def test_all_spins_on_qubits(model, ode_options):
    """Both battery and charger as individual qubits (2^(N_B + N) states)."""
    nb, N = model.n_battery, model.n_charger
    m, n = 1, N - 1
    brute = brute_energy(
        model,
        symmetric_qubit_state(nb, m),
        charger_ket(N, n, True),
        TIMES,
        ode_options,
        charger_on_qubits=True,
    )
    collective = collective_energy(model, dicke_state(model, m, n), TIMES, ode_options)
    np.testing.assert_allclose(collective, brute, rtol=0, atol=ODE_ATOL)
    exact = SectorEngine(model).evolve((m, n)).battery_energy(TIMES)
    np.testing.assert_allclose(exact, brute, rtol=0, atol=ODE_ATOL)


@pytest.mark.parametrize("model", CASES)
def test_spectrum_equals_symmetric_block_of_brute_force(model):
    """The collective H is the restriction of the brute-force H to the symmetric battery space."""
    nb, N = model.n_battery, model.n_charger
    H, _ = brute_force_hamiltonian(model, charger_on_qubits=False)
    # isometry: collective |m, n> -> symmetric qubits (x) charger |n>
    columns = []
    for m in range(nb, -1, -1):  # jmat order of the package: m = N_B first
        for n in range(N, -1, -1):
            columns.append(
                qutip.tensor(symmetric_qubit_state(nb, m), qutip.basis(N + 1, n)).full().ravel()
            )
    V = np.array(columns).T
    restricted = V.conj().T @ H.full() @ V
    np.testing.assert_allclose(hamiltonian(model).full(), restricted, rtol=0, atol=EXACT_ATOL)
