r"""Truncated Wigner approximation (TWA) for the open battery at large :math:`N_B`, :math:`N`.

An *estimate* with a statistical error bar, not an exact path: use it where the exact solvers
(:mod:`~qutip_centralspin.solvers.sector`, :mod:`~qutip_centralspin.solvers.blocks`) do not
reach, and only for the first charge (see *Accuracy* below).

Classical equations
-------------------
The battery and the charger are two classical collective spins :math:`\mathbf S`,
:math:`\mathbf J`. :math:`H` is bilinear in them, so its Weyl symbol is the classical
:math:`H = B S_z + h J_z + 2A(S_xJ_x + S_yJ_y) + 2\Delta S_zJ_z` and the Hamiltonian flow is
exact precession,

.. math::

    \dot{\mathbf S} = \boldsymbol\Omega_S\times\mathbf S,\quad
    \boldsymbol\Omega_S = (2AJ_x, 2AJ_y, B + 2\Delta J_z), \qquad
    \dot{\mathbf J} = \boldsymbol\Omega_J\times\mathbf J,\quad
    \boldsymbol\Omega_J = (2AS_x, 2AS_y, h + 2\Delta S_z).

Initial states (Wigner sampling)
--------------------------------
* Dicke :math:`|m\rangle` of a group of :math:`N_t` spins (:math:`j = N_t/2`,
  :math:`m_z = m - j`): :math:`X_z = m_z` fixed and
  :math:`X_x^2 + X_y^2 = j(j+1) - m_z^2` on average, as in the Dicke state. Polarised
  (:math:`m = 0, N_t`, spin-coherent): :math:`X_x, X_y` independent Gaussians of variance
  :math:`j/2` (the sum of :math:`N_t` independent spin-1/2 Wigner samples). Otherwise on the
  ring :math:`X_x + iX_y = \sqrt{j(j+1) - m_z^2}\,e^{i\varphi}`, :math:`\varphi` uniform,
  where the Dicke state's Wigner function is concentrated. Measured (4000 trajectories,
  closed, :math:`N_B = N = 16`, start :math:`|0, 8\rangle`): :math:`P_{max}` off by -15 % with
  Gaussian transverse components, -0.1 % on the ring.
* Cavity Fock :math:`|k\rangle` (:class:`~qutip_centralspin.models.cavity.CavityModel`): the ring
  :math:`\alpha = \sqrt{k + 1/2}\,e^{i\varphi}`; the vacuum :math:`k = 0`: Gaussian
  quadratures of variance 1/4 (its exact Wigner function).
* Spin-coherent charger :math:`|\theta,\phi\rangle` (:class:`SpinCoherentLabel`): mean
  :math:`j(\sin\theta\cos\phi, \sin\theta\sin\phi, \cos\theta)`, Gaussian fluctuations of
  variance :math:`j/2` along the two directions perpendicular to it.

Local processes: drift and noise (derivation)
---------------------------------------------
A group :math:`\mathbf X = \sum_{i=1}^{N_t}\mathbf x_i` (:math:`\mathbf x_i =
\boldsymbol\sigma_i/2`) under one local Lindblad operator per spin,
:math:`L_i = \sqrt\gamma\,o_i` (:mod:`qutip_centralspin.models.processes`; :math:`\sigma^z=\pm1`).
The adjoint dissipator of one spin is *linear* in its components,
:math:`\mathcal D_i^\dagger(x_i^a) = \gamma(M x_i + c)_a`, with

=========  ======================================  =======================
kind       :math:`M`                               :math:`c`
=========  ======================================  =======================
dephasing  :math:`\mathrm{diag}(-2, -2, 0)`         :math:`0`
decay      :math:`\mathrm{diag}(-1/2, -1/2, -1)`    :math:`(0, 0, -1/2)`
pumping    :math:`\mathrm{diag}(-1/2, -1/2, -1)`    :math:`(0, 0, +1/2)`
=========  ======================================  =======================

so the collective means obey :math:`\dot{\langle\mathbf X\rangle} = \gamma(M\langle\mathbf
X\rangle + N_t c)` exactly: this is the drift. For the symmetrised second moments split
:math:`\{X_a, X_b\}/2` into :math:`i\ne j` pairs, which follow the same linear drift (the
dissipator of spin *k* acts on the factor of spin *k* only), and the :math:`i = j` terms
:math:`\sum_i\{x_i^a, x_i^b\}/2 = \delta_{ab}N_t/4`, which are constant for spin 1/2. Hence

.. math::

    \frac{d}{dt}\langle X_aX_b\rangle_{\rm sym} =
    \langle (\gamma(M\mathbf X + N_tc))_a X_b + X_a(\gamma(M\mathbf X + N_tc))_b\rangle_{\rm sym}
    + \langle D_{ab}\rangle,
    \qquad
    D_{ab} = -\gamma\Big[\frac{N_t}{4}(M_{ab} + M_{ba}) + c_aX_b + c_bX_a\Big],

and the Itô equation :math:`d\mathbf X = \gamma(M\mathbf X + N_tc)\,dt + G\,d\mathbf W` with
:math:`GG^T = D` reproduces the first *and* second moment equations of the local master
equation exactly; higher moments are truncated (the TWA). Summed over processes of one group
(rates :math:`\gamma_\phi, \gamma_\downarrow, \gamma_\uparrow`):

.. math::

    D_{xx} = D_{yy} = a = N_t\big(\gamma_\phi + \tfrac14(\gamma_\downarrow + \gamma_\uparrow)\big),
    \quad D_{zz} = b = \tfrac{N_t}{2}(\gamma_\downarrow + \gamma_\uparrow)
    + (\gamma_\downarrow - \gamma_\uparrow)X_z,
    \quad D_{xz} = kX_x,\ D_{yz} = kX_y,\ k = \tfrac12(\gamma_\downarrow - \gamma_\uparrow).

:math:`G` is its Cholesky factor, :math:`G_{zz} = \sqrt{\max(0, b - k^2(X_x^2+X_y^2)/a)}`;
:math:`D \ge 0` whenever :math:`|\mathbf X| \le N_t/2`, and the clip at 0 only acts on the
rare samples outside the Bloch ball near the poles. The dephasing noise alone is the familiar
random phase: :math:`d\phi_i = 2\sqrt\gamma\,dW_i` on every spin, summed. Unlike the
Hamiltonian flow, this noise changes the spin length :math:`|\mathbf X|` (local processes leave
the symmetric space), which is why no extra equation for the length is needed: the
:math:`i = j` moments are fixed by :math:`(\sigma^a)^2 = 1`. This is the collective-variable
form of the local-process TWA of Huber, Kirton & Rabl, SciPost Phys. **10**, 045 (2021) and of
the DTWA with dissipation of Mink, Petrosyan & Fleischhauer, arXiv:2203.17120, closed at
second order in the two groups' collective moments.

Cavity charger
--------------
:math:`H = BS_z + \omega|\alpha|^2 + g(S^+\alpha + S^-\alpha^*)`:
:math:`\dot{\mathbf S} = (2g\,{\rm Re}\,\alpha, -2g\,{\rm Im}\,\alpha, B)\times\mathbf S`,
:math:`\dot\alpha = -i(\omega\alpha + gS^-)`. Cavity loss :math:`\sqrt\kappa\,a`
(``cavity_loss(kappa)``, a collective charger decay): :math:`d\alpha = -\tfrac\kappa2\alpha\,dt
+ \tfrac{\sqrt\kappa}{2}(dW_1 + i\,dW_2)` (the Wigner noise keeps the vacuum's
:math:`\langle|\alpha|^2\rangle = 1/2`); photon dephasing :math:`\sqrt\gamma\,a^\dagger a`
(collective charger dephasing): a random phase :math:`d\varphi = \sqrt\gamma\,dW`.

Collective processes
--------------------
Collective dephasing :math:`L = \sqrt\gamma X_z` is a random rotation about :math:`z` by an
angle :math:`d\phi = \sqrt\gamma\,dW` (Stratonovich), applied exactly each step.

Collective decay :math:`L = \sqrt\gamma X^-`: the adjoint dissipator gives the drift from the
symmetrised first moments, :math:`\mathcal D^\dagger(X_z) = -\gamma X^+X^- =
-\gamma(X_x^2 + X_y^2 + X_z)` and :math:`\mathcal D^\dagger(X^+) = \gamma X^+X_z =
\gamma(\{X^+, X_z\}/2 - X^+/2)`, i.e.
:math:`A = \gamma(X_zX_x - X_x/2,\ X_zX_y - X_y/2,\ -(X_x^2 + X_y^2) - X_z)`; the diffusion
from the identity :math:`\mathcal D^\dagger(PQ) = \mathcal D^\dagger(P)Q + P\mathcal
D^\dagger(Q) + \gamma[X^+, P][Q, X^-]`, whose symbol for :math:`P, Q \in \{X_a\}` at leading
order is :math:`D = \gamma\,{\rm Re}(uu^\dagger)`, :math:`u = ([X^+, X_a])_a = (X_z, iX_z,
-X^+)`: :math:`D = \gamma(ww^T + w'w'^T)`, :math:`w = (X_z, 0, -X_x)`,
:math:`w' = (0, X_z, -X_y)`, positive semi-definite (two real noises, no clipping). Collective
pumping :math:`\sqrt\gamma X^+` is its mirror image under the rotation by :math:`\pi` about
:math:`x` (:math:`X^- \leftrightarrow X^+`): :math:`A = \gamma(-X_zX_x - X_x/2,\ -X_zX_y -
X_y/2,\ X_x^2 + X_y^2 - X_z)`, :math:`w = (-X_z, 0, X_x)`, :math:`w' = (0, X_z, -X_y)`. Unlike
the local terms these are a truncation (the third-order terms of the Wigner evolution are
dropped), the TWA of superradiance.

Integration and statistics
--------------------------
Each step of length :math:`\le` ``dt`` (default :math:`0.05/\omega`, :math:`\omega` the
largest precession frequency plus the total rate; the steps land on ``tlist``) applies the
deterministic drift by classical Runge-Kutta 4, then the noise (Euler-Maruyama at the step's
start, Itô), then the dephasing rotations: weak order 1 in the noise. Measured, ``dt/4``
against the default: closed, P_max changed by 1e-8 relative (N_B = N = 4); with strong local or
collective processes by less than one standard error (at most 0.6 %, 4000 trajectories). The
trajectories run in batches of ``batch_size``, each batch from its own child of one
``numpy.random.SeedSequence`` (results do not depend on the ``map``), vectorised over the
batch with numpy; the batches go through a QuTiP map function (``qutip.serial_map`` by default,
``qutip.parallel_map``, ``qutip.loky_pmap``, ``qutip.mpi_pmap``).

:math:`E_B(t) = B\langle S_z\rangle` is the trajectory mean; ``stats["standard error"]`` holds
the standard error of the mean of ``delta_energy`` and ``power`` on ``times``. The initial rate
:math:`\dot E_B(t_0)` is exact (the Hamiltonian part vanishes on a Dicke battery, the local
drift is linear).

Accuracy
--------
Measured against the exact solvers (``benchmarks/twa_validation.py``, the table in
``docs/twa_accuracy.md``; earlier ``benchmarks/bench_twa.py``, ``benchmarks/README.md``), from
:math:`|0, N\rangle`: TWA is validated for the *first* charge (up to the first maximum of
:math:`\Delta E_B`); its error falls with :math:`N`, about equally for every process kind,
target, scope and rate measured (0.01-1; 3-10 in ``bench_twa.py``): over all of them at most
11 % at :math:`N_B = N = 4`, 5.3 % at 8, 2.4 % at 16, 1.4 % at 32, 1.1 % at 48 (closed:
P_max -5 %, -2.4 %, -1.1 %, -0.4 %, -0.2 %; the first maximum :math:`E_1` about twice that);
with :math:`N_B \ll N` the battery's size sets it (:math:`N_B = 4`, :math:`N = 48`: 3.8 %).
Past the first charge the error grows to 12-27 % of :math:`E_1`. The cavity charger
(``--cavity``: :math:`g = 1/\sqrt k`, resonant, from :math:`|0, k = N_B\rangle`, closed and
battery decay, battery dephasing, cavity loss 0.01-0.1): at most 2.9 % at :math:`N_B = k = 4`,
1.0 % at 8, 0.4 % at 16, 0.15 % at 32; past the first charge 4-14 %. :func:`twa_charge` warns
(:mod:`~qutip_centralspin.solvers.twa_accuracy`) with the measured error, for either charger,
at sizes where it exceeds 2 % and past the first charge. From the empty battery and the cavity vacuum, where
nothing happens exactly, the vacuum fluctuations of the Wigner samples charge the battery
spuriously (a known TWA artefact).

One module because the sampling of each state's Wigner distribution, the drift and noise of
every process and the integrator share the phase-space variables and their conventions; the
derivation above is one argument.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass

import numpy as np
import qutip

from .. import _checks
from ..models.cavity import CavityModel
from ..models.operators import check_model
from ..models.processes import as_processes
from ..models.spin import CentralSpinModel
from ..results import ChargingResult
from . import twa_accuracy

__all__ = ["twa_charge", "SpinCoherentLabel", "OPTIONS", "FIRST_CHARGE_MARGIN"]

#: Options of :func:`twa_charge`: the largest time step ``dt``, the trajectories per map task
#: ``batch_size`` (default 250), ``num_cpus`` for the parallel maps, and QuTiP's progress bar.
OPTIONS = ("dt", "batch_size", "num_cpus", "progress_bar", "progress_kwargs")
#: Largest photon number of a cavity Fock label.
MAX_PHOTONS = 10**12
#: Default trajectories per batch (one task of the map).
BATCH_SIZE = 250
#: A window longer than this multiple of the first charge's time warns (module notes).
FIRST_CHARGE_MARGIN = 1.5
#: Default step: this fraction of the inverse of the fastest rate.
STEP_FRACTION = 0.05


@dataclass(frozen=True)
class SpinCoherentLabel:
    r"""Battery Dicke state :math:`|m\rangle_B`, charger spin-coherent :math:`|\theta,\phi\rangle`.

    The label of :func:`~qutip_centralspin.models.states.spin_coherent_charger` (``theta = 0``: all
    charger spins up), for :func:`twa_charge`, which never builds the state.
    """

    theta: float
    phi: float = 0.0
    m: int = 0

    def __post_init__(self):
        theta = _checks.finite_real("theta", self.theta)
        if not 0 <= theta <= math.pi:
            raise ValueError(f"theta must be in [0, pi], got {theta!r}")
        object.__setattr__(self, "theta", theta)
        object.__setattr__(self, "phi", _checks.finite_real("phi", self.phi))


@dataclass(frozen=True)
class _Group:
    """Dissipation of one group: local rates, collective dephasing, decay and pumping."""

    size: int
    dephasing: float = 0.0
    decay: float = 0.0
    pumping: float = 0.0
    collective_dephasing: float = 0.0
    collective_decay: float = 0.0
    collective_pumping: float = 0.0

    @property
    def local(self) -> bool:
        return self.dephasing + self.decay + self.pumping > 0

    @property
    def noisy(self) -> bool:
        return self.local or self.collective_decay + self.collective_pumping > 0

    @property
    def total_rate(self) -> float:
        return (
            self.dephasing
            + self.decay
            + self.pumping
            + self.collective_dephasing
            + self.size * (self.collective_decay + self.collective_pumping)
        )

    def drift(self, x: np.ndarray) -> np.ndarray:
        """Drift on a (3, ntraj) array: local gamma (M X + N_t c), collective decay/pumping."""
        down, up = self.decay, self.pumping
        transverse = -(2 * self.dephasing + 0.5 * (down + up))
        out = np.empty_like(x)
        out[0] = transverse * x[0]
        out[1] = transverse * x[1]
        out[2] = -(down + up) * x[2] + 0.5 * self.size * (up - down)
        cdown, cup = self.collective_decay, self.collective_pumping
        if cdown or cup:
            square = x[0] ** 2 + x[1] ** 2
            gain = (cdown - cup) * x[2] - 0.5 * (cdown + cup)
            out[0] += gain * x[0]
            out[1] += gain * x[1]
            out[2] += (cup - cdown) * square - (cdown + cup) * x[2]
        return out

    def noise(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """G xi with G G^T the diffusion D(X) (module notes); draws its own normals."""
        out = np.zeros_like(x)
        if self.local:
            xi = rng.standard_normal(x.shape)
            down, up, n = self.decay, self.pumping, self.size
            a = n * (self.dephasing + 0.25 * (down + up))
            k = 0.5 * (down - up)
            b = 0.5 * n * (down + up) + (down - up) * x[2]
            root = math.sqrt(a)
            gz = np.sqrt(np.maximum(b - k * k * (x[0] ** 2 + x[1] ** 2) / a, 0.0))
            out[0] = root * xi[0]
            out[1] = root * xi[1]
            out[2] = (k / root) * (x[0] * xi[0] + x[1] * xi[1]) + gz * xi[2]
        for rate, sign in ((self.collective_decay, 1.0), (self.collective_pumping, -1.0)):
            if rate:
                # D = rate (w w^T + w' w'^T), w = (X_z, 0, -X_x), w' = (0, X_z, -X_y); pumping:
                # X_z -> -X_z
                xi = math.sqrt(rate) * rng.standard_normal((2, x.shape[1]))
                z = sign * x[2]
                out[0] += z * xi[0]
                out[1] += z * xi[1]
                out[2] -= sign * (x[0] * xi[0] + x[1] * xi[1])
        return out


@dataclass(frozen=True)
class _Mode:
    """Dissipation of the cavity mode: loss sqrt(kappa) a and dephasing sqrt(gamma) a^dag a."""

    loss: float = 0.0
    collective_dephasing: float = 0.0

    @property
    def noisy(self) -> bool:
        return self.loss > 0

    @property
    def total_rate(self) -> float:
        return self.loss + self.collective_dephasing

    def drift(self, x: np.ndarray) -> np.ndarray:
        return -0.5 * self.loss * x

    def noise(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return 0.5 * math.sqrt(self.loss) * rng.standard_normal(x.shape)


def _groups(model, processes) -> tuple[_Group, _Group | _Mode]:
    cavity = isinstance(model, CavityModel)
    rates = {"battery": {}, "charger": {}}
    for p in as_processes(processes):
        if p.rate == 0:
            continue
        if cavity and p.target == "charger":
            if p.is_local or p.kind == "pumping":
                raise ValueError(
                    "processes on a cavity charger must be cavity loss (collective decay) or "
                    f"photon dephasing (collective dephasing), got {p.scope} {p.kind}"
                )
            name = "loss" if p.kind == "decay" else "collective_dephasing"
            rates["charger"][name] = p.rate
            continue
        name = p.kind if p.is_local else f"collective_{p.kind}"
        rates[p.target][name] = rates[p.target].get(name, 0.0) + p.rate
    battery = _Group(model.n_battery, **rates["battery"])
    if cavity:
        return battery, _Mode(**rates["charger"])
    return battery, _Group(model.n_charger, **rates["charger"])


def _initial_label(model: CentralSpinModel, state):
    cavity = isinstance(model, CavityModel)
    if isinstance(state, SpinCoherentLabel) and not cavity:
        _checks.int_in_range("state.m", state.m, 0, model.n_battery)
        return state
    if isinstance(state, qutip.Qobj) or not isinstance(state, (tuple, list)) or len(state) != 2:
        expected = (
            "a Fock label (m, k) with 0 <= m <= N_B, k >= 0 photons"
            if cavity
            else "a Dicke label (m, n) with 0 <= m <= N_B, 0 <= n <= N, or a SpinCoherentLabel"
        )
        raise ValueError(f"state must be {expected}, got {type(state).__name__}")
    m = _checks.int_in_range("m", state[0], 0, model.n_battery)
    if cavity:
        return (m, _checks.int_in_range("k", state[1], 0, MAX_PHOTONS))
    n = _checks.int_in_range("n", state[1], 0, model.n_charger)
    return (m, n)


def _sample(model: CentralSpinModel, label, rng: np.random.Generator, ntraj: int):
    """Wigner samples (S, J), each (3, ntraj)."""

    def transverse(square: float, polarised: bool) -> np.ndarray:
        """Two components of mean square ``square``: Gaussian, or on a ring."""
        if polarised:
            return math.sqrt(square / 2) * rng.standard_normal((2, ntraj))
        phase = rng.uniform(0, 2 * math.pi, ntraj)
        return math.sqrt(square) * np.stack((np.cos(phase), np.sin(phase)))

    def dicke(size: int, flipped: int) -> np.ndarray:
        j = size / 2
        mz = flipped - j
        x = np.empty((3, ntraj))
        x[:2] = transverse(j * (j + 1) - mz * mz, flipped in (0, size))
        x[2] = mz
        return x

    if isinstance(label, SpinCoherentLabel):
        s = dicke(model.n_battery, label.m)
        j = model.n_charger / 2
        st, ct = math.sin(label.theta), math.cos(label.theta)
        sp, cp = math.sin(label.phi), math.cos(label.phi)
        axis = np.array([st * cp, st * sp, ct])
        e1 = np.array([ct * cp, ct * sp, -st])
        e2 = np.array([-sp, cp, 0.0])
        u = math.sqrt(j / 2) * rng.standard_normal((2, ntraj))
        c = j * axis[:, None] + e1[:, None] * u[0] + e2[:, None] * u[1]
        return s, c
    m, n = label
    if isinstance(model, CavityModel):
        return dicke(model.n_battery, m), transverse(n + 0.5, n == 0)
    return dicke(model.n_battery, m), dicke(model.n_charger, n)


def _cross(w, x) -> np.ndarray:
    return np.stack(
        (w[1] * x[2] - w[2] * x[1], w[2] * x[0] - w[0] * x[2], w[0] * x[1] - w[1] * x[0])
    )


def _rhs(model, battery: _Group, charger: _Group | _Mode, s, c):
    if isinstance(model, CavityModel):
        g = model.g
        ds = _cross((2 * g * c[0], -2 * g * c[1], model.B), s)
        dc = np.stack((model.omega * c[1] - g * s[1], -model.omega * c[0] - g * s[0]))
    else:
        two_a, two_d = 2 * model.A, 2 * model.delta
        ds = _cross((two_a * c[0], two_a * c[1], model.B + two_d * c[2]), s)
        dc = _cross((two_a * s[0], two_a * s[1], model.h + two_d * s[2]), c)
    if battery.total_rate:
        ds += battery.drift(s)
    if charger.total_rate:
        dc += charger.drift(c)
    return ds, dc


def _rotate_z(x: np.ndarray, angle: np.ndarray) -> None:
    cos, sin = np.cos(angle), np.sin(angle)
    x0 = x[0].copy()
    x[0] = cos * x0 - sin * x[1]
    x[1] = sin * x0 + cos * x[1]


def _step(model, battery, charger, s, c, dt, rng):
    """One step: RK4 drift, Euler-Maruyama noise (Itô), exact dephasing rotations."""
    k1 = _rhs(model, battery, charger, s, c)
    k2 = _rhs(model, battery, charger, s + 0.5 * dt * k1[0], c + 0.5 * dt * k1[1])
    k3 = _rhs(model, battery, charger, s + 0.5 * dt * k2[0], c + 0.5 * dt * k2[1])
    k4 = _rhs(model, battery, charger, s + dt * k3[0], c + dt * k3[1])
    ds = (dt / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
    dc = (dt / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    root = math.sqrt(dt)
    for group, x, dx in ((battery, s, ds), (charger, c, dc)):
        if group.noisy:
            dx += root * group.noise(x, rng)
    s += ds
    c += dc
    for group, x in ((battery, s), (charger, c)):
        if group.collective_dephasing:
            angle = math.sqrt(group.collective_dephasing * dt) * rng.standard_normal(x.shape[1])
            _rotate_z(x, angle)


def _batch(task, model, label, battery, charger, times, dt_max):
    """One map task ``(seed, ntraj)``: sum and sum of squares of :math:`S_z(t) - S_z(t_0)`."""
    seed, ntraj = task
    rng = np.random.default_rng(seed)
    s, c = _sample(model, label, rng, ntraj)
    sz0 = s[2].copy()
    total = np.zeros(times.size)
    squares = np.zeros(times.size)
    for i in range(1, times.size):
        span = times[i] - times[i - 1]
        steps = max(1, math.ceil(span / dt_max - 1e-9))
        dt = span / steps
        for _ in range(steps):
            _step(model, battery, charger, s, c, dt, rng)
        d = s[2] - sz0
        total[i] = d.sum()
        squares[i] = (d * d).sum()
    return total, squares


def _first_charge(times, delta, error) -> float | None:
    """Time of the first maximum of Delta E_B: the first sample above half the largest value
    after which Delta E_B falls by more than 5 standard errors and 2 % (``None``: none)."""
    high = 0.5 * delta.max()
    if high <= 0:
        return None
    for i in range(1, times.size - 1):
        if delta[i] < high or delta[i] < delta[i - 1] or delta[i] < delta[i + 1]:
            continue
        drop = delta[i] - delta[i + 1 :]
        if np.any(drop > np.maximum(5 * error[i + 1 :], 0.02 * delta[i])):
            return float(times[i])
    return None


def _seed_sequence(seed) -> np.random.SeedSequence:
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(2**63)))
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ValueError(
            "seed must be None, an integer >= 0, a numpy SeedSequence or a numpy Generator, "
            f"got {seed!r}"
        )
    return np.random.SeedSequence(seed)


def _fastest_rate(model, label, battery: _Group, charger: _Group | _Mode) -> float:
    rates = 4 * (battery.total_rate + charger.total_rate)
    if isinstance(model, CavityModel):
        amplitude = math.sqrt(label[1] + model.n_battery + 1)
        return abs(model.B) + abs(model.omega) + 2 * abs(model.g) * amplitude + rates
    coupling = 2 * (abs(model.A) + abs(model.delta))
    jb, jc = model.n_battery / 2 + 1, model.n_charger / 2 + 1
    precession = max(abs(model.B) + coupling * jc, abs(model.h) + coupling * jb)
    return precession + rates


def twa_charge(
    model: CentralSpinModel,
    state,
    tlist,
    processes=(),
    *,
    ntraj: int = 1000,
    seed=None,
    map=None,
    options: dict | None = None,
) -> ChargingResult:
    r"""Charge by the truncated Wigner approximation: :math:`\Delta E_B`, :math:`P_B` with error bars.

    Samples ``ntraj`` classical trajectories of the collective spins from the Wigner
    distribution of ``state``, evolves them by the classical equations of :math:`H` with the
    drift and noise of the local ``processes`` (module notes) and averages
    :math:`E_B = B\langle S_z\rangle`. An estimate, validated for the first charge only.

    Parameters
    ----------
    model : CentralSpinModel or CavityModel
    state : tuple of int or SpinCoherentLabel
        The Dicke label ``(m, n)`` of :math:`|m, n\rangle` (``m`` flipped battery spins,
        ``n`` flipped charger spins), or a battery Dicke state with a spin-coherent charger;
        for a :class:`~qutip_centralspin.models.cavity.CavityModel` the Fock label ``(m, k)``
        (``k`` photons).
    tlist : array_like
        Increasing times; ``tlist[0]`` is the time of ``state``.
    processes : Process or list of Process
        Local or collective dephasing, decay, pumping on either group; on a
        cavity charger, cavity loss (``cavity_loss(kappa)``) and photon dephasing
        (collective dephasing of the charger).
    ntraj : int, default 1000
        Number of trajectories, ``>= 2``.
    seed : None, int, numpy SeedSequence or numpy Generator
        Seeds the trajectories reproducibly (a ``Generator`` is advanced once).
    map : callable, default ``qutip.serial_map``
        A QuTiP map function (``qutip.parallel_map``, ``qutip.loky_pmap``,
        ``qutip.mpi_pmap``); one task per batch of trajectories.
    options : dict
        ``"dt"`` (largest step), ``"batch_size"``, ``"num_cpus"``, ``"progress_bar"``,
        ``"progress_kwargs"``.

    Returns
    -------
    ChargingResult
        ``solver="twa"``; ``stats["standard error"]`` holds the standard error of the mean of
        ``"delta_energy"`` and ``"power"`` on ``times``; ``stats["method"]`` says it is an
        estimate; ``stats["first charge"]`` is the time of the first maximum of
        :math:`\Delta E_B` (``None`` if not resolved in ``tlist``); ``stats["accuracy"]`` the
        measured error where the size is outside the validated region.

    Raises
    ------
    ValueError
        Naming the argument, its allowed range and the value received.

    Warns
    -----
    TWAAccuracyWarning
        (a ``UserWarning``, :mod:`~qutip_centralspin.solvers.twa_accuracy`) if ``tlist`` runs
        past :data:`FIRST_CHARGE_MARGIN` times the first charge, where the TWA is not
        validated, or if the size is one where its measured first-charge error exceeds 2 %
        (both with the measured error; ``stats["accuracy"]`` says the latter too).

    Examples
    --------
    >>> import numpy as np
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.models.processes import dephasing
    >>> from qutip_centralspin.solvers.twa import twa_charge
    >>> model = CentralSpinModel(100, 100)
    >>> result = twa_charge(model, (0, 100), np.linspace(0, 0.08, 17), [dephasing(0.1)],
    ...                     ntraj=200, seed=1)
    >>> result.stats["method"]
    'twa (truncated Wigner estimate, 200 trajectories)'
    >>> bool(result.stats["standard error"]["delta_energy"][-1] < 0.05 * result.e_max)
    True
    """
    start = time.perf_counter()
    if not isinstance(model, CavityModel):
        check_model(model)
    label = _initial_label(model, state)
    times = _checks.time_list("tlist", tlist)
    ntraj = _checks.positive_int("ntraj", ntraj)
    if ntraj < 2:
        raise ValueError(f"ntraj must be an integer >= 2 (for an error bar), got {ntraj!r}")
    options = _checks.solver_options("twa", options, OPTIONS)
    battery, charger = _groups(model, processes)
    fastest = _fastest_rate(model, label, battery, charger)
    dt_max = STEP_FRACTION / fastest
    if options.get("dt") is not None:
        dt_max = _checks.positive_real("options['dt']", options["dt"])
    batch_size = BATCH_SIZE
    if options.get("batch_size") is not None:
        batch_size = _checks.positive_int("options['batch_size']", options["batch_size"])
    mapper = qutip.serial_map if map is None else map
    if not callable(mapper):
        raise ValueError(
            "map must be a QuTiP map function (qutip.serial_map, parallel_map, loky_pmap, "
            f"mpi_pmap), got {mapper!r}"
        )
    sizes = [batch_size] * (ntraj // batch_size)
    if ntraj % batch_size:
        sizes.append(ntraj % batch_size)
    seeds = _seed_sequence(seed).spawn(len(sizes))
    map_kw = {}
    if options.get("num_cpus") is not None:
        map_kw["num_cpus"] = options["num_cpus"]
    init = time.perf_counter() - start
    outputs = mapper(
        _batch,
        list(zip(seeds, sizes, strict=True)),
        task_args=(model, label, battery, charger, times, dt_max),
        map_kw=map_kw or None,
        progress_bar=options.get("progress_bar") or None,
        progress_bar_kwargs=options.get("progress_kwargs") or {},
    )
    total = sum(out[0] for out in outputs)
    squares = sum(out[1] for out in outputs)
    mean = total / ntraj
    variance = np.maximum(squares / ntraj - mean**2, 0.0) * ntraj / (ntraj - 1)
    energy_error = abs(model.B) * np.sqrt(variance / ntraj)
    sz0 = (label.m if isinstance(label, SpinCoherentLabel) else label[0]) - model.n_battery / 2
    initial_energy = model.B * sz0
    j = model.n_battery / 2
    rate = (
        -(battery.decay + battery.pumping) * sz0
        + j * (battery.pumping - battery.decay)
        - battery.collective_decay * (j + sz0) * (j - sz0 + 1)
        + battery.collective_pumping * (j - sz0) * (j + sz0 + 1)
    )
    elapsed = times - times[0]
    power_error = np.zeros_like(energy_error)
    power_error[1:] = energy_error[1:] / elapsed[1:]
    delta = model.B * mean
    first = _first_charge(times, delta, energy_error)
    if first is not None and elapsed[-1] > FIRST_CHARGE_MARGIN * (first - times[0]):
        warnings.warn(
            f"tlist runs to t - t0 = {elapsed[-1]:.3g}, past the first charge (first maximum of "
            f"Delta E_B at t - t0 = {first - times[0]:.3g}): the TWA is validated for the first "
            "charge only; later its Delta E_B was measured off by up to "
            f"{100 * twa_accuracy.late_error(model, label):.2g} % of the first maximum "
            f"({twa_accuracy.source(model)})",
            twa_accuracy.TWAAccuracyWarning,
            stacklevel=2,
        )
    note = twa_accuracy.accuracy_note(model, label)
    if note is not None:
        warnings.warn(note, twa_accuracy.TWAAccuracyWarning, stacklevel=2)
    return ChargingResult.from_energy(
        model,
        times,
        initial_energy + delta,
        initial_energy=initial_energy,
        initial_rate=model.B * rate,
        solver="twa",
        stats={
            "solver": "twa",
            "method": f"twa (truncated Wigner estimate, {ntraj} trajectories)",
            "standard error": {"delta_energy": energy_error, "power": power_error},
            "first charge": first,
            "accuracy": note or "within the validated region (first charge, error <= 2 %)",
            "ntraj": ntraj,
            "batches": len(sizes),
            "dt": dt_max,
            "init time": init,
            "run time": time.perf_counter() - start,
        },
    )
