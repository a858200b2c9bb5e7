r"""Initial states in the paper's Dicke convention, as QuTiP ``Qobj``.

:math:`|m, n\rangle = |m\rangle_B \otimes |n\rangle_C`: ``m`` flipped battery spins and ``n``
flipped charger spins (Eq. 7). ``m = 0`` is the empty (all-down) battery; ``n = N`` the fully
polarised (all-up) charger used throughout the paper. The map to ``qutip.jmat`` indices is
:func:`qutip_centralspin.models.operators.dicke_index`.

Storage
-------
Dicke kets (:func:`battery_dicke`, :func:`charger_dicke`, :func:`dicke_state`) are stored with
QuTiP's sparse ``Dia`` data layer: one stored entry at any size, so
``dicke_state(CentralSpinModel(1000, 10**6), 0, 1000)`` (:math:`10^9` dimensions) costs
microseconds and bytes, and :func:`~qutip_centralspin.max_power`,
:func:`~qutip_centralspin.max_energy` and ``charge`` (exact engine) read it without densifying
(:mod:`qutip_centralspin.models.statedata`). They are ordinary kets: QuTiP operations, ``.full()``
included, work as on dense ones (QuTiP converts as it needs; some operations, e.g. ``norm()``
in QuTiP 5.3, then cost the full dimension). Products of kets above
:data:`SPARSE_PRODUCT_SIZE` dimensions (:func:`product_state`, :func:`spin_coherent_charger`)
are stored sparse too, in memory of the order of their nonzero entries.
"""

from __future__ import annotations

import numpy as np
import qutip
import scipy.sparse

from .. import _checks
from ..resources import require
from .base import BatteryModel
from .operators import check_model, dicke_index
from .statedata import ket_entries, operator_entries

__all__ = [
    "battery_dicke",
    "charger_dicke",
    "dicke_state",
    "spin_coherent_charger",
    "product_state",
    "check_state",
    "parse_spec",
    "validate_state",
    "SPARSE_PRODUCT_SIZE",
]

#: Products of kets with more dimensions than this are stored sparse (``Dia``).
SPARSE_PRODUCT_SIZE = 1 << 16
#: The largest dimension a ``Qobj`` can index (QuTiP's index type).
QUTIP_MAX_DIMENSION = int(np.iinfo(qutip.core.data.base.idxint_dtype).max)


def battery_dicke(model: BatteryModel, m: int) -> qutip.Qobj:
    """Battery Dicke ket :math:`|m\\rangle_B` (``m`` flipped spins, ``0 <= m <= N_B``)."""
    check_model(model)
    m = _checks.int_in_range("m", m, 0, model.n_battery)
    return qutip.basis(model.n_battery + 1, dicke_index(model.n_battery, m), dtype="dia")


def charger_dicke(model: BatteryModel, n: int) -> qutip.Qobj:
    """Charger Dicke ket :math:`|n\\rangle_C` (``n`` flipped spins, ``0 <= n <= N``)."""
    check_model(model)
    n = _checks.int_in_range("n", n, 0, model.n_charger)
    return qutip.basis(model.n_charger + 1, dicke_index(model.n_charger, n), dtype="dia")


def dicke_state(model: BatteryModel, m: int, n: int, *, dm: bool = False) -> qutip.Qobj:
    r"""Product Dicke state :math:`|m, n\rangle` (Eq. 7) on dims ``[[N_B+1, N+1], ...]``.

    Parameters
    ----------
    model : BatteryModel
    m : int
        Flipped battery spins, ``0 <= m <= N_B`` (``0``: empty battery).
    n : int
        Flipped charger spins, ``0 <= n <= N`` (``N``: fully charged charger).
    dm : bool, default False
        Return the density matrix :math:`|m,n\rangle\langle m,n|` instead of the ket.

    Returns
    -------
    Qobj
        The ket, stored sparse (QuTiP ``Dia``: one entry, at any size; see the module notes),
        or its density matrix (``Dia``, memory of the order of the dimension).

    Examples
    --------
    >>> from qutip_centralspin import CentralSpinModel, dicke_state
    >>> model = CentralSpinModel(n_battery=2, n_charger=4)
    >>> psi0 = dicke_state(model, m=0, n=4)   # the paper's |0, N>
    >>> big = dicke_state(CentralSpinModel(1000, 10**6), 0, 1000)   # 10^9 dimensions, 1 entry
    >>> big.shape
    (1001001001, 1)
    """
    check_model(model)
    if model.shape > QUTIP_MAX_DIMENSION:
        raise ValueError(
            f"the state |m, n> of N_B={model.n_battery}, N={model.n_charger} has "
            f"{model.shape:.3g} dimensions, more than a Qobj can index ({QUTIP_MAX_DIMENSION}); "
            f"give the Dicke label ({m}, {n}) to max_power / max_energy / SectorEngine.evolve "
            "instead: it never builds the full space"
        )
    ket = qutip.tensor(battery_dicke(model, m), charger_dicke(model, n))
    if not dm:
        return ket
    require(
        3 * 16 * float(model.shape),
        f"the density matrix |m, n><m, n| of N_B={model.n_battery}, N={model.n_charger} (give "
        f"the ket, or the Dicke label ({m}, {n}) to max_power / SectorEngine.evolve instead)",
    )
    return ket.proj()


def spin_coherent_charger(
    model: BatteryModel, theta: float, phi: float = 0.0, *, m: int = 0, dm: bool = False
) -> qutip.Qobj:
    r"""Battery in :math:`|m\rangle_B`, charger in a spin-coherent state :math:`|\theta,\phi\rangle`.

    The charger state is ``qutip.spin_coherent(N/2, theta, phi)``: ``theta = 0`` is the fully
    polarised :math:`|n = N\rangle` (all up), ``theta = pi`` is :math:`|n = 0\rangle`. It is a
    superposition over every charger excitation number, so it spans many U(1) sectors.

    Parameters
    ----------
    theta : float
        Polar angle from the +z axis, in radians, ``0 <= theta <= pi``.
    phi : float, default 0
        Azimuthal angle in radians.
    m : int, default 0
        Flipped battery spins of the battery Dicke state.
    """
    check_model(model)
    theta = _checks.finite_real("theta", theta)
    if not 0 <= theta <= np.pi:
        raise ValueError(f"theta must be in [0, pi], got {theta!r}")
    phi = _checks.finite_real("phi", phi)
    charger = qutip.spin_coherent(model.n_charger / 2, theta, phi)
    ket = _ket_product(battery_dicke(model, m), charger)
    return ket.proj() if dm else ket


def product_state(battery: qutip.Qobj, charger: qutip.Qobj) -> qutip.Qobj:
    r"""Product initial state :math:`\rho_B \otimes \rho_C` (Eq. 8).

    Two kets give a ket (stored sparse above :data:`SPARSE_PRODUCT_SIZE` dimensions, in
    memory of the order of its nonzero entries); if either factor is a density matrix the other
    is promoted with ``ket2dm`` and a density matrix is returned.
    """
    for name, state in (("battery", battery), ("charger", charger)):
        if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
            raise TypeError(f"{name} must be a ket or density-matrix Qobj, got {state!r}")
    if battery.isket and charger.isket:
        return _ket_product(battery, charger)
    battery = battery.proj() if battery.isket else battery
    charger = charger.proj() if charger.isket else charger
    return qutip.tensor(battery, charger)


def _ket_product(battery: qutip.Qobj, charger: qutip.Qobj) -> qutip.Qobj:
    """``battery (x) charger``; above :data:`SPARSE_PRODUCT_SIZE` dimensions from ``Dia``
    factors (one stored diagonal per nonzero entry), so the product is ``Dia`` of that size."""
    if battery.shape[0] * charger.shape[0] > SPARSE_PRODUCT_SIZE:
        battery, charger = _as_dia(battery), _as_dia(charger)
    return qutip.tensor(battery, charger)


def _as_dia(ket: qutip.Qobj) -> qutip.Qobj:
    """The ket with the ``Dia`` data layer: one diagonal per nonzero entry, every nonzero kept
    (QuTiP's own conversion tidies entries below its ``atol`` away)."""
    if ket.dtype is qutip.data.Dia:
        return ket
    index, values = ket_entries(ket)
    data = scipy.sparse.dia_matrix((values[:, None], -index), shape=ket.shape)
    return qutip.Qobj(data, dims=ket.dims)


def check_state(model: BatteryModel, state, name: str = "state") -> qutip.Qobj:
    """Check that ``state`` is a ket or density matrix on the model's Dicke space.

    Raises
    ------
    TypeError
        If ``state`` is not a ``Qobj`` ket or operator.
    ValueError
        If its dims are not those of ``model`` (``[[N_B+1, N+1], ...]``).
    """
    if not isinstance(state, qutip.Qobj) or not (state.isket or state.isoper):
        hint = ""
        if isinstance(state, tuple) and len(state) == 2:
            hint = f"; for the Dicke product state |m0, n0> use dicke_state(model, *{state!r})"
        raise TypeError(
            f"{name} must be a ket or density-matrix Qobj, got {type(state).__name__}{hint}"
        )
    expected = model.dims[0]
    if state.dims[0] != expected or (state.isoper and state.dims[1] != expected):
        raise ValueError(
            f"{name} has dims {state.dims}, expected {model.ket_dims if state.isket else model.dims}"
            f" for N_B={model.n_battery}, N={model.n_charger}"
        )
    return validate_state(state, name)


#: A ket's norm, or a density matrix's trace, must be 1 within this.
NORM_ATOL = 1e-8
#: A density matrix must be Hermitian and positive semidefinite within this (absolute).
DENSITY_ATOL = 1e-8


def validate_state(
    state: qutip.Qobj, name: str = "state", *, norm_atol: float = NORM_ATOL
) -> qutip.Qobj:
    r"""Check that ``state`` is a physical ket or density matrix; return it.

    * every entry finite;
    * a ket: :math:`\lVert\psi\rVert = 1` within ``norm_atol`` (default :data:`NORM_ATOL`);
    * a density matrix: :math:`\mathrm{tr}\rho = 1` within :data:`NORM_ATOL`, Hermitian and
      positive semidefinite within :data:`DENSITY_ATOL` (eigenvalues on the occupied
      subspace, so a large space with a small occupied part stays cheap).

    Raises
    ------
    ValueError
        Saying what is wrong, by how much, and how to fix it (e.g. ``psi0.unit()``).
    """
    if state.isket:
        _, values = ket_entries(state)  # the stored nonzeros: never the full space
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} has non-finite (NaN or inf) entries")
        norm = float(np.linalg.norm(values))
        if abs(norm - 1) > norm_atol:
            raise ValueError(
                f"{name} must be normalised, |{name}| = 1 within {norm_atol:g}, got norm "
                f"{norm:.10g}; use {name}.unit()"
            )
        return state
    dense = _occupied_matrix(state, name)
    trace = complex(np.trace(dense))
    if abs(trace.imag) > norm_atol or abs(trace.real - 1) > norm_atol:
        raise ValueError(
            f"{name} must have trace 1 within {norm_atol:g}, got {trace:.10g}; use {name}.unit()"
        )
    asym = float(np.abs(dense - dense.conj().T).max()) if dense.size else 0.0
    if asym > DENSITY_ATOL:
        raise ValueError(
            f"{name} must be Hermitian within {DENSITY_ATOL:g}, got max |rho - rho^dagger| = "
            f"{asym:.3g}"
        )
    diag = np.real(np.diagonal(dense))
    occupied = np.flatnonzero(np.abs(diag) > DENSITY_ATOL**2)
    empty = np.setdiff1d(np.arange(diag.size), occupied)
    # PSD needs |rho_ij|^2 <= rho_ii rho_jj: on an empty level i a coherence c costs an
    # eigenvalue of about -|c|^2 / rho_jj, so |c|^2 <= DENSITY_ATOL rho_jj is the same tolerance
    if empty.size and occupied.size:
        excess = np.abs(dense[np.ix_(empty, occupied)]) ** 2 - DENSITY_ATOL * diag[occupied]
        if excess.max() > 0:
            raise ValueError(
                f"{name} must be positive semidefinite within {DENSITY_ATOL:g}: it has "
                "coherences on levels with zero population"
            )
    sub = dense[np.ix_(occupied, occupied)]
    lowest = float(np.linalg.eigvalsh((sub + sub.conj().T) / 2)[0]) if sub.size else 0.0
    if lowest < -DENSITY_ATOL:
        raise ValueError(
            f"{name} must be positive semidefinite within {DENSITY_ATOL:g}, got an eigenvalue "
            f"{lowest:.3g}"
        )
    return state


def _occupied_matrix(state: qutip.Qobj, name: str) -> np.ndarray:
    """The density matrix as a dense array: all of it if it is stored dense, else on the levels
    its nonzero entries touch (zero outside them: the checks of :func:`validate_state` give
    the same answer on both)."""
    if state.dtype is qutip.data.Dense:
        dense = state.data_as("ndarray")
        if not np.all(np.isfinite(dense)):
            raise ValueError(f"{name} has non-finite (NaN or inf) entries")
        return dense
    rows, cols, values = operator_entries(state)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name} has non-finite (NaN or inf) entries")
    support = np.union1d(rows, cols)
    require(16.0 * support.size * support.size, f"checking {name} on {support.size} levels")
    dense = np.zeros((support.size, support.size), dtype=complex)
    np.add.at(dense, (np.searchsorted(support, rows), np.searchsorted(support, cols)), values)
    return dense


def parse_spec(spec, grammar: dict[str, tuple[int, int]]) -> tuple[str, list[float]]:
    """Split a state spec ``"KIND"`` or ``"KIND:X[:Y...]"`` (the command-line form).

    The one grammar of every state spec (:func:`qutip_centralspin.models.chargers.charger_state`,
    :func:`qutip_centralspin.models.cavity.cavity_state`): a kind, then its numbers separated by
    ``:``. ``grammar`` maps each kind to the (fewest, most) numbers it takes.

    Returns
    -------
    kind : str
        Lower case.
    numbers : list of float

    Raises
    ------
    ValueError
        Naming the spec, the allowed kinds (or the count the kind takes) and what was given.

    Examples
    --------
    >>> parse_spec("coherent:0.5:1", {"coherent": (1, 2), "full": (0, 0)})
    ('coherent', [0.5, 1.0])
    """
    allowed = [k if hi == 0 else f"{k}:" + ":".join(["X"] * hi) for k, (_, hi) in grammar.items()]
    if not isinstance(spec, str):
        raise ValueError(f"spec must be a string, one of {allowed}, got {spec!r}")
    kind, *parts = spec.strip().lower().split(":")
    if kind not in grammar:
        raise ValueError(f"spec must be one of {allowed}, got {spec!r}")
    low, high = grammar[kind]
    if not low <= len(parts) <= high:
        raise ValueError(
            f"spec {spec!r}: {kind!r} takes {low} to {high} number(s), got {len(parts)}"
        )
    try:
        numbers = [float(x) for x in parts]
    except ValueError:
        raise ValueError(f"spec {spec!r}: {parts} are not numbers") from None
    return kind, numbers
