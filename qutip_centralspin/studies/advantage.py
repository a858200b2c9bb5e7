r"""Quantum advantage of collective charging, exact.

.. math::

    \Gamma(N_B, N) = \frac{P_{max}^{collective}(N_B, N)}{N_B\,P_{max}^{cell}(N)}

The numerator is the battery of :math:`N_B` spins charged collectively by one charger of
:math:`N` spins. The denominator is :math:`N_B` independent single-spin cells; identical cells
peak at the same time, so their summed power peaks at :math:`N_B P_{max}^{cell}`. Both maxima
are certified global maxima (:func:`qutip_centralspin.max_power`), so :math:`\Gamma` is exact,
not only in the Holstein-Primakoff (HP) limit. Both batteries start empty (:math:`m = 0`).

Parallel references (``reference=``)
------------------------------------
What one cell is differs between papers; the result states the one used
(:attr:`Advantage.definition`).

``"cells"`` (default)
    One battery spin with its *own* :math:`N`-spin charger (the :math:`N_B = 1` model at the
    same :math:`N`): the paper's single-spin battery of Eq. (15), :math:`N_B` times. The
    parallel batteries then use :math:`N_B N` charger spins in all.
``"split"``
    One battery spin with :math:`N/N_B` charger spins (the collective charger's spins shared
    out; needs :math:`N_B \mid N`): both sides use the same :math:`N_B + N` spins.
``"pairs"``
    One battery spin with one charger spin (:math:`N_B` two-spin Rabi cells; Yang et al.,
    arXiv:2411.01175), whose :math:`P_{max} = c^* B A` at resonance. The spin analogue of the
    Dicke battery's Rabi cell, one spin and one photon (Ferraro et al., PRL 120, 117702
    (2018); :func:`~qutip_centralspin.studies.dicke_advantage.dicke_advantage`).

Charger states (``charger=``)
-----------------------------
``"n=N_B"`` (default)
    One charger excitation per battery spin: the collective charger in :math:`|n = N_B\rangle`
    (the paper's Eq. 31 regime, Fig. 4), every cell's charger in :math:`|n = 1\rangle`.
``"full"``, ``"dicke:K"``, ``"coherent:THETA[:PHI]"``, ``"thermal:T"``, ``"gibbs:T"``
    The same :func:`~qutip_centralspin.models.chargers.charger_state` for the collective charger and
    for every cell's charger.

HP prediction and the exact limit
---------------------------------
For :math:`B = h`, :math:`\Delta = 0` and ``"n=N_B"``, Eq. (31) gives
:math:`P^{collective}_{max}\to c^*BA\sqrt N N_B^{3/2}` and Eq. (15)
:math:`P^{cell}_{max} = c^*BA\sqrt{b_{N,1}} = c^*BA\sqrt N`, so :math:`\Gamma\to\sqrt{N_B}` for
:math:`N\gg N_B` (:func:`hp_advantage`). The exact :math:`N\to\infty` limit is the
Tavis-Cummings battery with :math:`N_B` photons (:func:`advantage_limit`, through
:mod:`qutip_centralspin.models.cavity`): it still grows like :math:`\sqrt{N_B}`, but with a prefactor
below one -- the HP step that treats the battery spins as bosons (Eq. 22) overestimates
:math:`P^{collective}_{max}`, since at :math:`\tau` most battery spins are flipped. Measured
(``advantage_limit``): :math:`\Gamma_\infty/\sqrt{N_B}` = 0.865, 0.829, 0.815, 0.809, 0.804
for :math:`N_B` = 2, 4, 8, 16, 1024. For ``"full"`` (every charger fully polarised) and
``"cells"`` :math:`\Gamma` grows more slowly than :math:`\sqrt{N_B}` but does not stay at 1:
measured 1.48 at :math:`N_B = 12` (:math:`N = 100`) and 2.13 at :math:`N_B = 40`
(:math:`N = 1000`). For :math:`N_B = 1`, :math:`\Gamma = 1` with ``"cells"`` by construction.

Sweeps take a QuTiP ``map`` (``qutip.serial_map``, ``parallel_map``, ``loky_pmap``,
``mpi_pmap``), a ``checkpoint`` file and a ``progress_bar``, as in
:mod:`qutip_centralspin.studies.scaling`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import qutip

from .. import _checks
from ..maxima.certified import CERTIFIED_RTOL, max_power
from ..models.chargers import charger_state
from ..models.spin import CentralSpinModel
from .checkpoint import checkpoint_map

__all__ = [
    "ADVANTAGE_CHARGERS",
    "ADVANTAGE_REFERENCES",
    "Advantage",
    "AdvantageSweep",
    "quantum_advantage",
    "advantage_sweep",
    "hp_advantage",
    "advantage_limit",
    "cell_charger_size",
    "gamma_definition",
]

#: Charger choices of the advantage (besides every ``charger_state`` spec).
ADVANTAGE_CHARGERS = (
    "n=N_B",
    "full",
    "dicke:K",
    "coherent:THETA[:PHI]",
    "thermal:T",
    "gibbs:T",
)


#: The parallel references of Gamma (module notes) and what each cell is.
ADVANTAGE_REFERENCES = {
    "cells": "N_B cells of 1 battery spin, each with its own N-spin charger",
    "split": "N_B cells of 1 battery spin, each with N/N_B charger spins",
    "pairs": "N_B cells of 1 battery spin and 1 charger spin",
}


def _check_reference(reference: str) -> str:
    if reference not in ADVANTAGE_REFERENCES:
        raise ValueError(
            f"reference must be one of {tuple(ADVANTAGE_REFERENCES)}, got {reference!r}"
        )
    return reference


def cell_charger_size(reference: str, n_battery: int, n_charger: int) -> int:
    r"""Charger spins of one parallel cell: :math:`N` (``"cells"``), :math:`N/N_B`
    (``"split"``) or 1 (``"pairs"``).

    Raises
    ------
    ValueError
        If ``reference`` is unknown, or ``"split"`` and :math:`N_B` does not divide :math:`N`.
    """
    reference = _check_reference(reference)
    if reference == "pairs":
        return 1
    if reference == "split":
        if n_charger % n_battery:
            raise ValueError(
                f"reference 'split' needs n_charger divisible by n_battery, got n_charger = "
                f"{n_charger}, n_battery = {n_battery}"
            )
        return n_charger // n_battery
    return n_charger


def gamma_definition(reference: str, charger: str) -> str:
    """The definition of Gamma used: collective over which parallel cells, which charger state."""
    cell = ADVANTAGE_REFERENCES[_check_reference(reference)]
    states = (
        "collective charger |n=N_B>, each cell's charger |n=1>"
        if charger == "n=N_B"
        else f"every charger {charger!r}"
    )
    return (
        f"Gamma = P_max(collective: N_B battery spins, one N-spin charger) / "
        f"P_max(parallel: {cell}); {states}"
    )


def hp_advantage(n_battery):
    r"""HP-limit advantage :math:`\Gamma = \sqrt{N_B}` (:math:`N \gg N_B`, full charger, resonance)."""
    return np.sqrt(np.asarray(n_battery, dtype=float))


@dataclass(frozen=True)
class Advantage:
    r"""Collective against parallel charging at one :math:`(N_B, N)`.

    Attributes
    ----------
    n_battery, n_charger : int
    charger : str
        The charger state spec (:func:`qutip_centralspin.models.chargers.charger_state`).
    p_collective, t_collective : float
        Certified :math:`P_{max}` and :math:`\tau` of the collective battery.
    p_cell, t_cell : float
        Certified :math:`P_{max}` and :math:`\tau` of one single-spin cell.
    reference : str
        The parallel reference (``"cells"``, ``"split"``, ``"pairs"``; module notes).
    """

    n_battery: int
    n_charger: int
    charger: str
    p_collective: float
    t_collective: float
    p_cell: float
    t_cell: float
    reference: str = "cells"

    @property
    def definition(self) -> str:
        r"""The definition of :math:`\Gamma` this result uses, in words."""
        return gamma_definition(self.reference, self.charger)

    def __repr__(self) -> str:
        return (
            f"Advantage(n_battery={self.n_battery}, n_charger={self.n_charger}, "
            f"gamma={self.gamma!r}, reference={self.reference!r}, charger={self.charger!r}, "
            f"definition={self.definition!r})"
        )

    @property
    def p_parallel(self) -> float:
        r""":math:`N_B P^{cell}_{max}`: the :math:`N_B` independent cells together."""
        return self.n_battery * self.p_cell

    @property
    def gamma(self) -> float:
        r""":math:`\Gamma = P^{collective}_{max}/(N_B P^{cell}_{max})`."""
        return self.p_collective / self.p_parallel

    @property
    def hp_gamma(self) -> float:
        r""":math:`\sqrt{N_B}`, the HP prediction."""
        return float(np.sqrt(self.n_battery))


def _params(B, h, A, delta) -> dict:
    params = {"B": B, "h": h, "A": A, "delta": delta}
    CentralSpinModel(1, 1, **params)  # validate once, with named errors
    return params


def _initial_state(model: CentralSpinModel, charger: str):
    """The collective battery's initial state; for a cell (``n_battery = 1``) the cell's."""
    if charger == "n=N_B":
        if model.n_battery > model.n_charger:
            raise ValueError(
                f"charger 'n=N_B' needs n_battery <= n_charger, got {model.n_battery} > "
                f"{model.n_charger}"
            )
        return (0, model.n_battery)
    return charger_state(model, charger)


def _pmax(n_battery, n_charger, charger, params, rtol):
    """Certified (P_max, tau) of one model and charger spec. Picklable, top level."""
    model = CentralSpinModel(int(n_battery), int(n_charger), **params)
    best = max_power(model, _initial_state(model, charger), rtol=rtol)
    return best.value, best.time


def quantum_advantage(
    n_battery: int,
    n_charger: int,
    *,
    charger: str = "n=N_B",
    reference: str = "cells",
    B: float = 1.0,
    h: float = 1.0,
    A: float = 1.0,
    delta: float = 0.0,
    rtol: float = CERTIFIED_RTOL,
) -> Advantage:
    r"""Exact :math:`\Gamma(N_B, N)` for one battery size and charger size.

    Parameters
    ----------
    n_battery, n_charger : int
        :math:`N_B \ge 1`, :math:`N \ge 1`.
    charger : str, default "n=N_B"
        ``"n=N_B"``: collective :math:`|n = N_B\rangle`, cells :math:`|n = 1\rangle`; or a
        :func:`~qutip_centralspin.models.chargers.charger_state` spec used for every charger:
        ``"full"`` (:math:`|n = N\rangle`), ``"dicke:K"``, ``"coherent:THETA[:PHI]"``,
        ``"thermal:T"`` (symmetric multiplet), ``"gibbs:T"`` (physical charger spins).
        A cell's charger gets the same spec on its own size (``"n=N_B"``: :math:`|n=1\rangle`).
    reference : {"cells", "split", "pairs"}, default "cells"
        The parallel cell (module notes): one battery spin with its own :math:`N`-spin
        charger, with :math:`N/N_B` charger spins, or with one charger spin.
    B, h, A, delta : float
        Model parameters (:class:`CentralSpinModel`).
    rtol : float, default 1e-10
        Relative bracket of both certified maxima.

    Returns
    -------
    Advantage
        With the definition of :math:`\Gamma` used (:attr:`Advantage.definition`).

    Raises
    ------
    ValueError
        If ``reference`` is unknown, or ``"split"`` with :math:`N_B \nmid N`.

    Examples
    --------
    >>> from qutip_centralspin.studies.advantage import quantum_advantage
    >>> quantum_advantage(1, 10).gamma
    1.0
    >>> res = quantum_advantage(4, 400)
    >>> round(res.gamma, 3), res.hp_gamma      # HP: sqrt(N_B) = 2; exact N -> inf: 1.658
    (1.654, 2.0)
    """
    n_battery = _checks.positive_int("n_battery", n_battery)
    n_charger = _checks.positive_int("n_charger", n_charger)
    rtol = _checks.positive_real("rtol", rtol)
    params = _params(B, h, A, delta)
    n_cell = cell_charger_size(reference, n_battery, n_charger)
    p_col, t_col = _pmax(n_battery, n_charger, charger, params, rtol)
    p_cell, t_cell = _pmax(1, n_cell, charger, params, rtol)
    return Advantage(n_battery, n_charger, charger, p_col, t_col, p_cell, t_cell, reference)


@dataclass(frozen=True)
class AdvantageSweep:
    r""":math:`\Gamma` on a grid ``n_battery x n_charger``.

    Attributes
    ----------
    n_battery, n_charger : ndarray of int
    charger : str
    p_collective, t_collective : ndarray, shape ``(len(n_battery), len(n_charger))``
    p_cell, t_cell : ndarray, shape ``(len(n_battery), len(n_charger))``
        The cell of each grid point (with ``"split"`` it depends on both sizes).
    params : dict
        ``B, h, A, delta``.
    reference : str
        The parallel reference (module notes).
    """

    n_battery: np.ndarray
    n_charger: np.ndarray
    charger: str
    p_collective: np.ndarray
    t_collective: np.ndarray
    p_cell: np.ndarray
    t_cell: np.ndarray
    params: dict
    reference: str = "cells"

    @property
    def definition(self) -> str:
        r"""The definition of :math:`\Gamma` this sweep uses, in words."""
        return gamma_definition(self.reference, self.charger)

    def __repr__(self) -> str:
        return (
            f"AdvantageSweep(n_battery={self.n_battery.tolist()}, "
            f"n_charger={self.n_charger.tolist()}, reference={self.reference!r}, "
            f"charger={self.charger!r}, definition={self.definition!r})"
        )

    @property
    def p_parallel(self) -> np.ndarray:
        """:math:`N_B P^{cell}_{max}` on the grid."""
        return self.n_battery[:, None] * self.p_cell

    @property
    def gamma(self) -> np.ndarray:
        r""":math:`\Gamma` on the grid."""
        return self.p_collective / self.p_parallel

    @property
    def hp_gamma(self) -> np.ndarray:
        r""":math:`\sqrt{N_B}` (one value per battery size)."""
        return hp_advantage(self.n_battery)


def _sweep_task(item, n_chargers, charger, params, rtol):
    """``("cell", N)``: one cell's (P_max, tau); ``("row", N_B)``: the collective row."""
    kind, size = item
    if kind == "cell":
        return _pmax(1, size, charger, params, rtol)
    return [_pmax(size, n, charger, params, rtol) for n in n_chargers]


def advantage_sweep(
    n_battery,
    n_charger,
    *,
    charger: str = "n=N_B",
    reference: str = "cells",
    B: float = 1.0,
    h: float = 1.0,
    A: float = 1.0,
    delta: float = 0.0,
    rtol: float = CERTIFIED_RTOL,
    map=qutip.serial_map,  # noqa: A002 - QuTiP's name for it
    map_kw: dict | None = None,
    progress_bar=None,
    progress_kwargs: dict | None = None,
    checkpoint=None,
) -> AdvantageSweep:
    r"""Exact :math:`\Gamma(N_B, N)` on a grid, one ``map`` task per battery size and per cell.

    Parameters
    ----------
    n_battery, n_charger : iterable of int
    charger : str, default "n=N_B"
        As for :func:`quantum_advantage`.
    reference : {"cells", "split", "pairs"}, default "cells"
        As for :func:`quantum_advantage` (``"split"`` needs every :math:`N_B` to divide
        every :math:`N`).
    B, h, A, delta, rtol : float
        As for :func:`quantum_advantage`.
    map : callable
        ``qutip.serial_map`` (default), ``qutip.parallel_map``, ``qutip.loky_pmap`` or
        ``qutip.mpi_pmap``; ``map_kw`` is passed to it.
    progress_bar : {"text", "enhanced", "tqdm", "html", "", None}
        QuTiP's progress bar over the tasks, on stderr; ``progress_kwargs`` go to it.
    checkpoint : str or Path, optional
        A file that receives each finished task (a cell, or the row of one battery size);
        rerun with it, only the missing tasks are computed. Refused if it holds another
        sweep (other ``n_charger``, ``charger``, model parameters or ``rtol``). See
        :mod:`qutip_centralspin.studies.checkpoint`.

    Examples
    --------
    >>> from qutip_centralspin.studies.advantage import advantage_sweep
    >>> sweep = advantage_sweep([1, 2, 4], [50])
    >>> sweep.gamma.shape
    (3, 1)
    """
    sizes = [_checks.positive_int("n_battery", int(x)) for x in n_battery]
    chargers = [_checks.positive_int("n_charger", int(x)) for x in n_charger]
    rtol = _checks.positive_real("rtol", rtol)
    params = _params(B, h, A, delta)
    # check the spec once, with its own error message, before sending work out
    _initial_state(CentralSpinModel(1, min(chargers), **params), charger)
    cell_sizes = np.array(
        [[cell_charger_size(reference, nb, n) for n in chargers] for nb in sizes]
    )
    cell_list = sorted({int(x) for x in cell_sizes.ravel()})
    items = [("cell", n) for n in cell_list] + [("row", nb) for nb in sizes]
    done = checkpoint_map(
        _sweep_task,
        items,
        task_args=(tuple(chargers), charger, params, rtol),
        checkpoint=checkpoint,
        params={
            "sweep": "advantage_sweep",
            "n_charger": chargers,
            "charger": charger,
            "reference": reference,
            **{key: float(value) for key, value in params.items()},
            "rtol": rtol,
        },
        map=map,
        map_kw=map_kw,
        progress_bar=progress_bar,
        progress_kwargs=progress_kwargs,
    )
    cells, rows = done[: len(cell_list)], done[len(cell_list) :]
    grid = np.array(rows, dtype=float)  # (NB, N, 2)
    by_size = dict(zip(cell_list, np.array(cells, dtype=float), strict=True))
    cell = np.array([[by_size[int(x)] for x in row] for row in cell_sizes])  # (NB, N, 2)
    return AdvantageSweep(
        n_battery=np.array(sizes),
        n_charger=np.array(chargers),
        charger=charger,
        p_collective=grid[..., 0],
        t_collective=grid[..., 1],
        p_cell=cell[..., 0],
        t_cell=cell[..., 1],
        params=params,
        reference=reference,
    )


def advantage_limit(n_battery, *, B: float = 1.0) -> np.ndarray:
    r"""Exact :math:`\Gamma_\infty(N_B) = \lim_{N\to\infty}\Gamma(N_B, N)` for ``"n=N_B"`` at resonance.

    As :math:`N\to\infty` with :math:`A\sqrt N` fixed the spin charger becomes the cavity of
    Eq. (20) (:mod:`qutip_centralspin.models.cavity`) and :math:`|n = N_B\rangle` the Fock state with
    :math:`N_B` photons. At resonance (:math:`B = h = \omega`, :math:`\Delta = 0`) the
    dynamics depend on :math:`gt` only, so :math:`P_{max}\propto g = A\sqrt N` on both sides
    and

    .. math::

        \Gamma_\infty(N_B) = \frac{P^{TC}_{max}(N_B\ \text{spins}, N_B\ \text{photons}; g = 1)}
                                  {N_B\,c^* B}

    (certified maxima; the cell is :math:`c^*Bg`). Independent of ``A``.
    """
    from .cavity_limit import tavis_cummings_scaling

    B = _checks.finite_real("B", B)
    if B == 0:
        raise ValueError("B must be a finite real number != 0, got 0.0")
    sizes = [_checks.positive_int("n_battery", int(x)) for x in np.atleast_1d(n_battery)]
    return tavis_cummings_scaling(sizes, g=1.0, B=B).advantage
