"""pibs against the open cavity charger on pibs's own model, side by side in one run.

pibs (Freter & Fowler-Wright, arXiv 2509.03067; ``pip install pibs`` or the ``compare`` extra,
GPL-3.0: it only ever runs here in a separate process) solves

    H = wc a^dag a + (w0/2) sum_k sigma^z_k + g sum_k (a^dag sigma^-_k + a sigma^+_k),
    kappa D[a] + sum_k (gamma D[sigma^-_k] + gamma_phi D[sigma^z_k]),

which is ``CavityModel(N, omega=wc, g=g, B=w0)`` with
``[cavity_loss(kappa), decay(gamma), dephasing(gamma_phi)]`` (docs/piqs_users.md).

Setting: pibs's tutorial values (pibs_example.ipynb): w0 = 1, wc = 0.65, g = 0.4/sqrt(N),
kappa = 0.01, gamma = 0.001, gamma_phi = 0.03; its time grid t = 0, 0.2, ..., 200 (1001
points); the battery start: spins down, N photons (pibs's "all spins down, nu_max photons"
initial condition). Both compute <a^dag a>(t) and <sigma^z>(t) (so Delta E_B(t)) from scratch,
generator build included, each in a fresh process:

* pibs: ``Indices`` + ``Rho`` + ``Models(parallel=1, num_cpus=1)`` (one pool worker; pibs's
  ``parallel=0`` builder looks every new entry up in a list of all entries of its block, which
  is quadratic) + ``setup_L_Tavis_Cummings`` + ``TimeEvolve.time_evolve_block_interp`` (serial)
  at atol = 1e-20, rtol = 1e-12 (``--pibs-atol``, ``--pibs-rtol``; or ``--pibs-scale 1e12``:
  ``Rho(..., scale_rho=1e12)``, whose expectation values pibs divides back by scale_rho),
  observables [a^dag a, 1 x sigma^z]. pibs's unknowns are entries of the density matrix on the
  2^N-dimensional spin space, tiny at large N: at its example.py's atol = rtol = 1e-12 the
  absolute tolerance is above them and pibs drifts from ours by 5.3e-6, 2.0e-4 at N = 10, 20
  whatever dt (benchmarks/pibs_deviation.py). Converged, what is left is its output step: it
  feeds each excitation block with a cubic spline of the block above on the output grid
  (dt = 0.2, the default here: 5.3e-6, 2.3e-5, 5.4e-5 near t = 0 at N = 10, 20, 30;
  ``--dt 0.05``: 7.1e-9, 2.9e-8, 6.7e-8 over t <= 200, at 1.6-3.3x pibs's evolution time);
* ours: ``CavityBlockSolver.observables``: E_B = w0 <S^z> (hence Delta E_B, <sigma^z>) and
  the charger's energy wc <a^dag a> from one Chebyshev sweep, ``num_cpus=1`` (the runs
  recorded in benchmarks/README.md before session 5's last commit used ``solve`` and then
  ``sector_weights``: two sweeps).

BLAS/OpenMP are limited to one thread in both (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS =
MKL_NUM_THREADS = 1). A pibs size that exceeds ``--pibs-budget`` seconds is stopped; the
stage it reached and, for its Liouvillian build, its own progress counter are printed.

Reach: our solver alone (solve, Delta E_B) at N = 80 and 140 with gamma, gamma_phi, kappa > 0 on the
charging window t in [0, 10] (201 points; with g = 0.4/sqrt(N), Delta E_B first peaks at
t ~ 4-6 for N = 10 ... 40), detuned (the tutorial's wc = 0.65) and resonant (wc = w0 = 1), time and peak
memory (VmHWM) in a subprocess; a run whose resident memory passes ``--reach-cap`` is stopped.

    python benchmarks/bench_pibs.py                     # hours: pibs at N = 30, 50 is slow
    python benchmarks/bench_pibs.py --quick             # N = 4, 6 on t <= 20, reach N = 40
    python benchmarks/bench_pibs.py --sizes 10 20 --no-reach
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

W0, WC, OMEGA = 1.0, 0.65, 0.4
KAPPA, GAMMA, GAMMA_PHI = 1e-2, 1e-3, 3e-2
TEND, DT = 200.0, 0.2
#: pibs's zvode tolerances. Its density-matrix entries are tiny (N = 30, t = 200: largest
#: 7.1e-10, median 8.8e-22), so an absolute tolerance of 1e-12 (its example.py) is above most
#: entries and its answer is off by 1.9e-3 at N = 30 (benchmarks/README.md); atol = 1e-20 (or
#: ``--pibs-scale 1e12``: ``Rho(..., scale_rho=1e12)``, which pibs divides back out of its
#: expectation values) converges.
PIBS_ATOL, PIBS_RTOL, PIBS_SCALE = 1e-20, 1e-12, 1.0
SIZES = (10, 20, 30, 50)
REACH_SIZES = (80, 140)
REACH_TIMES = np.linspace(0.0, 10.0, 201)
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _nnz(gen) -> int:
    """Stored entries of an assembled generator; -1 for the matrix-free one (none stored)."""
    return int(gen.nnz) if hasattr(gen, "Y2") else -1


def _grid(tend: float, dt: float) -> np.ndarray:
    """pibs's output times: r.t + dt accumulated from 0, round(tend/dt) + 1 of them."""
    n = round(tend / dt) + 1
    return np.cumsum(np.concatenate([[0.0], np.full(n - 1, dt)]))


def _emit(**event) -> None:
    print(json.dumps(event), flush=True)


def _vmhwm_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return float(line.split()[1]) / 1024
    return float("nan")


# ------------------------------------------------------------------------------------------
# children (one fresh process each)
# ------------------------------------------------------------------------------------------
def _child_pibs(
    n: int, tend: float, dt: float, out: str, atol: float, rtol: float, scale: float
) -> None:
    import pibs
    import pibs.setup
    from pibs import Indices, Models, Rho, TimeEvolve, basis, create, destroy, qeye, sigmaz, tensor

    start = time.perf_counter()
    clock = lambda: time.perf_counter() - start  # noqa: E731

    class Progress:  # pibs's progress bar, reported to the parent instead of the terminal
        def __init__(self, total, description="", start_step=0):
            self.total, self.step, self.last = max(total, 1), start_step, -1

        def update(self, step=None):
            self.step = self.step + 1 if step is None else step
            pct = int(100 * self.step / self.total)
            if pct > self.last:
                self.last = pct
                _emit(progress=pct, t=clock())

    pibs.setup.Progress = Progress
    observe = {"s": 0.0}
    expect = pibs.TimeEvolve.expect_comp_block

    def timed_expect(self, *args, **kwargs):  # time pibs's observables, behaviour unchanged
        t0 = time.perf_counter()
        try:
            return expect(self, *args, **kwargs)
        finally:
            observe["s"] += time.perf_counter() - t0

    pibs.TimeEvolve.expect_comp_block = timed_expect
    path = tempfile.mkdtemp() + "/"
    nphot = n + 1
    g = OMEGA / np.sqrt(n)
    ind = Indices(n, nphot, verbose=False, debug=True, save=False, index_path=path)
    # 1 = down; pibs multiplies the state by scale_rho and divides its expect values back
    rho = Rho(basis(nphot, n), basis(2, 1), ind, max_nrs=1, scale_rho=scale, verbose=False)
    _emit(stage="indices + initial state", t=clock())
    model = Models(
        WC, W0, g, KAPPA, GAMMA_PHI, GAMMA, ind, parallel=1, num_cpus=1, progress=True,
        debug=True, save=False, liouv_path=path, verbose=False,
    )  # fmt: skip
    model.setup_L_Tavis_Cummings()
    build = clock()
    _emit(stage="Liouvillian", t=build)
    ops = [create(nphot) @ destroy(nphot), tensor(qeye(nphot), sigmaz())]
    evolve = TimeEvolve(rho, model, tend, dt, atol=atol, rtol=rtol, nsteps=1_000_000)
    evolve.time_evolve_block_interp(ops, verbose=False)
    total = clock()
    np.savez(
        out,
        t=evolve.result.t,
        n=evolve.result.expect[0].real,
        sz=evolve.result.expect[1].real * n / 2,
    )
    _emit(
        result=dict(build=build, total=total, observables=observe["s"], rss_mb=_vmhwm_mb()),
        t=total,
    )


def _solver(n: int, wc: float):
    """The open cavity charger on pibs's model (imports done before the clock starts)."""
    from qutip_centralspin import decay, dephasing
    from qutip_centralspin.models.cavity import CavityModel
    from qutip_centralspin.solvers.cavity_blocks import CavityBlockSolver, cavity_loss

    model = CavityModel(n, omega=wc, g=OMEGA / np.sqrt(n), B=W0)
    return CavityBlockSolver(model, [cavity_loss(KAPPA), decay(GAMMA), dephasing(GAMMA_PHI)])


def _import_ours() -> None:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import qutip_centralspin.solvers.cavity_blocks  # noqa: F401


def _child_ours(n: int, tend: float, dt: float, out: str) -> None:
    _import_ours()
    start = time.perf_counter()
    times = _grid(tend, dt)
    solver = _solver(n, WC)
    # one sweep: E_B = w0 <S^z> and the charger's energy wc <a^dag a>
    obs = solver.observables((0, n), times, options={"num_cpus": 1})
    total = solve = time.perf_counter() - start
    sz = obs.battery_energy / W0
    photons = obs.charger_energy / WC
    delta_e = obs.battery_energy - obs.battery_energy[0]
    np.savez(out, t=times, n=photons, sz=sz, delta_e=delta_e)
    gen = next(iter(solver._generators.values()))
    _emit(
        result=dict(
            solve=solve,
            total=total,
            rss_mb=_vmhwm_mb(),
            dim=gen.dim,
            nnz=_nnz(gen),
            terms=float(gen.scale * times[-1]),
        ),
        t=total,
    )


def _child_reach(n: int, wc: float) -> None:
    _import_ours()
    start = time.perf_counter()
    solver = _solver(n, wc)
    res = solver.solve((0, n), REACH_TIMES, options={"num_cpus": 1})
    seconds = time.perf_counter() - start
    gen = next(iter(solver._generators.values()))
    i = int(np.argmax(res.delta_energy))
    _emit(
        result=dict(
            total=seconds,
            rss_mb=_vmhwm_mb(),
            dim=gen.dim,
            nnz=_nnz(gen),
            terms=float(gen.scale * REACH_TIMES[-1]),
            e_max=float(res.delta_energy[i]),
            t_max=float(REACH_TIMES[i]),
        ),
        t=seconds,
    )


# ------------------------------------------------------------------------------------------
# parent: run a child with a wall-clock budget and a resident-memory cap on its process tree
# ------------------------------------------------------------------------------------------
def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and its descendants (pibs's pool worker included)."""
    parent, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parent[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier += kids
    return sum(rss.get(p, 0) for p in tree) / 2**20


def _run(args: list[str], budget: float, cap_mb: float) -> dict:
    """Run ``python this_file --child ...``; collect its events; stop it at the limits."""
    env = dict(os.environ, **ONE_THREAD)
    proc = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--child", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: stopped with its pool workers
    )
    events, errors = [], []
    readers = [
        threading.Thread(target=lambda: events.extend(json.loads(x) for x in proc.stdout)),
        threading.Thread(target=lambda: errors.extend(proc.stderr)),
    ]
    for reader in readers:
        reader.start()
    start = time.perf_counter()
    peak, stopped = 0.0, None
    while proc.poll() is None:
        peak = max(peak, _tree_rss_mb(proc.pid))
        elapsed = time.perf_counter() - start
        if elapsed > budget:
            stopped = f"stopped after {elapsed:.0f} s (budget {budget:g} s)"
        elif peak > cap_mb:
            stopped = f"stopped at {peak:.0f} MB resident after {elapsed:.0f} s"
        if stopped:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.25)
    proc.wait()
    for reader in readers:
        reader.join()
    out = {"events": events, "peak_tree_mb": peak, "stopped": stopped}
    result = [e["result"] for e in events if "result" in e]
    if result:
        out.update(result[-1])
    elif not stopped:
        out["stopped"] = "failed: " + ("".join(errors).strip().splitlines() or ["?"])[-1][:100]
    return out


def _fmt_s(x) -> str:
    return f"{x:9.1f}" if x >= 10 else f"{x:9.2f}"


def _pibs_status(r: dict) -> str:
    """What a stopped pibs run reached: its last stage and its build progress counter."""
    stages = [e for e in r["events"] if "stage" in e]
    progress = [e for e in r["events"] if "progress" in e]
    text = r["stopped"]
    if stages:
        text += f"; done: {stages[-1]['stage']} at {stages[-1]['t']:.0f} s"
    if progress and not any(e.get("stage") == "Liouvillian" for e in stages):
        p = progress[-1]
        text += f"; Liouvillian build at {p['progress']}% of its elements at {p['t']:.0f} s"
        if p["progress"] > 0:
            text += f" (projected >= {100 * p['t'] / p['progress']:.0f} s for the build alone)"
    return text


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES))
    parser.add_argument("--pibs-budget", type=float, default=3600.0, help="seconds per size")
    parser.add_argument("--ours-budget", type=float, default=3600.0, help="seconds per size")
    parser.add_argument("--reach", nargs="+", type=int, default=list(REACH_SIZES))
    parser.add_argument("--reach-cap", type=float, default=10.0, help="GB resident, then stop")
    parser.add_argument("--reach-budget", type=float, default=1200.0, help="seconds")
    parser.add_argument("--no-reach", action="store_true")
    parser.add_argument("--no-pibs", action="store_true", help="our solver only")
    parser.add_argument("--tend", type=float, default=TEND)
    parser.add_argument("--pibs-atol", type=float, default=PIBS_ATOL, help="pibs's atol")
    parser.add_argument("--pibs-rtol", type=float, default=PIBS_RTOL, help="pibs's rtol")
    parser.add_argument(
        "--pibs-scale", type=float, default=PIBS_SCALE, help="pibs's Rho(..., scale_rho=...)"
    )
    parser.add_argument("--dt", type=float, default=DT)
    parser.add_argument("--quick", action="store_true", help="N = 4, 6 on t <= 20; reach N = 40")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, n, *rest = args.child
        if kind == "pibs":
            _child_pibs(int(n), float(rest[0]), float(rest[1]), rest[2], *map(float, rest[3:6]))
        elif kind == "ours":
            _child_ours(int(n), float(rest[0]), float(rest[1]), rest[2])
        else:
            _child_reach(int(n), float(rest[0]))
        return
    if args.quick:
        args.sizes, args.reach, args.tend = [4, 6], [40], 20.0

    import importlib.metadata

    import qutip
    import scipy

    try:
        pibs_version = importlib.metadata.version("pibs")
    except importlib.metadata.PackageNotFoundError:
        pibs_version = None
        args.no_pibs = True
    print("pibs vs qutip_centralspin's open cavity charger on pibs's model")
    print(
        f"python {sys.version.split()[0]}, qutip {qutip.__version__}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, pibs {pibs_version or 'not installed'}; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} (shared machine)"
    )
    print(
        f"w0 = {W0}, wc = {WC}, g = {OMEGA}/sqrt(N), kappa = {KAPPA}, gamma = {GAMMA}, "
        f"gamma_phi = {GAMMA_PHI}; spins down, N photons; t = 0, {args.dt:g}, ..., {args.tend:g} "
        f"({_grid(args.tend, args.dt).size} points)"
    )
    print(
        f"pibs: Models(parallel=1, num_cpus=1), time_evolve_block_interp, atol = "
        f"{args.pibs_atol:g}, rtol = {args.pibs_rtol:g}, scale_rho = {args.pibs_scale:g}; "
        "ours: observables (one sweep), num_cpus=1; "
        "BLAS/OpenMP 1 thread; each side in a fresh process, build included\n"
    )
    head = (
        f"{'N':>3s} {'pibs build':>10s} {'pibs total':>10s} {'(obs.)':>8s} {'pibs MB':>8s} | "
        f"{'ours solve':>10s} {'ours total':>10s} {'ours MB':>8s} {'dim':>8s} | "
        f"{'ratio':>7s} {'solve ratio':>11s} {'max dev':>8s}"
    )
    print(head)
    print("-" * len(head))
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            f_ours, f_pibs = os.path.join(tmp, f"ours{n}.npz"), os.path.join(tmp, f"pibs{n}.npz")
            ours = _run(
                ["ours", str(n), str(args.tend), str(args.dt), f_ours], args.ours_budget, 8 * 1024
            )
            if args.no_pibs:
                pibs = {"stopped": "not run", "events": []}
            else:
                pibs = _run(
                    ["pibs", str(n), str(args.tend), str(args.dt), f_pibs]
                    + [str(x) for x in (args.pibs_atol, args.pibs_rtol, args.pibs_scale)],
                    args.pibs_budget,
                    16e3,
                )
            o_ok, p_ok = not ours.get("stopped"), not pibs.get("stopped")
            line = f"{n:3d} "
            if p_ok:
                line += (
                    f"{_fmt_s(pibs['build']):>10s} {_fmt_s(pibs['total']):>10s} "
                    f"{pibs['observables']:8.1f} {pibs['peak_tree_mb']:8.0f} | "
                )
            else:
                stop_t = pibs["events"][-1]["t"] if pibs["events"] else float("nan")
                line += f"{'>':>10s} {'> ' + format(stop_t, '.0f'):>10s} {'':8s} {'':8s} | "
                notes.append(f"pibs N = {n}: {_pibs_status(pibs)}")
            if o_ok:
                line += (
                    f"{_fmt_s(ours['solve']):>10s} {_fmt_s(ours['total']):>10s} "
                    f"{ours['rss_mb']:8.0f} {ours['dim']:8d} | "
                )
            else:
                line += f"{'':>10s} {'':>10s} {'':8s} {'':8s} | "
                notes.append(f"ours N = {n}: {ours['stopped']}")
            if p_ok and o_ok:
                a, b = np.load(f_ours), np.load(f_pibs)
                dev = max(
                    np.abs(a["n"] - b["n"]).max(),
                    np.abs(a["sz"] - b["sz"]).max(),
                    np.abs(a["delta_e"] - W0 * (b["sz"] - b["sz"][0])).max(),
                )
                line += (
                    f"{pibs['total'] / ours['total']:6.1f}x "
                    f"{pibs['total'] / ours['solve']:10.1f}x {dev:8.1e}"
                )
            elif o_ok and pibs["events"]:
                stop_t = pibs["events"][-1]["t"]
                solve_ratio = "> " + format(stop_t / ours["solve"], ".1f")
                line += f"> {stop_t / ours['total']:4.1f}x {solve_ratio:>10s}x"
            print(line, flush=True)
    print(
        "\nratio = pibs total / ours total (both observables); solve ratio = pibs total / our "
        "solve alone (Delta E_B, <S^z>: what a battery needs); (obs.) = seconds pibs spends "
        "in its expectation values; MB = peak resident memory (pibs: its process tree, "
        "sampled every 0.25 s; ours: VmHWM); max dev = largest |difference| of <a^dag a>, "
        "<S^z>, Delta E_B over the grid."
    )
    for note in notes:
        print("  " + note)
    if args.no_reach:
        return
    with open("/proc/meminfo") as meminfo:
        available = {k: v for k, v in (line.split(":") for line in meminfo)}["MemAvailable"]
    available_gb = float(available.split()[0]) / 2**20
    if args.reach_cap > available_gb - 2:  # shared machine: leave 2 GB to the others
        args.reach_cap = max(available_gb - 2, 1.0)
    print(
        f"\nreach: ours alone, solve (Delta E_B) on t in [0, {REACH_TIMES[-1]:g}] "
        f"({REACH_TIMES.size} points), same rates, spins down, N photons; stopped above "
        f"{args.reach_cap:g} GB resident or {args.reach_budget:g} s; targets < 60 s, < 4 GB"
    )
    head = (
        f"{'N':>4s} {'wc':>5s} {'dim':>10s} {'nnz':>11s} {'terms':>6s} {'seconds':>8s} "
        f"{'peak MB':>8s} {'E_max':>8s} {'t_max':>6s}  targets"
    )
    print(head)
    print("-" * len(head))
    for n in args.reach:
        for wc in (WC, W0):
            r = _run(["reach", str(n), str(wc)], args.reach_budget, args.reach_cap * 1024)
            if r.get("stopped"):
                print(f"{n:4d} {wc:5.2f}   {r['stopped']} (peak {r['peak_tree_mb']:.0f} MB)")
                continue
            ok = ("met" if r["total"] < 60 else "TIME MISSED") + (
                ", met" if r["rss_mb"] < 4096 else ", MEMORY MISSED"
            )
            print(
                f"{n:4d} {wc:5.2f} {r['dim']:10d} {r['nnz']:11d} {r['terms']:6.0f} "
                f"{r['total']:8.1f} {r['rss_mb']:8.0f} {r['e_max']:8.3f} {r['t_max']:6.2f}  {ok}",
                flush=True,
            )
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
