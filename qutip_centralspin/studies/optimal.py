r"""Optimal charging: the piecewise-constant :math:`\lambda(t)` that stores the most at a time T.

The problem
-----------
With :math:`H(t) = H_B + H_C + \lambda(t)H_I` (Eq. 1, :mod:`qutip_centralspin.models.protocols`) and
:math:`\lambda = \lambda_i` on the segment :math:`[t_{i-1}, t_i)`, :math:`0 = t_0 < \dots < t_M
= T`, maximise at the fixed time :math:`T`

* the battery ergotropy :math:`W(\rho_B(T))` (``objective="ergotropy"``, the work a cyclic
  unitary on the battery can take out, :mod:`qutip_centralspin.observables.ergotropy`), or
* the stored energy :math:`\Delta E_B(T) = E_B(T) - E_B(0)` (``objective="energy"``; the same
  maximiser as :math:`E_B(T)`),

over :math:`\lambda_i \in [\lambda_{\min}, \lambda_{\max}] \subseteq [-1, 1]` (the model's
:math:`A` and :math:`\Delta` are the largest coupling: to allow a stronger one, scale them),
with the boundaries :math:`t_i` fixed (equal segments) or free. The optimal protocol switches
the coupling off at :math:`T` (:math:`\lambda = 0` after it): a closed battery then keeps what
it holds. ``psi0`` is the state at :math:`t = 0` and times are absolute, as in
:mod:`qutip_centralspin.models.protocols`.

Method
------
:func:`optimize_charging` runs ``scipy.optimize.minimize`` (L-BFGS-B, box bounds) from several
starts: :math:`\lambda \equiv 1`, the best step :math:`\lambda = 1` on :math:`[0, kT/M)` then 0
(the paper's protocol on the segment grid), and ``starts`` random protocols drawn from a
``numpy`` generator seeded with ``seed`` (so a run is reproducible). It returns the best. This
is a **local** optimum: no global certificate; it is at least as good as every start, so at
least as good as :math:`\lambda \equiv 1` and the best grid step. With free boundaries the
segment lengths are :math:`T w_i/\sum_j w_j` with :math:`w_i \in [10^{-3}, 1]`. The ergotropy
is zero, and flat, around a passive :math:`\rho_B`: a start with :math:`W = 0` is first moved
by maximising :math:`\Delta E_B`, then by :math:`W`.

* **Closed** (no ``processes``): :class:`ClosedObjective` evolves exactly in the excitation
  sectors (the tridiagonal :math:`H_K(\lambda) = H_{0,K} + \lambda H_{I,K}` of
  :mod:`qutip_centralspin.solvers.sector`, diagonalised per segment) and returns the **exact
  gradient** by an adjoint sweep: with :math:`X = G\otimes 1_C`,
  :math:`\partial f/\partial\lambda_j = 2\,\mathrm{Re}\,\langle\chi_j|\partial_\lambda
  U_j|\psi_{j-1}\rangle` where :math:`|\chi_j\rangle = U_{j+1}^\dagger\cdots U_M^\dagger
  X|\psi(T)\rangle` and, in the eigenbasis :math:`H_K = V\,\mathrm{diag}(E)\,V^T` of a segment
  of length :math:`\tau`, the Daleckii-Krein formula

  .. math::

      V^T(\partial_\lambda U)V = (V^T H_{I,K} V)\circ\Phi, \qquad
      \Phi_{ab} = -i\tau\, e^{-i(E_a + E_b)\tau/2}\,
      \mathrm{sinc}\big((E_a - E_b)\tau/2\big)

  (stable for degenerate levels). For the segment lengths :math:`\partial f/\partial\tau_j =
  2\,\mathrm{Re}\,\langle\chi_j|-iH_j|\psi_j\rangle`. The operator :math:`G` is :math:`H_B`
  for the energy and :math:`H_B - \sum_k \varepsilon_k^\uparrow|r_k\rangle\langle r_k|`
  (eigenvectors of :math:`\rho_B` by descending population, levels ascending) for the
  ergotropy :math:`W = \mathrm{tr}[H_B\rho_B] - \sum_k r_k^\downarrow\varepsilon_k^\uparrow`,
  whose derivative it is wherever the populations of :math:`\rho_B` are distinct (the
  ergotropy has kinks where two populations cross, and is flat at zero on passive states).
* **Open** (``processes``): :class:`OpenObjective` evaluates the objective with
  ``charge(..., processes=..., coupling=...)`` (the block solver, one exact generator per
  segment) and its gradient by **central finite differences** (step ``FD_STEP`` in
  :math:`\lambda`, ``FD_STEP * T`` in the lengths): :math:`2M` runs per gradient (:math:`4M`
  with free boundaries). An exact open gradient would need the generator
  :math:`\mathcal L(\lambda) = \mathcal L_0 + \lambda\mathcal L_I` and the Fréchet derivative of
  its exponential, which the block solver does not expose.

Comparison with qutip-qoc
-------------------------
``qutip-qoc`` (0.2.0, the QuTiP family's optimal-control package) optimises a
``qutip_qoc.Objective(initial, H, target)``: the infidelity of the evolved state or
gate to one *target* ``Qobj`` (GRAPE/CRAB through ``qutip-qtrl``'s fidelity types, GOAT's
``PSU``/``SU``/``TRACEDIFF``). It has no hook for a cost that is a function of the state, so it
cannot state :math:`W(\mathrm{tr}_C\rho(T))` or :math:`E_B(T)` (a partial trace, then an
eigen-decomposition or an expectation value). What it can state is a proxy: the fidelity to
the fully charged state. From a Dicke product state :math:`|m, n\rangle` (sector
:math:`K = m + n \ge N_B`) the only fully charged state of the sector is
:math:`|N_B, K - N_B\rangle`, so the fidelity is the population :math:`p` of the top battery
level. For :math:`N_B = 1` (a two-level sector) :math:`\rho_B` is diagonal and
:math:`W = B\max(0, 2p - 1)`, :math:`\Delta E_B = Bp + {\rm const}`: the same maximiser, and
the two optimisers can be compared directly (``tests/test_optimal.py``). For :math:`N_B \ge 2`
the fidelity to full charge is a different objective whenever full charge is not reachable
in :math:`T` (measured: :math:`N_B = 2`, :math:`N = 3`, :math:`B = 1`, :math:`h = 1.3`,
:math:`\Delta = 0.4`, :math:`M = 4`, :math:`T = 1.2`: GRAPE on that fidelity ends at
:math:`W = 1.85781`, this module at :math:`W = 1.85805`). qutip-qoc 0.2.0 pins
``numpy < 2``, so it cannot share an environment with numpy 2; the comparison test is skipped
where it is absent (it passes with qutip-qoc 0.2.0, numpy 1.26.4, qutip 5.3.1).

Examples
--------
>>> import math
>>> from qutip_centralspin import CentralSpinModel, dicke_state
>>> from qutip_centralspin.studies.optimal import optimize_charging
>>> model = CentralSpinModel(n_battery=1, n_charger=1)      # resonant, A = 1
>>> best = optimize_charging(model, dicke_state(model, 0, 1), T=math.pi, segments=2)
>>> round(best.baseline, 8) + 0.0, round(best.objective, 8)  # lambda = 1 gives back all
(0.0, 1.0)

One module because the optimal-protocol search, its exact segment propagation and the
certification of the optimum share the piecewise-constant parametrisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import qutip
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from .. import _checks
from ..charging import charge
from ..models.operators import check_model
from ..models.processes import as_processes
from ..models.protocols import PiecewiseConstant
from ..models.spin import CentralSpinModel
from ..models.states import check_state
from ..observables.ergotropy import (
    BATTERY_KINDS,
    DEFAULT_BATTERY,
    Battery,
    Ergotropy,
    battery_levels,
)
from ..solvers.sector import SectorEngine
from ..solvers.sectors import eigh_tridiagonal

__all__ = [
    "OBJECTIVES",
    "BOUNDARIES",
    "Objective",
    "Boundaries",
    "ClosedObjective",
    "OpenObjective",
    "OptimalCharging",
    "optimize_charging",
    "protocol_of",
]

Objective = Literal["ergotropy", "energy"]
Boundaries = Literal["fixed", "free"]
#: What :func:`optimize_charging` can maximise at T.
OBJECTIVES: tuple[str, ...] = ("ergotropy", "energy")
#: Fixed equal segments, or free boundaries.
BOUNDARIES: tuple[str, ...] = ("fixed", "free")
#: Smallest segment weight with free boundaries (weights lie in [MIN_WEIGHT, 1]).
MIN_WEIGHT = 1e-3
#: Central finite-difference step of the open objective: in lambda, and times T in the lengths.
FD_STEP = 1e-5
#: A start whose ergotropy is below this (times |B| N_B) is passive: it is first moved by
#: maximising the energy (the ergotropy is flat, its gradient zero, around a passive state).
FLAT_ERGOTROPY = 1e-10
#: Populations of rho_B below this count as zero when factorising a density matrix psi0.
_RANK_RTOL = 1e-14


def _check_objective(objective) -> str:
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")
    return objective


def _check_battery(battery) -> str:
    if battery not in BATTERY_KINDS:
        raise ValueError(f"battery must be one of {BATTERY_KINDS}, got {battery!r}")
    return battery


def _check_protocol(values, durations) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(values, dtype=float).ravel()
    durations = np.asarray(durations, dtype=float).ravel()
    if values.size == 0 or values.shape != durations.shape:
        raise ValueError(
            "values and durations must be non-empty and of equal length, got "
            f"{values.size} values and {durations.size} durations"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"values must be finite, got {values.tolist()}")
    if not (np.all(np.isfinite(durations)) and np.all(durations > 0)):
        raise ValueError(f"durations must be finite and > 0, got {durations.tolist()}")
    return values, durations


def protocol_of(values, durations) -> PiecewiseConstant:
    r"""The :class:`~qutip_centralspin.models.protocols.PiecewiseConstant` :math:`\lambda(t)` with
    ``values[i]`` for ``durations[i]`` from :math:`t = 0`, switched off (0) at the end.

    Examples
    --------
    >>> from qutip_centralspin.studies.optimal import protocol_of
    >>> lam = protocol_of([1.0, -0.5], [0.5, 1.0])
    >>> lam.times, lam.values
    ((0.0, 0.5, 1.5), (1.0, -0.5, 0.0))
    """
    values, durations = _check_protocol(values, durations)
    times = np.concatenate([[0.0], np.cumsum(durations)])
    return PiecewiseConstant(tuple(times.tolist()), (*values.tolist(), 0.0))


def _passive_levels(n_battery: int, B: float, battery: str) -> np.ndarray:
    """The N_B + 1 lowest battery levels (with multiplicity), ascending."""
    count = n_battery + 1
    energies, mult = battery_levels(n_battery, B, battery)
    return np.repeat(energies, np.minimum(mult, count).astype(int))[:count]


class ClosedObjective:
    r"""Exact :math:`W(\rho_B(T))` or :math:`\Delta E_B(T)` of a closed run under a
    piecewise-constant :math:`\lambda`, and its exact gradient (adjoint; module notes).

    Parameters
    ----------
    model : CentralSpinModel
    psi0 : Qobj
        Ket or density matrix at :math:`t = 0` on the model's dims (any state: superpositions
        and mixtures across excitation sectors included).
    objective : {"ergotropy", "energy"}
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        Battery picture of the ergotropy (:mod:`qutip_centralspin.observables.ergotropy`).

    Notes
    -----
    ``calls`` counts the evaluations. Each one diagonalises the occupied sectors once per
    segment (LAPACK ``dstevd``, size :math:`\le \min(N_B, N) + 1`).

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, dicke_state
    >>> from qutip_centralspin.studies.optimal import ClosedObjective
    >>> model = CentralSpinModel(n_battery=1, n_charger=1)
    >>> f = ClosedObjective(model, dicke_state(model, 0, 1), objective="energy")
    >>> value, d_values, d_durations = f.value_and_gradient([1.0], [0.5])
    >>> round(value, 12) == round(float(np.sin(0.5) ** 2), 12)   # Rabi: B sin^2(A t)
    True
    """

    def __init__(
        self,
        model: CentralSpinModel,
        psi0: qutip.Qobj,
        *,
        objective: Objective = "ergotropy",
        battery: Battery = DEFAULT_BATTERY,
    ):
        self.model = check_model(model)
        psi0 = check_state(model, psi0, "psi0")
        self.objective = _check_objective(objective)
        self.battery = _check_battery(battery)
        self.calls = 0
        nb = model.n_battery
        self._nb1, self._nc1 = nb + 1, model.n_charger + 1
        # H_B on the battery levels in jmat order (index i <-> m = N_B - i)
        self._hb = model.B * (nb / 2 - np.arange(self._nb1))
        self._levels = _passive_levels(nb, model.B, battery)
        # psi0 as columns: rho(0) = L L^dagger (one column for a ket)
        if psi0.isket:
            columns = psi0.full().reshape(-1, 1)
        else:
            rho = psi0.full()
            p, w = np.linalg.eigh((rho + rho.conj().T) / 2)
            keep = p > p.max() * _RANK_RTOL
            columns = w[:, keep] * np.sqrt(p[keep])
        self._columns = columns.astype(complex)
        # the occupied sectors: H_K(lambda) = H_0K + lambda H_IK, tridiagonal (Eq. 17)
        full = SectorEngine(model)
        bare = SectorEngine(model.replace(A=0.0, delta=0.0))
        rows = np.flatnonzero(np.abs(self._columns).max(axis=1) > 0)
        self._sectors = []
        for k in np.unique(full.excitations[rows]):
            m, n, diag, off = full.tridiagonal(int(k))
            diag0 = bare.tridiagonal(int(k))[2]
            d_int = diag - diag0
            h_int = np.diag(d_int) + np.diag(off, 1) + np.diag(off, -1)
            self._sectors.append((full.full_index(m, n), diag0, d_int, off, h_int))
        self.initial_energy = self._battery_energy(self._rho_b(self._columns))

    # -- pieces ---------------------------------------------------------------------------
    def _rho_b(self, psi: np.ndarray) -> np.ndarray:
        mat = psi.reshape(self._nb1, self._nc1, -1)
        return np.einsum("icr,jcr->ij", mat, mat.conj())

    def _battery_energy(self, rho_b: np.ndarray) -> float:
        return float(np.real(np.diagonal(rho_b)) @ self._hb)

    def _value_and_weight(self, rho_b: np.ndarray) -> tuple[float, np.ndarray]:
        """The objective and the battery operator G of its derivative, tr[G d rho_B]."""
        energy = self._battery_energy(rho_b)
        if self.objective == "energy":
            return energy - self.initial_energy, np.diag(self._hb).astype(complex)
        r, v = np.linalg.eigh((rho_b + rho_b.conj().T) / 2)
        r, v = r[::-1], v[:, ::-1]  # descending populations fill ascending levels
        passive = float(r @ self._levels)
        weight = np.diag(self._hb) - (v * self._levels) @ v.conj().T
        return energy - passive, weight

    def _segments(self, values, durations):
        """Forward sweep: per segment and sector (E, V, amplitudes in, phases); final state."""
        psi = self._columns.copy()
        blocks = [psi[idx] for idx, *_ in self._sectors]
        sweep = []
        for lam, tau in zip(values, durations, strict=True):
            seg = []
            for s, (_, diag0, d_int, off, _) in enumerate(self._sectors):
                energies, vectors = eigh_tridiagonal(diag0 + lam * d_int, lam * off)
                amps = vectors.T @ blocks[s]
                phases = np.exp(-1j * tau * energies)
                blocks[s] = vectors @ (phases[:, None] * amps)
                seg.append((energies, vectors, amps, phases))
            sweep.append(seg)
        for (idx, *_), block in zip(self._sectors, blocks, strict=True):
            psi[idx] = block
        return sweep, psi

    # -- public ---------------------------------------------------------------------------
    def __call__(self, values, durations) -> float:
        """The objective for :math:`\\lambda_i` = ``values`` held for ``durations`` from t = 0."""
        values, durations = _check_protocol(values, durations)
        self.calls += 1
        _, psi = self._segments(values, durations)
        return self._value_and_weight(self._rho_b(psi))[0]

    def value_and_gradient(self, values, durations) -> tuple[float, np.ndarray, np.ndarray]:
        """The objective and its exact derivatives with respect to ``values`` and ``durations``."""
        values, durations = _check_protocol(values, durations)
        self.calls += 1
        sweep, psi = self._segments(values, durations)
        value, weight = self._value_and_weight(self._rho_b(psi))
        # co-state chi = (G x 1_C) psi(T), propagated backwards
        chi = np.einsum("ij,jcr->icr", weight, psi.reshape(self._nb1, self._nc1, -1))
        chi = chi.reshape(psi.shape)
        costates = [chi[idx] for idx, *_ in self._sectors]
        d_values = np.zeros(values.size)
        d_durations = np.zeros(values.size)
        for j in range(values.size - 1, -1, -1):
            tau = durations[j]
            for s, (energies, vectors, amps, phases) in enumerate(sweep[j]):
                h_int = self._sectors[s][4]
                c_eig = (vectors.T @ costates[s]).conj()
                out = phases[:, None] * amps
                d_durations[j] += 2.0 * float(np.sum(c_eig * (-1j * energies[:, None] * out)).real)
                # Daleckii-Krein: V^T dU V = (V^T H_I V) o Phi
                half = 0.5 * tau * (energies[:, None] - energies[None, :])
                phi = (
                    -1j
                    * tau
                    * np.exp(-0.5j * tau * (energies[:, None] + energies[None, :]))
                    * np.sinc(half / np.pi)
                )
                d_u = (vectors.T @ h_int @ vectors) * phi
                d_values[j] += 2.0 * float(np.sum(c_eig * (d_u @ amps)).real)
                costates[s] = vectors @ (phases.conj()[:, None] * (vectors.T @ costates[s]))
        return value, d_values, d_durations


class OpenObjective:
    r""":math:`W(\rho_B(T))` or :math:`\Delta E_B(T)` of an open run (block solver via
    :func:`~qutip_centralspin.charge`), gradient by central finite differences.

    Parameters
    ----------
    model : CentralSpinModel
    psi0 : Qobj
        State at :math:`t = 0`, block-diagonal in the total excitation (what the block solver
        takes: Dicke product states and mixtures of them).
    processes : Process or list of Process
    objective : {"ergotropy", "energy"}
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")

    Notes
    -----
    ``calls`` counts the runs of ``charge``. The finite-difference step is ``FD_STEP`` in
    :math:`\lambda` and ``FD_STEP`` times the total time in the segment lengths.
    """

    def __init__(
        self,
        model: CentralSpinModel,
        psi0: qutip.Qobj,
        processes,
        *,
        objective: Objective = "ergotropy",
        battery: Battery = DEFAULT_BATTERY,
    ):
        self.model = check_model(model)
        self.psi0 = check_state(model, psi0, "psi0")
        self.processes = as_processes(processes)
        if not self.processes:
            raise ValueError("processes must name at least one Process (use ClosedObjective)")
        self.objective = _check_objective(objective)
        self.battery = _check_battery(battery)
        self.calls = 0

    def __call__(self, values, durations) -> float:
        """The objective for :math:`\\lambda_i` = ``values`` held for ``durations`` from t = 0."""
        protocol = protocol_of(values, durations)
        self.calls += 1
        e_ops = {"W": Ergotropy(self.model, battery=self.battery)}
        res = charge(
            self.model,
            self.psi0,
            [0.0, protocol.times[-1]],
            processes=self.processes,
            coupling=protocol,
            e_ops=e_ops if self.objective == "ergotropy" else None,
        )
        if self.objective == "ergotropy":
            return float(res.e_data["W"][-1])
        return float(res.delta_energy[-1])

    def value_and_gradient(
        self, values, durations, *, lengths: bool = True
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """The objective and its central finite-difference derivatives (``lengths=False``
        skips those with respect to the durations, returned as zeros)."""
        values, durations = _check_protocol(values, durations)
        value = self(values, durations)
        d_values = np.zeros(values.size)
        d_durations = np.zeros(values.size)
        for i in range(values.size):
            up, down = values.copy(), values.copy()
            up[i] += FD_STEP
            down[i] -= FD_STEP
            d_values[i] = (self(up, durations) - self(down, durations)) / (2 * FD_STEP)
        if lengths:
            h = FD_STEP * float(durations.sum())
            for i in range(values.size):
                up, down = durations.copy(), durations.copy()
                up[i] += h
                down[i] -= h
                d_durations[i] = (self(values, up) - self(values, down)) / (2 * h)
        return value, d_values, d_durations


@dataclass(frozen=True, eq=False)
class OptimalCharging:
    r"""Result of :func:`optimize_charging`: a **local** optimum (no global certificate).

    Attributes
    ----------
    protocol : PiecewiseConstant
        The best :math:`\lambda(t)` found, switched off at :math:`T`.
    values : ndarray
        :math:`\lambda_i`, one per segment.
    times : ndarray
        Segment boundaries :math:`0 = t_0 < \dots < t_M = T`.
    objective : float
        Its :math:`W(\rho_B(T))` or :math:`\Delta E_B(T)`.
    quantity : {"ergotropy", "energy"}
        What was maximised.
    baseline : float
        The objective of :math:`\lambda \equiv 1` on :math:`[0, T)` (the paper's protocol,
        even if ``bounds`` exclude it; the search then starts from it clipped).
    step : float
        The best step protocol on the segment grid: :math:`\lambda = 1` on
        :math:`[0, kT/M)`, then 0, over :math:`k = 1..M` (``step >= baseline``).
    step_time : float
        Its switch-off time :math:`kT/M`.
    improvement : float
        ``objective - baseline`` (:math:`\ge 0` whenever ``bounds`` contain 0 and 1).
    gradient : str
        ``"exact (adjoint)"`` (closed) or ``"central finite differences"`` (open).
    evaluations : int
        Objective evaluations in total (each gradient counts as one closed, as its runs open).
    optimizer : dict
        The winning ``scipy.optimize.OptimizeResult`` in short: ``method``, ``success``,
        ``status``, ``message``, ``nit``, ``nfev``, ``njev``, the ``start`` it came from and
        ``energy_warm_start`` (the start was passive and first moved by maximising
        :math:`\Delta E_B`).
    starts : tuple of (str, float, float)
        Every start: its name, its objective before and after the local search.
    """

    protocol: PiecewiseConstant
    values: np.ndarray
    times: np.ndarray
    objective: float
    quantity: str
    baseline: float
    step: float
    step_time: float
    improvement: float
    gradient: str
    evaluations: int
    optimizer: dict
    starts: tuple

    @property
    def T(self) -> float:
        """The time :math:`T` at which the objective is taken."""
        return float(self.times[-1])


def _durations(T: float, weights: np.ndarray) -> np.ndarray:
    """Free boundaries: segment lengths :math:`T w_i/\\sum_j w_j`."""
    return T * weights / weights.sum()


def _weights_gradient(T: float, weights: np.ndarray, d_durations: np.ndarray) -> np.ndarray:
    """Chain rule from the lengths to the weights of :func:`_durations`:
    :math:`\\partial f/\\partial w_j = (T/S)(g_j - \\sum_i g_i w_i/S)`, :math:`S = \\sum w`."""
    total = weights.sum()
    return (T / total) * (d_durations - (d_durations @ weights) / total)


def _check_bounds(bounds) -> tuple[float, float]:
    try:
        low, high = bounds
    except (TypeError, ValueError):
        raise ValueError(
            f"bounds must be a pair (low, high) with -1 <= low < high <= 1, got {bounds!r}"
        ) from None
    low = _checks.finite_real("bounds[0]", low)
    high = _checks.finite_real("bounds[1]", high)
    if not -1.0 <= low < high <= 1.0:
        raise ValueError(
            f"bounds must be a pair (low, high) with -1 <= low < high <= 1, got {bounds!r}"
        )
    return low, high


class _Search:
    """The parameters x of L-BFGS-B: lambda_1..M, then (free boundaries) the weights w_1..M."""

    def __init__(self, T, segments, free, bounds, open_, maxiter):
        self.T, self.M, self.free, self.open = T, segments, free, open_
        self.low, self.high = bounds
        self.box = [bounds] * segments + ([(MIN_WEIGHT, 1.0)] * segments if free else [])
        self.options = {"maxiter": maxiter}

    def split(self, x):
        """``(values, durations)`` of ``x``."""
        if not self.free:
            return x, np.full(self.M, self.T / self.M)
        return x[: self.M], _durations(self.T, x[self.M :])

    def point(self, values, weights=None):
        """``x`` of ``values`` (clipped to the bounds) and ``weights`` (default: equal)."""
        values = np.clip(np.asarray(values, dtype=float), self.low, self.high)
        if not self.free:
            return values
        return np.concatenate([values, np.ones(self.M) if weights is None else weights])

    def negative(self, engine):
        """``x -> (-f, -grad f)`` for ``scipy.optimize.minimize(jac=True)``."""

        def negative(x):
            values, durations = self.split(x)
            if self.open:
                value, d_val, d_dur = engine.value_and_gradient(
                    values, durations, lengths=self.free
                )
            else:
                value, d_val, d_dur = engine.value_and_gradient(values, durations)
            if not self.free:
                return -value, -d_val
            return -value, -np.concatenate([d_val, _weights_gradient(self.T, x[self.M :], d_dur)])

        return negative

    def starts(self, engine, count, seed):
        """lambda = 1, the best grid step (both also as references, unclipped), ``count``
        seeded random protocols."""
        M, durations = self.M, np.full(self.M, self.T / self.M)
        steps = [engine(np.r_[np.ones(k), np.zeros(M - k)], durations) for k in range(1, M + 1)]
        baseline, step_k = steps[-1], int(np.argmax(steps)) + 1
        candidates = []
        for name, k in (("lambda = 1", M), (f"step tau = {step_k}T/{M}", step_k)):
            if name.startswith("step") and step_k == M:
                continue
            values = np.r_[np.ones(k), np.zeros(M - k)]
            x = self.point(values)
            inside = np.array_equal(x[:M], values)
            candidates.append((name, x, steps[k - 1] if inside else engine(*self.split(x))))
        rng = np.random.default_rng(seed)
        for i in range(count):
            values = rng.uniform(self.low, self.high, M)
            x = self.point(values, rng.uniform(0.2, 1.0, M) if self.free else None)
            candidates.append((f"random {i}", x, engine(*self.split(x))))
        return baseline, (steps[step_k - 1], step_k), candidates

    def local(self, engine, x0, f0, warm_engine=None):
        """L-BFGS-B from ``x0`` (first on ``warm_engine``, if given); never below ``f0``."""
        x = x0 if warm_engine is None else self._minimize(warm_engine, x0).x
        res = self._minimize(engine, x)
        value = -float(res.fun)
        if value < f0:  # the search ended below its start (after a warm start): keep the start
            return f0, x0, res
        return value, res.x, res

    def _minimize(self, engine, x0):
        return minimize(
            self.negative(engine),
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=self.box,
            options=self.options,
        )


def optimize_charging(
    model: CentralSpinModel,
    psi0: qutip.Qobj,
    T: float,
    *,
    segments: int = 4,
    objective: Objective = "ergotropy",
    processes=None,
    boundaries: Boundaries = "fixed",
    bounds: tuple[float, float] = (-1.0, 1.0),
    battery: Battery = DEFAULT_BATTERY,
    starts: int = 3,
    seed: int = 0,
    maxiter: int = 200,
) -> OptimalCharging:
    r"""Maximise :math:`W(\rho_B(T))` (or :math:`\Delta E_B(T)`) over piecewise-constant
    :math:`\lambda(t)` with ``segments`` pieces on :math:`[0, T]` (module notes).

    Parameters
    ----------
    model : CentralSpinModel
    psi0 : Qobj
        State at :math:`t = 0` (with ``processes``: block-diagonal in the total excitation).
    T : float
        The time :math:`T > 0` at which the objective is taken (units of 1/energy).
    segments : int, default 4
        Number :math:`M \ge 1` of constant pieces.
    objective : {"ergotropy", "energy"}
        :math:`W(\rho_B(T))`, or :math:`\Delta E_B(T) = E_B(T) - E_B(0)`.
    processes : Process or list of Process, optional
        Dissipation during the whole run (block solver, finite-difference gradient); none:
        closed (exact gradient).
    boundaries : {"fixed", "free"}
        Equal segments :math:`T/M`, or free lengths :math:`T w_i/\sum_j w_j`.
    bounds : (float, float), default (-1, 1)
        :math:`\lambda_{\min} < \lambda_{\max}` within :math:`[-1, 1]`.
    battery : {"qubits", "dicke"}, default DEFAULT_BATTERY ("qubits")
        Battery picture of the ergotropy.
    starts : int, default 3
        Random starts, besides :math:`\lambda \equiv 1` and the best grid step.
    seed : int, default 0
        Seed of the random starts (``numpy.random.default_rng``).
    maxiter : int, default 200
        Iterations of each L-BFGS-B run.

    Returns
    -------
    OptimalCharging

    Raises
    ------
    ValueError
        A parameter out of range (named in the message).

    Examples
    --------
    >>> import math
    >>> from qutip_centralspin import CentralSpinModel, dicke_state
    >>> from qutip_centralspin.studies.optimal import optimize_charging
    >>> model = CentralSpinModel(n_battery=1, n_charger=1)
    >>> best = optimize_charging(model, dicke_state(model, 0, 1), T=math.pi, segments=2)
    >>> best.quantity, best.gradient, round(best.objective, 8)
    ('ergotropy', 'exact (adjoint)', 1.0)
    """
    check_model(model)
    psi0 = check_state(model, psi0, "psi0")
    T = _checks.positive_real("T", T)
    segments = _checks.int_in_range("segments", segments, 1, 10_000)
    objective = _check_objective(objective)
    if boundaries not in BOUNDARIES:
        raise ValueError(f"boundaries must be one of {BOUNDARIES}, got {boundaries!r}")
    low, high = _check_bounds(bounds)
    battery = _check_battery(battery)
    starts = _checks.int_in_range("starts", starts, 0, 10_000)
    seed = _checks.int_in_range("seed", seed, 0, 2**63 - 1)
    maxiter = _checks.int_in_range("maxiter", maxiter, 1, 10**6)
    procs = as_processes(processes)

    def make_engine(quantity):
        if procs:
            return OpenObjective(model, psi0, procs, objective=quantity, battery=battery)
        return ClosedObjective(model, psi0, objective=quantity, battery=battery)

    search = _Search(T, segments, boundaries == "free", (low, high), bool(procs), maxiter)
    engine = make_engine(objective)
    # tiny dense algebra (sectors, L-BFGS-B's own vectors): BLAS threads only add overhead
    # (measured 4x slower on a loaded 2-core machine); the block solver sets its own
    with threadpool_limits(limits=1, user_api="blas"):
        baseline, (step_value, step_k), candidates = search.starts(engine, starts, seed)
        warm_engine = make_engine("energy") if objective == "ergotropy" else None
        flat = FLAT_ERGOTROPY * abs(model.B) * model.n_battery
        best, record = None, []
        for name, x0, f0 in candidates:
            warmed = warm_engine is not None and f0 <= flat
            value, x_end, res = search.local(engine, x0, f0, warm_engine if warmed else None)
            record.append((name, float(f0), value))
            if best is None or value > best[0]:
                best = (value, x_end, name, res, warmed)
    value, x, name, res, warmed = best
    values, durations = search.split(np.asarray(x, dtype=float))
    times = np.concatenate([[0.0], np.cumsum(durations)])
    times[-1] = T
    return OptimalCharging(
        protocol=protocol_of(values, np.diff(times)),
        values=np.asarray(values, dtype=float),
        times=times,
        objective=value,
        quantity=objective,
        baseline=float(baseline),
        step=float(step_value),
        step_time=T * step_k / segments,
        improvement=value - float(baseline),
        gradient="central finite differences" if procs else "exact (adjoint)",
        evaluations=int(engine.calls + (warm_engine.calls if warm_engine else 0)),
        optimizer={
            "method": "L-BFGS-B",
            "success": bool(res.success),
            "status": int(res.status),
            "message": str(res.message),
            "nit": int(res.nit),
            "nfev": int(res.nfev),
            "njev": int(res.njev),
            "start": name,
            "energy_warm_start": bool(warmed),
        },
        starts=tuple(record),
    )
