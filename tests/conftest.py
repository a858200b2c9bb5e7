"""Shared fixtures of the qutip_centralspin test suite.

Helpers that hypothesis tests need are session-scoped fixtures returning plain functions, so
that ``@given`` tests can use them (hypothesis refuses function-scoped fixtures).
"""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import qutip  # noqa: E402
from tolerances import ODE_OPTIONS  # noqa: E402

from qutip_centralspin import CentralSpinModel, dicke_state  # noqa: E402

#: The four panels of Fig. 2: (B, h, Delta), with A = 1, N_B = 1, N = 10, n = 5.
FIG2_PANELS = {
    "a-resonant": (1.0, 1.0, 0.0),
    "b-ising": (1.0, 1.0, 5.0),
    "c-detuned": (5.0, 1.0, 0.0),
    "d-detuned-ising": (5.0, 1.0, 5.0),
}


@pytest.fixture(params=list(FIG2_PANELS.values()), ids=list(FIG2_PANELS))
def fig2_model(request):
    """One of the four models of Fig. 2 (N_B = 1, N = 10, A = 1)."""
    B, h, delta = request.param
    return CentralSpinModel(n_battery=1, n_charger=10, B=B, h=h, A=1.0, delta=delta)


@pytest.fixture
def ode_options():
    """A fresh copy of the reference ODE options (atol 1e-12, rtol 1e-10)."""
    return dict(ODE_OPTIONS)


@pytest.fixture
def rng():
    """Seeded generator: every run draws the same 'random' states."""
    return np.random.default_rng(20210520)


def _random_ket(model, labels, rng):
    """Normalised ket sum_{(m,n) in labels} c_mn |m,n> with complex Gaussian c_mn."""
    amps = rng.normal(size=len(labels)) + 1j * rng.normal(size=len(labels))
    ket = sum(a * dicke_state(model, m, n) for a, (m, n) in zip(amps, labels, strict=True))
    return ket.unit()


def _random_dm(model, labels, rng, rank=3):
    """Mixed state: convex mixture of ``rank`` random superpositions over ``labels``."""
    weights = rng.uniform(0.2, 1.0, size=rank)
    weights /= weights.sum()
    return sum(w * _random_ket(model, labels, rng).proj() for w in weights)


def _spin_ops(model):
    """(Sz, S+, S-, Jz, J+, J-) rebuilt here from ``qutip.jmat`` (not via the package)."""
    jb, jc = model.n_battery / 2, model.n_charger / 2
    ib, ic = qutip.qeye(model.n_battery + 1), qutip.qeye(model.n_charger + 1)
    battery = [qutip.tensor(qutip.jmat(jb, k), ic) for k in ("z", "+", "-")]
    charger = [qutip.tensor(ib, qutip.jmat(jc, k)) for k in ("z", "+", "-")]
    return (*battery, *charger)


def _hamiltonian(model):
    """H = B Sz + h Jz + A (S+ J- + S- J+) + 2 Delta Sz Jz, Eqs. (4)-(6), built independently."""
    Sz, Sp, Sm, Jz, Jp, Jm = _spin_ops(model)
    return model.B * Sz + model.h * Jz + model.A * (Sp * Jm + Sm * Jp) + 2 * model.delta * Sz * Jz


def _battery_energy_op(model):
    """H_B = B Sz, built independently."""
    return model.B * _spin_ops(model)[0]


def _reference(model, psi0, tlist, e_ops=None, c_ops=None):
    """Full-space QuTiP reference run (``sesolve`` for kets without c_ops, else ``mesolve``)."""
    H = _hamiltonian(model)
    if psi0.isket and not c_ops:
        return qutip.sesolve(H, psi0, tlist, e_ops=e_ops, options=dict(ODE_OPTIONS))
    return qutip.mesolve(
        H, psi0, tlist, c_ops=list(c_ops or []), e_ops=e_ops, options=dict(ODE_OPTIONS)
    )


def _reference_delta_energy(model, psi0, tlist, c_ops=None):
    """Delta E_B(t) from a plain QuTiP run with the Qobj H_B = B S^z as e_op."""
    h_b = _battery_energy_op(model)
    res = _reference(model, psi0, tlist, e_ops=[h_b], c_ops=c_ops)
    e_b = np.real(np.asarray(res.e_data[0]))
    e_b0 = np.real(qutip.expect(h_b, psi0))
    return e_b - e_b0


@pytest.fixture(scope="session")
def random_ket():
    """``random_ket(model, labels, rng)``: random normalised superposition of Dicke labels."""
    return _random_ket


@pytest.fixture(scope="session")
def random_dm():
    """``random_dm(model, labels, rng, rank=3)``: random mixture over Dicke labels."""
    return _random_dm


@pytest.fixture(scope="session")
def reference():
    """``reference(model, psi0, tlist, e_ops=None, c_ops=None)``: plain QuTiP run."""
    return _reference


@pytest.fixture(scope="session")
def reference_delta_energy():
    """``reference_delta_energy(model, psi0, tlist, c_ops=None)``: Delta E_B from QuTiP."""
    return _reference_delta_energy


@pytest.fixture(scope="session")
def independent_hamiltonian():
    """``independent_hamiltonian(model)``: H of Eqs. (4)-(6) rebuilt from ``qutip.jmat``."""
    return _hamiltonian


@pytest.fixture(scope="session")
def independent_battery_energy_op():
    """``independent_battery_energy_op(model)``: H_B = B S^z rebuilt from ``qutip.jmat``."""
    return _battery_energy_op
