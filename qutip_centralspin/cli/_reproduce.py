"""``reproduce``: every figure and Table I of the paper, serial or on one process pool,
optionally checkpointed and resumed."""

from __future__ import annotations

import functools
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed

from ._output import _writable_folder

__all__: list[str] = []


def _cmd_reproduce(args) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    import qutip

    from .. import _progress
    from ..paper.reproduce import TABLE_COLUMNS, checkpoint_files, reproduce

    if args.jobs < 1:
        raise ValueError(f"--jobs must be >= 1, got {args.jobs}")
    _writable_folder(args.out, "--out")
    _progress.check(args.progress, name="--progress")
    if args.resume and args.checkpoint is None:
        raise ValueError("--resume needs --checkpoint DIR (the folder of the run to continue)")
    if args.checkpoint is not None:
        _writable_folder(args.checkpoint, "--checkpoint")
        found = [p.name for p in checkpoint_files(args.checkpoint) if p.exists()]
        if found and not args.resume:
            raise ValueError(
                f"--checkpoint {args.checkpoint!r} already holds a run ({', '.join(found)}): "
                "add --resume to continue it, or choose another folder"
            )
    if args.jobs == 1:
        return _reproduce_with(args, qutip.serial_map, reproduce, TABLE_COLUMNS)
    with _PoolMap(args.jobs) as map_fn:  # one pool of workers for every sweep
        return _reproduce_with(args, map_fn, reproduce, TABLE_COLUMNS)


class _PoolMap:
    """A QuTiP-style map function over one process pool, kept for the whole run.

    ``qutip.parallel_map`` starts a new pool for every call; ``reproduce`` makes several
    calls, and starting workers each time cost more than the work they saved.
    """

    def __init__(self, jobs: int):
        self.pool = ProcessPoolExecutor(max_workers=jobs)

    def __call__(self, task, values, task_args=(), task_kwargs=None, reduce_func=None, **_):
        job = functools.partial(_apply, task, tuple(task_args or ()), dict(task_kwargs or {}))
        if reduce_func is None:
            return list(self.pool.map(job, values))
        # QuTiP's reduce_func: each result as it arrives (a checkpoint writes it at once)
        futures = [self.pool.submit(job, value) for value in values]
        try:
            for future in as_completed(futures):
                left = reduce_func(future.result())
                if left is not None and left <= 0:
                    break
        finally:
            for future in futures:
                future.cancel()
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.pool.shutdown(cancel_futures=True)


def _apply(task, task_args, task_kwargs, value):
    return task(value, *task_args, **task_kwargs)


def _reproduce_with(args, map_fn, reproduce, columns) -> int:
    result = reproduce(
        args.out,
        map=map_fn,
        progress_bar=args.progress,
        checkpoint=args.checkpoint,
        log=_log,
    )
    print(
        f"\nTable I (ours beside the paper's; beta_limit = c* sqrt(N)), written to "
        f"{args.out}/table1.csv"
    )
    print(" ".join(f"{c:>11}" for c in columns))
    for r in result["table"]:
        print(
            f"{r.regime:>11} {r.N:>11d} {r.alpha:>11.4f} {r.beta:>11.4f} "
            f"{r.alpha_paper:>11.4f} {r.beta_paper:>11.4f} {r.beta_limit:>11.4f}"
        )
    print(
        f"\n{len(result['files'])} files in {args.out}/ ({sum(result['seconds'].values()):.1f} s)"
    )
    return 0


def _log(message: str) -> None:
    """Progress lines go to stderr; results to stdout."""
    print(message, file=sys.stderr)
