r"""Reference paths for open charging: PIQS (x) charger, brute-force qubits, symmetric mesolve.

Every path integrates the master equation of :mod:`qutip_centralspin.models.processes` with
``qutip.mesolve`` in a different basis, so the fast block solver
(:mod:`qutip_centralspin.solvers.blocks`) can be checked against independent routes:

* :func:`piqs_mesolve` -- the battery in the j-resolved Dicke basis of ``qutip.piqs`` (its
  Liouvillian from ``qutip.piqs.Dicke``), tensored with the charger (symmetric
  :math:`N+1` levels, or also ``qutip.piqs`` when the charger has local processes).
  ``qutip.piqs`` computes its coefficients in single precision, so expect agreement at the
  :math:`10^{-7}` level only. Rates map as ``Dicke(dephasing=4*gamma, emission=gamma,
  pumping=gamma, collective_*=gamma)`` (PIQS dephasing multiplies :math:`\sigma^z/2`).
* :func:`bruteforce_mesolve` -- :math:`2^{N_B}` battery qubits (:math:`N_B \le`
  :data:`MAX_BRUTEFORCE_SPINS`) with one Lindblad operator per spin, tensored with the
  symmetric charger (or :math:`2^N` charger qubits when the charger has local processes).
* :func:`symmetric_mesolve` -- collective processes only: ``qutip.mesolve`` on the symmetric
  :math:`(N_B+1)(N+1)` space with the collapse operators of
  :func:`qutip_centralspin.models.processes.collective_c_ops`.

All return a :class:`~qutip_centralspin.results.ChargingResult` whose ``states`` (with
``options={"store_states": True}``) and ``e_ops`` refer to the reduced battery state
:math:`\rho_B(t)` in the basis of every open path, the ``qutip.piqs`` Dicke basis
(:mod:`qutip_centralspin.models.basis`; the brute-force qubit state is projected on it). ``options``
go to ``qutip.mesolve``; unless given, ``atol`` and ``rtol`` default to
:data:`REFERENCE_ATOL` and :data:`REFERENCE_RTOL`. As on every path, ``psi0`` is the state at
``tlist[0]`` (:mod:`qutip_centralspin.results`).
"""

from __future__ import annotations

import math
import time

import numpy as np
import qutip
import scipy.linalg
from qutip import piqs

from .. import _checks
from ..expectation import evaluate_e_ops, normalize_e_ops
from ..models.basis import battery_dims, embed_symmetric
from ..models.operators import battery_hamiltonian, check_model, hamiltonian, hamiltonian_from
from ..models.processes import OPERATOR, PIQS_RATE, as_processes, collective_c_ops, has_local
from ..models.protocols import switched_qobjevo
from ..models.spin import CentralSpinModel
from ..models.states import check_state
from ..results import ChargingResult
from .qutip_paths import MESOLVE_OPTIONS, integrator_errors

__all__ = [
    "piqs_mesolve",
    "bruteforce_mesolve",
    "bruteforce_thermal_charger",
    "symmetric_mesolve",
    "piqs_rates",
    "dicke_projection",
    "MAX_BRUTEFORCE_SPINS",
]

#: Largest number of spins of a subsystem modelled as qubits by :func:`bruteforce_mesolve`.
MAX_BRUTEFORCE_SPINS = 5
#: Default absolute / relative tolerances of the reference ``mesolve`` runs (tight enough for
#: comparisons at 1e-8 and below).
REFERENCE_ATOL = 1e-12
REFERENCE_RTOL = 1e-10
#: Default step budget of the reference integrations (tight tolerances need many steps).
REFERENCE_NSTEPS = 1_000_000


def piqs_rates(processes, target: str) -> dict[str, float]:
    r"""Keyword arguments of ``qutip.piqs.Dicke`` for the processes on ``target``.

    Local dephasing :math:`\sqrt\gamma\,\sigma^z_i` is PIQS ``dephasing = 4 gamma`` (PIQS uses
    :math:`\sigma^z_i/2`); every other rate maps one to one.
    """
    out: dict[str, float] = {}
    for proc in as_processes(processes):
        if proc.target != target or proc.rate == 0:
            continue
        name, factor = PIQS_RATE[proc.kind]
        if not proc.is_local:
            name, factor = "collective_" + name, 1.0
        out[name] = out.get(name, 0.0) + factor * proc.rate
    return out


def _mesolve_options(options) -> dict:
    opts = {"atol": REFERENCE_ATOL, "rtol": REFERENCE_RTOL, "nsteps": REFERENCE_NSTEPS}
    opts.update(options)
    for key in ("store_states", "store_final_state", "max_memory"):
        opts.pop(key, None)
    return opts


class _Recorder:
    """``e_ops`` callback: battery energy, and (optionally) the reduced battery state."""

    def __init__(self, h_b: qutip.Qobj, reduce=None):
        self.h_b = h_b
        self.reduce = reduce
        self.states: list[qutip.Qobj] = []

    def __call__(self, t, state):
        if self.reduce is not None:
            self.states.append(self.reduce(state))
        return float(np.real(qutip.expect(self.h_b, state)))


def _run(model, times, solver, L, rho0, h_b, reduce, e_ops, options, start) -> ChargingResult:
    """Integrate with ``qutip.mesolve`` from ``tlist[0]`` and assemble the result."""
    options = _checks.solver_options(solver, options, (*MESOLVE_OPTIONS, "max_memory"))
    user_ops = normalize_e_ops(e_ops)
    store = bool(options.get("store_states"))
    final = bool(options.get("store_final_state"))
    recorder = _Recorder(h_b, reduce if (store or final or user_ops) else None)
    with integrator_errors(solver, options):
        res = qutip.mesolve(L, rho0, times, e_ops=[recorder], options=_mesolve_options(options))
    e0 = float(np.real(qutip.expect(h_b, rho0)))
    L0 = L(times[0]) if isinstance(L, qutip.QobjEvo) else L
    drho = qutip.vector_to_operator(L0 * qutip.operator_to_vector(rho0))
    e_data = evaluate_e_ops(user_ops, times, recorder.states) if user_ops else {}
    return ChargingResult.from_energy(
        model,
        times,
        np.asarray(res.expect[0], dtype=float),
        initial_energy=e0,
        initial_rate=float(np.real(qutip.expect(h_b, drho))),
        solver=solver,
        states=recorder.states,
        store_states=store,
        store_final_state=final,
        e_data=e_data,
        stats={**res.stats, "solver": solver, "run time": time.perf_counter() - start},
    )


# ------------------------------------------------------------------------------------------
# PIQS (x) charger
# ------------------------------------------------------------------------------------------
def _embed_top_block(n_spins: int) -> np.ndarray:
    """Isometry from the symmetric N+1 levels into the PIQS basis (its first block)."""
    nds = piqs.num_dicke_states(n_spins)
    return np.eye(nds, n_spins + 1)


def piqs_mesolve(
    model: CentralSpinModel, psi0, tlist, processes, *, e_ops=None, options=None
) -> ChargingResult:
    r"""Reference: ``qutip.piqs`` battery Liouvillian (x) charger, integrated by ``mesolve``.

    The battery lives in the PIQS Dicke basis (``nds`` states); its dissipator is
    ``qutip.piqs.Dicke(N_B, **piqs_rates(processes, "battery")).lindbladian()``. The charger
    is symmetric (``N + 1`` levels, collective processes as exact Lindblad dissipators) or,
    with local charger processes, in its own PIQS basis. :math:`H` uses
    ``qutip.piqs.jspin``. Cost: a Liouvillian of dimension :math:`(n_{ds}(N+1))^2`.

    Parameters
    ----------
    model, psi0, tlist
        As for :func:`qutip_centralspin.charge` (``psi0`` on the symmetric space).
    processes : Process or list of Process
    e_ops : optional
        Evaluated on :math:`\rho_B(t)` (see module notes).
    options : dict, optional
        ``store_states`` (keep :math:`\rho_B(t)`) and ``qutip.mesolve`` options.
    """
    check_model(model)
    psi0 = check_state(model, psi0, "psi0")
    times = _checks.time_list("tlist", tlist)
    procs = as_processes(processes)
    start = time.perf_counter()
    nb, nc = model.n_battery, model.n_charger
    local_c = has_local(procs, "charger")

    nds_b = piqs.num_dicke_states(nb)
    sz_b, sp_b, sm_b = (piqs.jspin(nb, op) for op in ("z", "+", "-"))
    lind_b = piqs.Dicke(nb, **piqs_rates(procs, "battery")).lindbladian()
    if local_c:
        dim_c = piqs.num_dicke_states(nc)
        sz_c, sp_c, sm_c = (piqs.jspin(nc, op) for op in ("z", "+", "-"))
        lind_c = piqs.Dicke(nc, **piqs_rates(procs, "charger")).lindbladian()
        embed_c = _embed_top_block(nc)
    else:
        dim_c = nc + 1
        sz_c, sp_c, sm_c = (qutip.jmat(nc / 2, op) for op in ("z", "+", "-"))
        lind_c = 0 * qutip.spre(qutip.qeye(dim_c))
        for proc in procs:
            if proc.target == "charger" and proc.rate > 0:
                op = {"z": sz_c, "-": sm_c, "+": sp_c}[OPERATOR[proc.kind]]
                lind_c = lind_c + qutip.lindblad_dissipator(math.sqrt(proc.rate) * op)
        embed_c = np.eye(dim_c)
    ib, ic = qutip.qeye(nds_b), qutip.qeye(dim_c)
    H = hamiltonian_from(
        model,
        [qutip.tensor(op, ic) for op in (sz_b, sp_b, sm_b)],
        [qutip.tensor(ib, op) for op in (sz_c, sp_c, sm_c)],
    )
    lind_b = qutip.Qobj(lind_b.data, dims=[[[nds_b], [nds_b]], [[nds_b], [nds_b]]])
    lind_c = qutip.Qobj(lind_c.data, dims=[[[dim_c], [dim_c]], [[dim_c], [dim_c]]])
    L = (
        qutip.liouvillian(H)
        + qutip.super_tensor(lind_b, qutip.to_super(ic))
        + qutip.super_tensor(qutip.to_super(ib), lind_c)
    )
    iso = qutip.Qobj(
        np.kron(_embed_top_block(nb), embed_c), dims=[[nds_b, dim_c], [nb + 1, nc + 1]]
    )
    rho_sym = psi0.proj() if psi0.isket else psi0
    rho0 = iso @ rho_sym @ iso.dag()

    def reduce(state):
        rho_b = state.ptrace(0)  # already the PIQS basis of the battery
        return qutip.Qobj(rho_b.full(), dims=[[nds_b], [nds_b]])

    h_b = model.B * qutip.tensor(sz_b, ic)
    return _run(model, times, "piqs", L, rho0, h_b, reduce, e_ops, options, start)


# ------------------------------------------------------------------------------------------
# brute force: one qubit per spin
# ------------------------------------------------------------------------------------------
def _qubit_ops(n_spins: int):
    """sigma^z_i, sigma^-_i, sigma^+_i on n qubits (qutip: basis(2, 0) is spin up)."""
    eye = [qutip.qeye(2)] * n_spins

    def on(op, i):
        ops = list(eye)
        ops[i] = op
        return qutip.tensor(ops)

    return (
        [on(qutip.sigmaz(), i) for i in range(n_spins)],
        [on(qutip.sigmam(), i) for i in range(n_spins)],
        [on(qutip.sigmap(), i) for i in range(n_spins)],
    )


def _symmetric_isometry(n_spins: int, sm: qutip.Qobj) -> np.ndarray:
    """Columns: Dicke states |j, m> (jmat order, m = j, j-1, ...) of n qubits, via S^- chains."""
    dim = 2**n_spins
    j = n_spins / 2
    cols = np.zeros((dim, n_spins + 1))
    cols[0, 0] = 1.0  # all spins up
    lower = sm.full().real
    for i in range(n_spins):
        m = j - i
        cols[:, i + 1] = lower @ cols[:, i] / math.sqrt((j + m) * (j - m + 1))
    return cols


def dicke_projection(n_spins: int) -> list[tuple[float, np.ndarray]]:
    r"""Orthonormal j-resolved Dicke vectors of ``n_spins`` qubits, ladder by ladder.

    Returns ``[(j, V_j), ...]`` for :math:`j = n/2, n/2 - 1, \dots` where ``V_j`` has shape
    ``(2**n, 2j + 1, d_j)``: ``V_j[:, i, alpha]`` is :math:`|j, m = j - i, \alpha\rangle`, built
    from an orthonormal basis of highest-weight states by repeated :math:`S^-` (the phase
    convention of ``qutip.jmat`` and ``qutip.piqs.jspin``).
    """
    _, sm, sp_ = _qubit_ops(n_spins)
    Sm = sum(op.full().real for op in sm)
    Sp = sum(op.full().real for op in sp_)
    ups = np.array([n_spins - bin(i).count("1") for i in range(2**n_spins)])  # bit 1 = down
    out = []
    for q in range(n_spins // 2 + 1):
        j = n_spins / 2 - q
        sub = np.nonzero(ups == n_spins - q)[0]  # states with m = j
        raise_ = Sp[:, sub]
        null = scipy.linalg.null_space(raise_)
        top = np.zeros((2**n_spins, null.shape[1]))
        top[sub] = null
        size = int(round(2 * j)) + 1
        V = np.zeros((2**n_spins, size, null.shape[1]))
        V[:, 0] = top
        for i in range(size - 1):
            m = j - i
            V[:, i + 1] = Sm @ V[:, i] / math.sqrt((j + m) * (j - m + 1))
        out.append((j, V))
    return out


def _to_piqs_basis(rho_b: np.ndarray, basis, dim_b: int) -> qutip.Qobj:
    """Reduced qubit state -> PIQS Dicke-basis matrix (multiplicity traced out)."""
    blocks = []
    for _, V in basis:
        # P_j[m, m'] = sum_alpha <j m alpha| rho |j m' alpha>
        blocks.append(np.einsum("xia,xy,yka->ik", V.conj(), rho_b, V))
    full = scipy.linalg.block_diag(*blocks)[:dim_b, :dim_b]
    return qutip.Qobj(full, dims=[[dim_b], [dim_b]])


def bruteforce_mesolve(
    model: CentralSpinModel, psi0, tlist, processes, *, e_ops=None, options=None, coupling=None
) -> ChargingResult:
    r"""Reference: one qubit per battery spin, ``qutip.mesolve`` with one :math:`L` per spin.

    The battery is :math:`2^{N_B}` qubits with :math:`\mathbf S = \sum_i \boldsymbol\sigma_i/2`;
    local processes are the :math:`N_B` operators :math:`\sqrt\gamma\,\sigma^{z,-,+}_i`
    (``qutip.sigmaz``, ``sigmam``, ``sigmap``). The charger is symmetric, or :math:`2^N` qubits
    when it has local processes. The initial state is embedded with the Dicke isometry.
    ``coupling`` (:mod:`qutip_centralspin.models.protocols`) switches :math:`H_I` with
    :math:`\lambda(t)` (a ``QobjEvo`` Liouvillian).

    Raises
    ------
    ValueError
        If a subsystem modelled as qubits has more than :data:`MAX_BRUTEFORCE_SPINS` spins.
    """
    check_model(model)
    psi0 = check_state(model, psi0, "psi0")
    times = _checks.time_list("tlist", tlist)
    procs = as_processes(processes)
    start = time.perf_counter()
    nb, nc = model.n_battery, model.n_charger
    if nb > MAX_BRUTEFORCE_SPINS:
        raise ValueError(
            f"n_battery must be <= {MAX_BRUTEFORCE_SPINS} for the brute-force reference "
            f"(2^N_B qubits), got {nb}"
        )
    local_c = has_local(procs, "charger")
    if local_c and nc > MAX_BRUTEFORCE_SPINS:
        raise ValueError(
            f"n_charger must be <= {MAX_BRUTEFORCE_SPINS} for the brute-force reference with "
            f"local charger processes (2^N qubits), got {nc}"
        )

    zb, mb, pb = _qubit_ops(nb)
    Sz_b, Sm_b, Sp_b = sum(zb) / 2, sum(mb), sum(pb)
    iso_b = _symmetric_isometry(nb, Sm_b)
    if local_c:
        zc, mc, pc = _qubit_ops(nc)
        Sz_c, Sm_c, Sp_c = sum(zc) / 2, sum(mc), sum(pc)
        iso_c = _symmetric_isometry(nc, Sm_c)
    else:
        Sz_c, Sm_c, Sp_c = (qutip.jmat(nc / 2, op) for op in ("z", "-", "+"))
        zc = mc = pc = None
        iso_c = np.eye(nc + 1)
    ib, ic = qutip.qeye(Sz_b.dims[0]), qutip.qeye(Sz_c.dims[0])
    battery_ops = [qutip.tensor(op, ic) for op in (Sz_b, Sp_b, Sm_b)]
    charger_ops = [qutip.tensor(ib, op) for op in (Sz_c, Sp_c, Sm_c)]
    H = hamiltonian_from(model, battery_ops, charger_ops)
    if coupling is not None:
        H0 = hamiltonian_from(model.replace(A=0.0, delta=0.0), battery_ops, charger_ops)
        H = switched_qobjevo(H, H0, coupling, times)
    c_ops = []
    for proc in procs:
        if proc.rate == 0:
            continue
        root = math.sqrt(proc.rate)
        index = ("z", "-", "+").index(OPERATOR[proc.kind])
        if proc.target == "battery":
            if proc.is_local:
                c_ops += [root * qutip.tensor(op, ic) for op in (zb, mb, pb)[index]]
            else:
                c_ops.append(root * qutip.tensor((Sz_b, Sm_b, Sp_b)[index], ic))
        else:
            if proc.is_local:
                c_ops += [root * qutip.tensor(ib, op) for op in (zc, mc, pc)[index]]
            else:
                c_ops.append(root * qutip.tensor(ib, (Sz_c, Sm_c, Sp_c)[index]))
    iso = qutip.Qobj(np.kron(iso_b, iso_c), dims=[H.dims[0], [nb + 1, nc + 1]])
    rho_sym = psi0.proj() if psi0.isket else psi0
    rho0 = iso @ rho_sym @ iso.dag()
    L = qutip.liouvillian(H, c_ops)

    basis = dicke_projection(nb)

    def reduce(state):
        rho_b = state.ptrace(list(range(len(Sz_b.dims[0])))).full()
        return _to_piqs_basis(rho_b, basis, battery_dims(nb))

    h_b = model.B * qutip.tensor(Sz_b, ic)
    return _run(model, times, "bruteforce", L, rho0, h_b, reduce, e_ops, options, start)


def bruteforce_thermal_charger(
    model: CentralSpinModel, T: float, tlist, *, m: int = 0, e_ops=None, options=None
) -> ChargingResult:
    r"""Reference: battery Dicke :math:`|m\rangle` (x) the Gibbs state of :math:`N` charger qubits.

    Every spin is a qubit (:math:`2^{N_B + N}` levels, :math:`N_B, N \le`
    :data:`MAX_BRUTEFORCE_SPINS`): the charger starts in
    :math:`\bigotimes_{i=1}^N e^{-h\sigma^z_i/2T}/z` (``qutip.tensor`` of one-qubit states),
    the battery in its Dicke state embedded with the Dicke isometry, and ``qutip.mesolve``
    (no collapse operators) evolves :math:`H` built from the qubit spin sums. The independent
    route for :func:`qutip_centralspin.models.thermal.physical_thermal_charger`.

    Raises
    ------
    ValueError
        If ``N_B`` or ``N`` exceeds :data:`MAX_BRUTEFORCE_SPINS`, or ``T <= 0``.
    """
    check_model(model)
    times = _checks.time_list("tlist", tlist)
    T = _checks.positive_real("T", T)
    nb, nc = model.n_battery, model.n_charger
    m = _checks.int_in_range("m", m, 0, nb)
    for name, n in (("n_battery", nb), ("n_charger", nc)):
        if n > MAX_BRUTEFORCE_SPINS:
            raise ValueError(
                f"{name} must be <= {MAX_BRUTEFORCE_SPINS} for the brute-force thermal "
                f"reference (2^N qubits), got {n}"
            )
    start = time.perf_counter()
    zb, mb, pb = _qubit_ops(nb)
    zc, mc, pc = _qubit_ops(nc)
    Sz_b, Sm_b, Sp_b = sum(zb) / 2, sum(mb), sum(pb)
    Sz_c, Sm_c, Sp_c = sum(zc) / 2, sum(mc), sum(pc)
    ib, ic = qutip.qeye(Sz_b.dims[0]), qutip.qeye(Sz_c.dims[0])
    H = hamiltonian_from(
        model,
        [qutip.tensor(op, ic) for op in (Sz_b, Sp_b, Sm_b)],
        [qutip.tensor(ib, op) for op in (Sz_c, Sp_c, Sm_c)],
    )
    # one charger qubit: basis(2, 0) is up, energy +h/2
    x = model.h / (2 * T)
    up, down = math.exp(-x - abs(x)), math.exp(x - abs(x))
    qubit = qutip.Qobj(np.diag([up, down]) / (up + down))
    charger = qutip.tensor([qubit] * nc)
    dicke = _symmetric_isometry(nb, Sm_b)[:, nb - m]  # jmat order: index N_B - m
    battery = qutip.Qobj(np.outer(dicke, dicke), dims=Sz_b.dims)
    rho0 = qutip.tensor(battery, charger)
    basis = dicke_projection(nb)

    def reduce(state):
        rho_b = state.ptrace(list(range(nb))).full()
        return _to_piqs_basis(rho_b, basis, battery_dims(nb))

    h_b = model.B * qutip.tensor(Sz_b, ic)
    L = qutip.liouvillian(H)
    return _run(model, times, "bruteforce", L, rho0, h_b, reduce, e_ops, options, start)


# ------------------------------------------------------------------------------------------
# collective processes: plain mesolve on the symmetric space
# ------------------------------------------------------------------------------------------
def symmetric_mesolve(
    model: CentralSpinModel, psi0, tlist, processes, *, e_ops=None, options=None
) -> ChargingResult:
    r"""Collective processes only: ``qutip.mesolve`` on the symmetric :math:`(N_B+1)(N+1)` space.

    The collapse operators are :func:`~qutip_centralspin.models.processes.collective_c_ops`;
    :math:`\rho_B(t)` is ``state.ptrace(0)`` written in the PIQS basis (its first block).

    Raises
    ------
    ValueError
        If a process is local.
    """
    check_model(model)
    psi0 = check_state(model, psi0, "psi0")
    times = _checks.time_list("tlist", tlist)
    start = time.perf_counter()
    c_ops = collective_c_ops(model, processes)
    rho0 = psi0.proj() if psi0.isket else psi0
    L = qutip.liouvillian(hamiltonian(model), c_ops)

    def reduce(state):
        return embed_symmetric(state.ptrace(0))

    h_b = battery_hamiltonian(model)
    return _run(model, times, "mesolve", L, rho0, h_b, reduce, e_ops, options, start)
