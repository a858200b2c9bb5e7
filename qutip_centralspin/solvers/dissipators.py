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

__all__ = ["local_factors", "local_terms", "log_multiplicity"]


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


def local_factors(kind: str, rate: float, n_spins: int, J, m):
    r"""The terms of :math:`\sum_i D[\sqrt\gamma\,o_i]` as row factors of one ladder label.

    Every coefficient of :func:`local_terms` factorises over the ket and the bra: the
    :math:`-\frac12\{L^\dagger L,\cdot\}` part is :math:`h(m_a) + h(m_b)` and each jump is
    :math:`g(m_a)\,g(m_b)` (the ladder prefactors are :math:`\ge 0`, their square roots are
    folded into :math:`g`). Yields ``(None, 0, h)`` first, then ``(d_ladder, d_excitation, g)``
    per jump (``d_ladder``: ``0`` for :math:`J \to J`, ``+1`` for :math:`J - 1`, ``-1`` for
    :math:`J + 1`), evaluated at ``(J, m)`` of the *source* label. This is the one place the
    Chase-Geremia / Shammah et al. coefficients are written; the assembled generator
    (:func:`local_terms`) and the matrix-free one (:mod:`.matrix_free`) both take them from here.
    """
    half = n_spins / 2
    J = np.asarray(J, dtype=float)
    m = np.asarray(m, dtype=float)
    same = _sqrt0(_safe_div(half + 1, J * (J + 1)))
    down = _sqrt0(_safe_div(half + J + 1, J * (2 * J + 1)))  # J -> J - 1 (q grows)
    up = _sqrt0(_safe_div(half - J, (J + 1) * (2 * J + 1)))  # J -> J + 1
    if kind == "dephasing":
        s = np.sqrt(2 * rate)
        yield None, 0, np.full(np.broadcast(J, m).shape, -0.5 * rate * n_spins)
        yield 0, 0, s * same * m
        yield 1, 0, s * down * _sqrt0(J**2 - m**2)
        yield -1, 0, s * up * _sqrt0((J + 1) ** 2 - m**2)
        return
    s = np.sqrt(0.5 * rate)
    if kind == "pumping":  # decay with m -> -m
        yield None, 0, -0.5 * rate * (half - m)
        yield 0, 1, s * same * ladder_up(J, m)
        yield 1, 1, s * down * _sqrt0((J - m) * (J - m - 1))
        yield -1, 1, s * up * _sqrt0((J + m + 1) * (J + m + 2))
        return
    yield None, 0, -0.5 * rate * (half + m)
    yield 0, -1, s * same * ladder_down(J, m)
    yield 1, -1, s * down * _sqrt0((J + m) * (J + m - 1))
    yield -1, -1, s * up * _sqrt0((J - m + 1) * (J - m + 2))


def local_terms(kind: str, rate: float, n_spins: int, J, m_a, m_b):
    r"""Terms of :math:`\sum_i D[\sqrt\gamma\,o_i]` on the permutation-invariant blocks.

    Yields ``(None, 0, diagonal)`` for the :math:`-\frac12\{L^\dagger L,\cdot\}` part, then
    ``(d_ladder, d_excitation, value)`` for each jump :math:`\sum_i o_i X o_i^\dagger` from
    ladder :math:`J` to :math:`J` (``d_ladder = 0``), :math:`J-1` (``+1``: q grows) and
    :math:`J+1` (``-1``), one at a time (to bound the memory). The coefficients are those of
    Chase & Geremia (2008) / Shammah et al. (2018) as used by ``qutip.piqs``
    (:func:`local_factors` on the ket and the bra); local dephasing uses
    :math:`\sigma^z = 2s^z`, i.e. four times the PIQS ``dephasing`` rate.
    """
    for (dl, dx, fa), (_, _, fb) in zip(
        local_factors(kind, rate, n_spins, J, m_a),
        local_factors(kind, rate, n_spins, J, m_b),
        strict=True,
    ):
        yield dl, dx, (fa + fb if dl is None else fa * fb)
