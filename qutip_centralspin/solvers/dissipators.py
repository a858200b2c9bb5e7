r"""Local dissipators on the permutation-invariant (j-resolved Dicke) blocks.

:math:`\sum_i D[\sqrt\gamma\,o_i]` for :math:`o_i = \sigma^z_i, \sigma^-_i, \sigma^+_i` acting on
:math:`X_j \otimes 1_{d_j}/d_j` couples ladder :math:`j` to :math:`j` and :math:`j \pm 1`, with
the closed-form coefficients of Chase & Geremia, PRA 78, 052101 (2008) and Shammah *et al.*,
PRA 98, 063815 (2018) (the ones ``qutip.piqs`` uses), written here in double precision.
Local dephasing uses :math:`\sigma^z = 2s^z` (four times the PIQS ``dephasing`` rate; the rate
convention of :mod:`qutip_centralspin.models.processes`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from ..models.operators import ladder_down, ladder_up

__all__ = ["local_terms", "log_multiplicity"]


def _sqrt0(x):
    return np.sqrt(np.maximum(x, 0.0))


def log_multiplicity(n_spins: int, q: np.ndarray) -> np.ndarray:
    """log of d_j = C(n, q) - C(n, q-1) = C(n, q) (n - 2q + 1)/(n - q + 1), j = n/2 - q."""
    q = np.asarray(q, dtype=float)
    return (
        gammaln(n_spins + 1)
        - gammaln(q + 1)
        - gammaln(n_spins - q + 1)
        + np.log(n_spins - 2 * q + 1)
        - np.log(n_spins - q + 1)
    )


def _safe_div(num, den):
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out


def local_terms(kind: str, rate: float, n_spins: int, J, m_a, m_b):
    r"""Terms of :math:`\sum_i D[\sqrt\gamma\,o_i]` on the permutation-invariant blocks.

    Yields ``(None, 0, diagonal)`` for the :math:`-\frac12\{L^\dagger L,\cdot\}` part, then
    ``(d_ladder, d_excitation, value)`` for each jump :math:`\sum_i o_i X o_i^\dagger` from
    ladder :math:`J` to :math:`J` (``d_ladder = 0``), :math:`J-1` (``+1``: q grows) and
    :math:`J+1` (``-1``), one at a time (to bound the memory). The coefficients are those of
    Chase & Geremia (2008) / Shammah et al. (2018) as used by ``qutip.piqs``; local dephasing
    uses :math:`\sigma^z = 2s^z`, i.e. four times the PIQS ``dephasing`` rate.
    """
    half = n_spins / 2
    if kind == "dephasing":
        yield None, 0, np.full(J.shape, -rate * n_spins)
        yield 0, 0, 2 * rate * _safe_div(half + 1, J * (J + 1)) * m_a * m_b
        yield (
            1,
            0,
            (
                2
                * rate
                * _safe_div(half + J + 1, J * (2 * J + 1))
                * _sqrt0(J**2 - m_a**2)
                * _sqrt0(J**2 - m_b**2)
            ),
        )
        yield (
            -1,
            0,
            (
                2
                * rate
                * _safe_div(half - J, (J + 1) * (2 * J + 1))
                * _sqrt0((J + 1) ** 2 - m_a**2)
                * _sqrt0((J + 1) ** 2 - m_b**2)
            ),
        )
    elif kind == "decay":
        yield None, 0, -0.5 * rate * ((half + m_a) + (half + m_b))
        yield (
            0,
            -1,
            (
                0.5
                * rate
                * _safe_div(half + 1, J * (J + 1))
                * ladder_down(J, m_a)
                * ladder_down(J, m_b)
            ),
        )
        yield (
            1,
            -1,
            (
                0.5
                * rate
                * _safe_div(half + J + 1, J * (2 * J + 1))
                * _sqrt0((J + m_a) * (J + m_a - 1))
                * _sqrt0((J + m_b) * (J + m_b - 1))
            ),
        )
        yield (
            -1,
            -1,
            (
                0.5
                * rate
                * _safe_div(half - J, (J + 1) * (2 * J + 1))
                * _sqrt0((J - m_a + 1) * (J - m_a + 2))
                * _sqrt0((J - m_b + 1) * (J - m_b + 2))
            ),
        )
    else:  # pumping: decay with m -> -m
        yield None, 0, -0.5 * rate * ((half - m_a) + (half - m_b))
        yield (
            0,
            1,
            (
                0.5
                * rate
                * _safe_div(half + 1, J * (J + 1))
                * ladder_up(J, m_a)
                * ladder_up(J, m_b)
            ),
        )
        yield (
            1,
            1,
            (
                0.5
                * rate
                * _safe_div(half + J + 1, J * (2 * J + 1))
                * _sqrt0((J - m_a) * (J - m_a - 1))
                * _sqrt0((J - m_b) * (J - m_b - 1))
            ),
        )
        yield (
            -1,
            1,
            (
                0.5
                * rate
                * _safe_div(half - J, (J + 1) * (2 * J + 1))
                * _sqrt0((J + m_a + 1) * (J + m_a + 2))
                * _sqrt0((J + m_b + 1) * (J + m_b + 2))
            ),
        )
