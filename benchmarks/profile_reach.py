"""Where the time of bench_pibs.py's reach goes: one size under cProfile, with its segments.

Runs our open cavity charger on bench_pibs.py's reach setting (pibs's model, spins down,
N photons, t in [0, 10], 201 points, one thread), prints every Chebyshev segment (its length,
its matrix-vector products, whether it was rejected because the recurrence vectors grew by
more than ``MAX_RECURRENCE_GROWTH`` and redone shorter) and cProfile's top 15.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/profile_reach.py 80
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import bench_pibs  # noqa: E402

import qutip_centralspin.solvers.chebyshev as cheb  # noqa: E402


def _nnz(gen) -> int:
    """Stored entries of an assembled generator; -1 for the matrix-free one (none stored)."""
    return int(gen.nnz) if hasattr(gen, "Y2") else -1


def main(n: int, wc: float) -> None:
    products = [0]
    step, segment = cheb.CsrRecurrence.step, cheb._chebyshev_segment

    def counted_step(self, *args, **kwargs):
        products[0] += 1
        return step(self, *args, **kwargs)

    def reported_segment(rec, gen, v, rel, F, **kwargs):
        before = products[0]
        out = segment(rec, gen, v, rel, F, **kwargs)
        verdict = "ok" if not isinstance(out, cheb._Rejected) else "rejected (recurrence growth)"
        print(f"  segment of length {rel[-1]:.3g}: {products[0] - before} products, {verdict}")
        return out

    cheb.CsrRecurrence.step, cheb._chebyshev_segment = counted_step, reported_segment
    solver = bench_pibs._solver(n, wc)
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    # the assembled generator (the matrix-free one is profiled by bench_matrix_free.py)
    solver.solve((0, n), bench_pibs.REACH_TIMES, options={"num_cpus": 1, "generator": "csr"})
    profile.disable()
    gen = next(iter(solver._generators.values()))
    print(
        f"N = {n}, wc = {wc}: {time.perf_counter() - start:.1f} s under cProfile; dim "
        f"{gen.dim}, nnz {_nnz(gen)}, series length scale * t = "
        f"{gen.scale * bench_pibs.REACH_TIMES[-1]:.0f}, products {products[0]}; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else bench_pibs.WC)
