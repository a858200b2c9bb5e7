r"""Closed forms of Peng *et al.*, PRA **103**, 052220 (2021).

* :math:`N_B = 1` (Sec. III A and App. A): amplitudes (Eq. 11), :math:`\Delta E_B, P_B`
  (Eqs. 12-13), :math:`E_B, E_C, E_I` (Eqs. A6-A8), :math:`E_{max}, \tau_{min}` (Eq. 16) and the
  exact :math:`P_{max}` (Eq. 15).
* The constant :math:`c^* = \max_x \sin^2 x / x` behind every "0.72" and "1.16" of the paper.
* The Holstein-Primakoff / Tavis-Cummings limit (Eqs. 29-31), the :math:`N = 1` limit and the
  incoherent (parallel) battery.

All functions use the model's ``B, h, A, delta`` and :math:`\hbar = 1`. The initial state of the
:math:`N_B = 1` formulas is :math:`|\downarrow\rangle \otimes |n\rangle` (Eq. 10).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import qutip
from scipy.optimize import brentq

from .. import _checks
from ..models.operators import check_model
from ..models.spin import CentralSpinModel
from ..models.states import dicke_state

__all__ = [
    "c_star",
    "b_coefficient",
    "single_spin_detuning",
    "single_spin_rabi_frequency",
    "single_spin_state",
    "single_spin_delta_energy",
    "single_spin_power",
    "single_spin_energies",
    "single_spin_max_energy",
    "single_spin_max_power",
    "hp_delta_energy",
    "hp_max_power",
    "hp_upper_bound_power",
    "single_charger_max_power",
    "parallel_max_power",
]


@functools.lru_cache(maxsize=1)
def c_star() -> tuple[float, float]:
    r"""Return :math:`(c^*, x^*)` with :math:`c^* = \max_{x>0} \sin^2(x)/x` at :math:`x = x^*`.

    The stationarity condition :math:`\tan x = 2x` is solved with Brent's method to machine
    precision: :math:`c^* \approx 0.724611`, :math:`x^* \approx 1.165561`. The paper rounds
    these to 0.72 and 1.16.
    """
    x = brentq(lambda x: math.tan(x) - 2 * x, 1.0, 1.5, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return math.sin(x) ** 2 / x, x


def b_coefficient(n_spins, n):
    r""":math:`b_{N,n} = n(N - n + 1)`, so that :math:`J^-|n\rangle = \sqrt{b_{N,n}}|n-1\rangle`."""
    n = np.asarray(n)
    return n * (n_spins - n + 1)


def _single(model: CentralSpinModel, n) -> int:
    check_model(model)
    if model.n_battery != 1:
        raise ValueError(
            f"the N_B = 1 closed forms need n_battery = 1, got n_battery = {model.n_battery}"
        )
    return _checks.int_in_range("n", n, 0, model.n_charger)


def single_spin_detuning(model: CentralSpinModel, n: int) -> float:
    r""":math:`\Delta_n = B - h + (2n - 1 - N)\Delta` (App. A)."""
    n = _single(model, n)
    return model.B - model.h + (2 * n - 1 - model.n_charger) * model.delta


def single_spin_rabi_frequency(model: CentralSpinModel, n: int) -> float:
    r""":math:`\Omega_n = \sqrt{\Delta_n^2 + 4 b_{N,n} A^2}` (App. A)."""
    d = single_spin_detuning(model, n)
    return math.sqrt(d * d + 4 * b_coefficient(model.n_charger, n) * model.A**2)


def _fraction(model, n):
    """Transferred fraction 4 b A^2 / Omega^2 (0 when b_{N,n} = 0: nothing to transfer)."""
    b = b_coefficient(model.n_charger, n)
    if b == 0 or model.A == 0:
        return 0.0
    return 4 * b * model.A**2 / single_spin_rabi_frequency(model, n) ** 2


def _transfer(model, n):
    """Return (K, Omega) with Delta E_B(t) = K sin^2(Omega t / 2), K = B 4 b A^2 / Omega^2."""
    return model.B * _fraction(model, n), single_spin_rabi_frequency(model, n)


def single_spin_state(model: CentralSpinModel, n: int, t) -> list[qutip.Qobj]:
    r"""Exact state of Eq. (11) at the times ``t``, global phase included.

    .. math::

        |\psi(t)\rangle = e^{-i\bar E t}\big[P^n_\uparrow(t)|\uparrow\rangle|n-1\rangle
                          + P^n_\downarrow(t)|\downarrow\rangle|n\rangle\big],

    with :math:`P^n_\uparrow = -i (2\sqrt{b_{N,n}}A/\Omega_n)\sin(\Omega_n t/2)`,
    :math:`P^n_\downarrow = i(\Delta_n/\Omega_n)\sin(\Omega_n t/2) + \cos(\Omega_n t/2)` and
    :math:`\bar E` the mean of the two diagonal energies (the paper's omitted phase).
    Returns one ket per time on the model's dims.
    """
    n = _single(model, n)
    t = np.atleast_1d(np.asarray(t, dtype=float))
    N, B, h, A, D = model.n_charger, model.B, model.h, model.A, model.delta
    e_down = -B / 2 + h * (n - N / 2) - D * (n - N / 2)
    down = dicke_state(model, 0, n)
    if n == 0:
        return [np.exp(-1j * e_down * tt) * down for tt in t]
    e_up = B / 2 + h * (n - 1 - N / 2) + D * (n - 1 - N / 2)
    up = dicke_state(model, 1, n - 1)
    omega = single_spin_rabi_frequency(model, n)
    if omega == 0:  # A = 0 and Delta_n = 0: both levels degenerate and uncoupled
        return [np.exp(-1j * e_down * tt) * down for tt in t]
    detuning = single_spin_detuning(model, n)
    g2 = 2 * math.sqrt(b_coefficient(N, n)) * A
    mean = (e_up + e_down) / 2
    out = []
    for tt in t:
        s, c = math.sin(omega * tt / 2), math.cos(omega * tt / 2)
        p_up = -1j * g2 / omega * s
        p_down = 1j * detuning / omega * s + c
        out.append(np.exp(-1j * mean * tt) * (p_up * up + p_down * down))
    return out


def single_spin_delta_energy(model: CentralSpinModel, n: int, t):
    r""":math:`\Delta E_B(t) = B \frac{4 b_{N,n} A^2}{\Omega_n^2}\sin^2(\Omega_n t/2)` (Eq. 12)."""
    n = _single(model, n)
    k, omega = _transfer(model, n)
    return k * np.sin(omega * np.asarray(t, dtype=float) / 2) ** 2


def single_spin_power(model: CentralSpinModel, n: int, t):
    r""":math:`P_B(t) = \Delta E_B(t)/t` (Eq. 13), with its limit :math:`P_B(0) = 0`."""
    n = _single(model, n)
    k, omega = _transfer(model, n)
    t = np.asarray(t, dtype=float)
    # sin^2(w t/2)/t = (w/2) sinc(w t / 2 pi) sin(w t / 2), finite at t = 0.
    return k * (omega / 2) * np.sinc(omega * t / (2 * np.pi)) * np.sin(omega * t / 2)


def single_spin_energies(model: CentralSpinModel, n: int, t) -> dict[str, np.ndarray]:
    r"""Return ``{"E_B", "E_C", "E_I"}`` of Eqs. (A6)-(A8) at the times ``t``.

    .. math::

        E_B &= B[s(t) - 1/2], \quad E_C = h[(n - N/2) - s(t)], \\
        E_I &= \Delta(N/2 - n) - (B - h) s(t), \qquad
        s(t) = \frac{4 b_{N,n} A^2}{\Omega_n^2}\sin^2(\Omega_n t/2).
    """
    n = _single(model, n)
    t = np.asarray(t, dtype=float)
    omega = single_spin_rabi_frequency(model, n)
    s = _fraction(model, n) * np.sin(omega * t / 2) ** 2
    N = model.n_charger
    return {
        "E_B": model.B * (s - 0.5),
        "E_C": model.h * ((n - N / 2) - s),
        "E_I": model.delta * (N / 2 - n) - (model.B - model.h) * s,
    }


def single_spin_max_energy(model: CentralSpinModel, n: int) -> tuple[float, float]:
    r"""Return :math:`(E_{max}, \tau_{min})` for :math:`N_B = 1` (Eq. 16, general detuning).

    :math:`E_{max} = B\,4b_{N,n}A^2/\Omega_n^2` at :math:`\tau_{min} = \pi/\Omega_n`; at resonance
    (:math:`\Delta_n = 0`) this is Eq. 16: :math:`E_{max} = B`,
    :math:`\tau_{min} = \pi/(2A\sqrt{b_{N,n}})`.
    """
    n = _single(model, n)
    k, omega = _transfer(model, n)
    if k <= 0:  # nothing transferred, or B < 0: Delta E_B <= 0, maximal at t = 0
        return 0.0, 0.0
    return k, math.pi / omega


def single_spin_max_power(model: CentralSpinModel, n: int) -> tuple[float, float]:
    r"""Exact :math:`(P_{max}, \tau)` for :math:`N_B = 1` (Eq. 15 when resonant).

    With :math:`\Delta E_B = K\sin^2(\Omega_n t/2)`, :math:`P_{max} = c^* K \Omega_n/2` at
    :math:`\tau = 2x^*/\Omega_n`; at resonance :math:`P_{max} = c^* B A\sqrt{b_{N,n}}`.
    For ``B < 0`` the battery only loses energy and ``(0.0, inf)`` is returned.
    """
    n = _single(model, n)
    k, omega = _transfer(model, n)
    if k <= 0:
        return 0.0, math.inf
    cs, xs = c_star()
    return cs * k * omega / 2, 2 * xs / omega


def _check_resonant(model):
    check_model(model)
    if model.delta != 0 or model.B != model.h:
        raise ValueError(
            "the Holstein-Primakoff (Tavis-Cummings) closed forms hold for B = h and delta = 0, "
            f"got B={model.B}, h={model.h}, delta={model.delta}"
        )


def _hp_frequency(model):
    """:math:`|A|\\sqrt{N_B N}` (the sign of A is a gauge choice: it flips with J -> -J)."""
    return abs(model.A) * math.sqrt(model.n_battery * model.n_charger)


def hp_delta_energy(model: CentralSpinModel, m: int, n: int, t):
    r"""HP limit :math:`\Delta E_B(t) = B(n - m)\sin^2(A\sqrt{N_B N}\,t)` (Eq. 29).

    Valid for :math:`N, N_B \gg 1`, few excitations, :math:`B = h`, :math:`\Delta = 0`.
    """
    _check_resonant(model)
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    n = _checks.int_in_range("n", n, 0, model.n_charger)
    return model.B * (n - m) * np.sin(_hp_frequency(model) * np.asarray(t, dtype=float)) ** 2


def hp_max_power(model: CentralSpinModel, m: int, n: int) -> tuple[float, float]:
    r"""HP limit :math:`P_{max} = c^* B A\sqrt{N_B N}(n - m)` at :math:`\tau = x^*/(A\sqrt{N_BN})`.

    (Eq. 30 maximised; the paper's "0.72" and "1.16" are :math:`c^*` and :math:`x^*`.)
    """
    _check_resonant(model)
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    n = _checks.int_in_range("n", n, 0, model.n_charger)
    cs, xs = c_star()
    w = _hp_frequency(model)
    gain = model.B * (n - m)
    if gain <= 0 or w == 0:  # Delta E_B = gain sin^2(w t) <= 0: nothing is ever stored
        return 0.0, math.inf
    return cs * w * gain, xs / w


def hp_upper_bound_power(model: CentralSpinModel) -> float:
    r"""Eq. (31): :math:`P_{max} = c^* B A \sqrt{N} N_B^{3/2}` (``n - m = N_B``, :math:`N \gg N_B`)."""
    _check_resonant(model)
    return max(
        c_star()[0] * model.B * abs(model.A) * math.sqrt(model.n_charger) * model.n_battery**1.5,
        0.0,
    )


def single_charger_max_power(model: CentralSpinModel, m: int = 0) -> tuple[float, float]:
    r""":math:`N = 1` limit from :math:`|m,\uparrow\rangle`: :math:`P_{max} = c^* B A\sqrt{b_{N_B,m+1}}`.

    Exact for :math:`N = 1`, :math:`B = h`, :math:`\Delta = 0`, where
    :math:`\Delta E_B = B\sin^2(\sqrt{b_{N_B,m+1}}At)`; the time is :math:`x^*/(A\sqrt{b})`.
    """
    _check_resonant(model)
    if model.n_charger != 1:
        raise ValueError(f"the N = 1 limit needs n_charger = 1, got {model.n_charger}")
    m = _checks.int_in_range("m", m, 0, model.n_battery - 1)
    cs, xs = c_star()
    w = abs(model.A) * math.sqrt(b_coefficient(model.n_battery, m + 1))
    if model.B <= 0 or w == 0:
        return 0.0, math.inf
    return cs * model.B * w, xs / w


def parallel_max_power(model: CentralSpinModel, n: int | None = None) -> float:
    r"""Incoherent battery: :math:`N_B` independent single-spin cells, each with its own charger.

    Each cell is the :math:`N_B = 1` model with ``n`` flipped charger spins (default ``N``), so
    :math:`P_{max} = N_B\, c^* K\Omega_n/2`; for ``n = N`` at resonance this is the paper's
    :math:`c^* B A\sqrt{N}N_B`.
    """
    check_model(model)
    cell = model.replace(n_battery=1)
    n = model.n_charger if n is None else n
    return model.n_battery * single_spin_max_power(cell, n)[0]
