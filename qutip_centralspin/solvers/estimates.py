r"""Estimates of what a run of :func:`~qutip_centralspin.charge` will need, allocating nothing.

Each solver path is modelled by its largest arrays (state vectors or matrices, generators,
stored states, per-time buffers). These are estimates, meant to be right within a small
factor; the limit they are checked against is that of :mod:`qutip_centralspin.resources`.

:func:`choose_method` is the one decision of ``method="auto"`` (exact within the limit, the
truncated Wigner estimate beyond), for :func:`~qutip_centralspin.charge` and for
:func:`~qutip_centralspin.max_power` / :func:`~qutip_centralspin.max_energy` alike.
"""

from __future__ import annotations

import numpy as np

from ..models.processes import as_processes, has_local
from ..models.spin import CentralSpinModel
from ..models.statedata import ket_entries, operator_entries
from ..resources import Estimate, _format, memory_limit
from .blocks import BlockSolver
from .sector import SectorEngine

__all__ = ["estimate", "choose_method", "METHODS"]

#: ``method`` of the entry points that have a truncated Wigner path.
METHODS: tuple[str, ...] = ("exact", "twa", "auto")

_COMPLEX, _FLOAT, _SPARSE = 16, 8, 28  # bytes per complex, float, complex CSR entry


def _occupied_sectors(model, psi0) -> np.ndarray:
    """Excitation numbers of the sectors ``psi0`` occupies (a Dicke label: one)."""
    if psi0 is None:
        return np.array([model.n_charger])
    if isinstance(psi0, tuple):
        return np.array([int(psi0[0]) + int(psi0[1])])
    if psi0.isket:
        index, _ = ket_entries(psi0)  # the nonzeros only: never the full space
    else:
        rows, cols, _ = operator_entries(psi0)
        index = rows[rows == cols]
    if index.size == 0:
        return np.arange(model.n_battery + model.n_charger + 1)
    return np.unique(SectorEngine(model).excitations_of(index))


def estimate(
    model,
    psi0,
    tlist,
    *,
    solver: str = "auto",
    processes=None,
    c_ops=None,
    e_ops=None,
    options=None,
) -> Estimate:
    r"""Estimate the peak memory of ``charge(model, psi0, tlist, ...)`` without running it.

    Parameters
    ----------
    model : CentralSpinModel
    psi0 : Qobj, tuple or None
        The initial state, a Dicke label ``(m, n)`` (allocates nothing), or ``None`` (a Dicke
        product state with the paper's full charger).
    tlist : array_like or int
        The times, or just their number.
    solver, processes, c_ops, e_ops, options
        As for :func:`~qutip_centralspin.charge`.

    Returns
    -------
    Estimate

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, dephasing
    >>> from qutip_centralspin.solvers.estimates import estimate
    >>> est = estimate(CentralSpinModel(1000, 1000), (0, 1000), 201, processes=[dephasing(0.1)])
    >>> est.solver, est.fits
    ('blocks', False)
    """
    options = dict(options or {})
    limit = memory_limit(options.get("max_memory"))
    n_times = int(tlist) if isinstance(tlist, (int, np.integer)) else len(tlist)
    procs = as_processes(processes)
    kind = getattr(model, "kind", None)
    if kind == "cavity" and procs and solver in ("auto", "blocks"):
        return _open_cavity(model, psi0, procs, n_times, limit, options)
    if kind != "spins":
        raise ValueError(
            f"estimate covers the spin charger (CentralSpinModel) and the open cavity charger; "
            f"got a {type(model).__name__} with solver={solver!r}"
            + ("" if procs else " and no processes")
        )
    store = bool(options.get("store_states")) or bool(e_ops)
    nb, nc = model.n_battery, model.n_charger
    d = float(nb + 1) * float(nc + 1)
    is_ket = psi0 is None or isinstance(psi0, tuple) or psi0.isket
    if solver == "auto":
        solver = "blocks" if procs else ("mesolve" if c_ops else "exact")
    details: dict[str, float] = {}
    if procs and solver in ("blocks", "piqs", "bruteforce", "mesolve"):
        size = _open(model, psi0, procs, solver, n_times, details, options)
    elif solver == "exact":
        s = min(nb, nc) + 1
        sectors = _occupied_sectors(model, psi0).size
        size = int(d)
        details["sectors"] = sectors * 3 * s * s * _FLOAT
        details["per-time buffers"] = 6 * s * n_times * _FLOAT + 4 * n_times * _FLOAT
        if store:
            details["stored states"] = 2 * n_times * (d if is_ket else d * d) * _COMPLEX
        if not is_ket:
            details["density matrix"] = d * d * _COMPLEX
    elif solver == "sesolve" or (solver == "mesolve" and not c_ops and is_ket):
        size = int(d)
        details["H"] = 12 * d * _SPARSE
        details["integrator"] = 20 * d * _COMPLEX
        if store:
            details["stored states"] = n_times * d * _COMPLEX
    else:  # mesolve on the full space
        size = int(d * d)
        details["Liouvillian"] = (12 + 4 * _count(c_ops)) * d * d * _SPARSE
        details["integrator"] = 20 * d * d * _COMPLEX
        if store:
            details["stored states"] = n_times * d * d * _COMPLEX
    details["results"] = 4 * n_times * _FLOAT * (1 + _count(e_ops))
    return Estimate(solver, float(sum(details.values())), limit, int(size), details)


def choose_method(
    model, psi0, tlist, method: str = "auto", *, solver: str = "auto", processes=None, options=None
) -> tuple[str, str]:
    r"""The path ``method`` takes, ``"exact"`` or ``"twa"``, and why (one sentence).

    ``"exact"`` and ``"twa"`` are taken as asked. ``"auto"``: the exact path when its
    :func:`estimate` fits the memory limit (:func:`qutip_centralspin.resources.memory_limit`:
    ``options["max_memory"]``, else the environment variable, else a fraction of the memory
    available), the truncated Wigner estimate beyond. The estimate covers the spin charger
    from a Dicke label ``(m, n)`` (the TWA's start): any other model or state stays exact.

    Parameters
    ----------
    model, psi0
        As for :func:`estimate`.
    tlist : array_like or int
        The times of the run, or their number (the maxima: a few).
    method : {"exact", "twa", "auto"}
    solver, processes
        As for :func:`~qutip_centralspin.charge` (the exact path estimated).
    options : dict, optional
        Only ``"max_memory"`` and ``"store_states"`` are read; the rest (the TWA's
        ``"ntraj"``, ``"seed"``, ...) is ignored here.

    Returns
    -------
    (str, str)
        ``("exact" | "twa", reason)``; the reason starts with the path's name.

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel
    >>> from qutip_centralspin.solvers.estimates import choose_method
    >>> choose_method(CentralSpinModel(4, 4), (0, 4), 2)[0]
    'exact'
    >>> choose_method(CentralSpinModel(4, 4), (0, 4), 2, options={"max_memory": 1000})[0]
    'twa'
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if method != "auto":
        return method, f"{method}: asked for (method={method!r})"
    if not isinstance(model, CentralSpinModel) or not isinstance(psi0, tuple):
        return "exact", "exact: the resource estimate covers the spin charger from a label only"
    options = options if isinstance(options, dict) else {}
    kept = {k: options[k] for k in ("max_memory", "store_states", "generator") if k in options}
    if not isinstance(tlist, (int, np.integer)):
        tlist = np.atleast_1d(np.asarray(tlist, dtype=float))
    est = estimate(
        model, psi0, tlist, solver=solver, processes=as_processes(processes), options=kept
    )
    if est.fits:
        return "exact", "exact: within the resource estimate's limit"
    return "twa", (
        f"twa: the exact path needs about {_format(est.memory)}, over the limit "
        f"{_format(est.limit)}"
    )


def _count(ops) -> int:
    """How many operators a QuTiP-style ``e_ops``/``c_ops`` argument holds."""
    if ops is None:
        return 0
    if isinstance(ops, (dict, list, tuple)):
        return len(ops)
    return 1


def _blocks_memory(solver, size: int, n_times: int, details: dict, options) -> None:
    """The block solver's generator (assembled or matrix-free) and its battery populations."""
    nb = solver.model.n_battery
    if solver.generator_kind(options, size) == "matrix-free":
        # ~7 vectors of the Chebyshev sweep and the per-row tables (measured: 54 bytes per
        # evolved real at N = 140, benchmarks/bench_matrix_free.py); size counts complex
        # entries, so the chiral half is not subtracted
        details["vectors (matrix-free generator)"] = 64.0 * size
    else:
        details["generator and assembly"] = 360.0 * size
    details["battery populations"] = n_times * 2.0 * (nb + 1) * (nb // 2 + 1) * _FLOAT


def _open_cavity(model, psi0, procs, n_times, limit, options) -> Estimate:
    """The open cavity charger on its block solver (the photon space the state reaches)."""
    from .cavity_blocks import CavityBlockSolver

    solver = CavityBlockSolver(model, procs)
    size = solver.size_bound(solver.initial_sectors((0, 0) if psi0 is None else psi0))
    details: dict[str, float] = {}
    _blocks_memory(solver, size, n_times, details, options)
    details["results"] = 4 * n_times * _FLOAT
    return Estimate("blocks", float(sum(details.values())), limit, int(size), details)


def _open(model, psi0, procs, solver, n_times, details, options) -> int:
    nb, nc = model.n_battery, model.n_charger
    local_b = has_local(procs, "battery")
    local_c = has_local(procs, "charger")
    nds = lambda n: (n // 2 + 1) * (n - n // 2 + 1)  # noqa: E731
    if solver == "blocks":
        blocks = BlockSolver(model, procs)
        size = blocks.size_bound(_occupied_sectors(model, psi0))
        _blocks_memory(blocks, size, n_times, details, options)
        return size
    if solver == "piqs":
        dim = float(nds(nb)) * float(nds(nc) if local_c else nc + 1)
    elif solver == "bruteforce":
        dim = 2.0**nb * (2.0**nc if local_c else nc + 1)
    else:  # symmetric mesolve
        dim = float(nb + 1) * float(nc + 1)
    details["Liouvillian"] = (20 + 4 * (nb if local_b else 1)) * dim * dim * _SPARSE
    details["integrator"] = 20 * dim * dim * _COMPLEX
    return int(dim * dim)
