"""Resumable sweeps: each finished task is written to a file, and a rerun computes only the rest.

:func:`checkpoint_map` runs ``task(value, *task_args, **task_kwargs)`` for every value through a
QuTiP map (``qutip.serial_map``, ``parallel_map``, ``loky_pmap``, ``mpi_pmap``), as the map
would, and with ``checkpoint=PATH`` appends each result to ``PATH`` the moment it arrives. Run
again with the same file -- after a crash, a pre-emption or a time limit -- it reads the
finished values back and sends only the missing ones to the map. Every sweep of the package
(:func:`~qutip_centralspin.studies.scaling.scaling_sweep`,
:func:`~qutip_centralspin.studies.scaling.power_grid`,
:func:`~qutip_centralspin.studies.advantage.advantage_sweep`, and ``reproduce`` of
``qutip_centralspin.paper.reproduce`` with a folder, one file per sweep) takes ``checkpoint=`` and runs
on it; so does ``qutip-centralspin reproduce --checkpoint DIR --resume``.

The file
--------
JSON lines (Python's JSON: ``NaN`` and ``Infinity`` allowed), append-only:

* line 1, the header: ``{"format": "qutip-centralspin checkpoint", "format_version": 1,
  "package_version": ..., "task": ..., "params": {...}}``. ``params`` records what the results
  depend on besides the values (the model parameters of a sweep). A run whose task, params or
  package version differ is refused with a ``ValueError`` naming the difference: results of
  another sweep are never mixed in. The values themselves are not in the header, so a grid can
  grow: a larger grid with the same params reuses the points already in the file.
* then one line per finished value: ``{"key": VALUE, "result": RESULT}``.

Each line is written with one ``write``, then flushed and ``fsync``-ed before the next result
is taken, so a finished task survives a crash of the job or of the machine. A crash during a
write leaves at most a last line without its newline: it is ignored (that value is computed
again) and cut off before anything is appended. A damaged line elsewhere is refused. The header
of a new file is written to a temporary file and renamed into place.

Values and results must be JSON data: numbers, strings, booleans, ``None``, lists and tuples,
dicts with string keys, NumPy scalars and arrays. With a checkpoint, every result is returned as
read back from the file (tuples and arrays become lists), the fresh ones too, so a resumed run
returns exactly what an uninterrupted one does. Only the process that calls the map writes: the
workers of a parallel map or ``mpi_pmap`` only compute (results reach the caller through QuTiP's
``reduce_func``), and under MPI a rank other than 0 never writes.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
from pathlib import Path

import numpy as np
import qutip

from .. import _progress
from ..version import __version__

__all__ = ["checkpoint_map", "Checkpoint", "IncompleteMapError", "FORMAT"]

#: The ``format`` field of a checkpoint's header.
FORMAT = "qutip-centralspin checkpoint"
FORMAT_VERSION = 1


class IncompleteMapError(RuntimeError):
    """The map returned before every task was done (``map_kw['timeout']`` reached).

    The finished tasks are in the checkpoint, if there is one: run again to resume.
    """


def _plain(obj):
    """JSON encoder fallback: NumPy scalars and arrays as Python numbers and lists."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON data")


def _dumps(obj) -> str:
    return json.dumps(obj, default=_plain, allow_nan=True, separators=(",", ":"))


def _canonical(value, what: str = "value") -> str:
    """One string per value, the same before and after a JSON round trip."""
    try:
        return json.dumps(
            json.loads(_dumps(value)), sort_keys=True, allow_nan=True, separators=(",", ":")
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"a checkpoint needs JSON data: the {what} {value!r} is not ({exc})"
        ) from None


def _is_main_rank() -> bool:
    """False on an MPI rank other than 0 (only if mpi4py is already in use)."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is None:
        return True
    try:
        return mpi.COMM_WORLD.Get_rank() == 0
    except Exception:  # pragma: no cover - MPI not initialised
        return True


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


class Checkpoint:
    """An append-only JSON-lines file of finished tasks (see the module docstring).

    Opening it reads what is there, checks the header against ``task`` and ``params`` and cuts
    off a line left unfinished by a crash; a missing file is created, with its header, when
    the first result is recorded (a sweep that fails before any result leaves no file).

    Parameters
    ----------
    path : str or Path
        The file (its folder must exist).
    task : str
        The task's name, recorded in and checked against the header.
    params : dict
        What the results depend on besides the values (JSON data), recorded and checked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "squares.jsonl"
    >>> with Checkpoint(path, "square", {"power": 2}) as ckpt:
    ...     ckpt.record(3, 9)
    9
    >>> with Checkpoint(path, "square", {"power": 2}) as ckpt:
    ...     3 in ckpt, ckpt[3]
    (True, 9)
    >>> Checkpoint(path, "square", {"power": 3})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: checkpoint ... was written with other parameters (power: 2 in the file, 3 now)...
    """

    def __init__(self, path, task: str, params: dict):
        self.path = Path(path)
        self.header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "task": str(task),
            "params": json.loads(_canonical(dict(params), "params")),
        }
        self._results: dict[str, object] = {}
        self._lock = threading.Lock()
        self._writable = _is_main_rank()
        self._fresh = False  # no header on disk yet
        self._fh = None
        if not self.path.parent.is_dir():
            raise ValueError(
                f"checkpoint {str(self.path)!r}: folder {str(self.path.parent)!r} does not exist"
            )
        if self.path.is_dir():
            raise ValueError(f"checkpoint {str(self.path)!r} is a folder, expected a file name")
        self._open()

    # -- reading ------------------------------------------------------------------------------
    def _open(self) -> None:
        data = self.path.read_bytes() if self.path.exists() else b""
        end = data.rfind(b"\n") + 1  # bytes after the last newline: a write cut short
        lines = data[:end].split(b"\n")[:-1]
        if not lines:  # new, empty, or only a header cut short: written with the first result
            self._fresh = True
        else:
            self._check_header(lines[0])
            for number, line in enumerate(lines[1:], start=2):
                self._read_record(number, line)
            if end < len(data) and self._writable:
                with open(self.path, "r+b") as fh:
                    fh.truncate(end)
                    fh.flush()
                    os.fsync(fh.fileno())
        if self._writable and not self._fresh:
            self._fh = open(self.path, "ab")

    def _write_header(self) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write((_dumps(self.header) + "\n").encode())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        finally:
            if tmp.exists():
                tmp.unlink()
        _fsync_folder(self.path.parent)

    def _check_header(self, line: bytes) -> None:
        where = f"checkpoint {str(self.path)!r}"
        try:
            found = json.loads(line)
        except ValueError:
            found = None
        if not isinstance(found, dict) or found.get("format") != FORMAT:
            raise ValueError(f"{where} is not a qutip-centralspin checkpoint (line 1)")
        if found.get("format_version") != FORMAT_VERSION:
            raise ValueError(
                f"{where} has format version {found.get('format_version')!r}; this version "
                f"reads {FORMAT_VERSION}"
            )
        if found.get("package_version") != __version__:
            raise ValueError(
                f"{where} was written by qutip-centralspin {found.get('package_version')}, this "
                f"is {__version__}: results of two versions are not mixed (use another file)"
            )
        if found.get("task") != self.header["task"]:
            raise ValueError(
                f"{where} holds results of {found.get('task')!r}, not {self.header['task']!r} "
                "(use another file)"
            )
        old, new = found.get("params") or {}, self.header["params"]
        diffs = [
            f"{key}: {_short(old.get(key, '(absent)'))} in the file, "
            f"{_short(new.get(key, '(absent)'))} now"
            for key in sorted(set(old) | set(new))
            if _canonical(old.get(key)) != _canonical(new.get(key))
        ]
        if diffs:
            raise ValueError(
                f"{where} was written with other parameters ({'; '.join(diffs)}): refusing to "
                "mix results of two sweeps (use another file, or delete it to start again)"
            )

    def _read_record(self, number: int, line: bytes) -> None:
        try:
            record = json.loads(line)
            key, result = record["key"], record["result"]
        except (ValueError, TypeError, KeyError):
            raise ValueError(
                f"checkpoint {str(self.path)!r}: line {number} is not a record (the file is "
                "damaged; only an unfinished last line is repaired)"
            ) from None
        self._results[_canonical(key)] = result

    # -- the mapping of finished values -------------------------------------------------------
    def __contains__(self, value) -> bool:
        return _canonical(value) in self._results

    def __getitem__(self, value):
        return self._results[_canonical(value)]

    def __len__(self) -> int:
        return len(self._results)

    # -- writing ------------------------------------------------------------------------------
    def record(self, value, result):
        """Append one finished value (one ``write``, flushed and fsync-ed); return the result
        as read back from its line."""
        try:
            line = _dumps({"key": value, "result": result}) + "\n"
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"a checkpoint needs JSON data: the result for {value!r} is not ({exc})"
            ) from None
        stored = json.loads(line)["result"]
        with self._lock:
            if self._fresh and self._writable:
                self._write_header()
                self._fresh = False
                self._fh = open(self.path, "ab")
            if self._fh is not None:
                self._fh.write(line.encode())
                self._fh.flush()
                os.fsync(self._fh.fileno())
            self._results[_canonical(value)] = stored
        return stored

    def close(self) -> None:
        """Close the file (finished lines are already on disk)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _short(value) -> str:
    text = _dumps(value) if not isinstance(value, str) else value
    return text if len(text) <= 60 else text[:57] + "..."


def _tagged(item, task, task_args, task_kwargs):
    """Map task: ``(tag, task(value, ...))``, so results can arrive in any order."""
    tag, value = item
    return tag, task(value, *task_args, **task_kwargs)


def checkpoint_map(
    task,
    values,
    task_args=None,
    task_kwargs=None,
    *,
    checkpoint=None,
    params: dict | None = None,
    map=qutip.serial_map,  # noqa: A002 - QuTiP's name for it
    map_kw: dict | None = None,
    progress_bar=None,
    progress_kwargs: dict | None = None,
) -> list:
    r"""``[task(v, *task_args, **task_kwargs) for v in values]`` through ``map``, resumable.

    Parameters
    ----------
    task : callable
        Defined at module level, so that it pickles for a parallel map.
    values : iterable
        With a checkpoint: JSON data (numbers, strings, lists, ...), each a key in the file.
    task_args, task_kwargs : tuple, dict, optional
        As for QuTiP's maps.
    checkpoint : str or Path, optional
        The checkpoint file (see the module docstring): created if missing; if present, its
        values are read back and only the others computed. Results must be JSON data.
    params : dict, optional
        What the results depend on besides the values, recorded in the header and checked on
        resume. Default: ``{"task_args": task_args, "task_kwargs": task_kwargs}`` (which must
        then be JSON data). The task's name is recorded and checked as well.
    map : callable
        ``qutip.serial_map`` (default), ``qutip.parallel_map``, ``qutip.loky_pmap``,
        ``qutip.mpi_pmap`` or any map with their signature, including ``reduce_func``.
    map_kw : dict, optional
        Passed to ``map`` (``num_cpus``, ``timeout``, ``fail_fast``). When ``timeout`` stops
        the map early, :class:`IncompleteMapError` is raised (the finished values are in the
        checkpoint).
    progress_bar : {"text", "enhanced", "tqdm", "html", "", None}
        QuTiP's progress bar over the tasks still to compute, on ``sys.stderr``.
    progress_kwargs : dict, optional
        Passed to the bar (e.g. ``{"chunk_size": 25}`` for ``"text"``).

    Returns
    -------
    list
        One result per value, in the order of ``values``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "powers.jsonl"
    >>> checkpoint_map(pow, [1, 2, 3], task_args=(2,), checkpoint=path)
    [1, 4, 9]
    >>> checkpoint_map(pow, [1, 2, 3, 4], task_args=(2,), checkpoint=path)  # computes 4 only
    [1, 4, 9, 16]
    >>> len(path.read_text().splitlines())        # the header and four results
    5
    """
    values = list(values)
    task_args = tuple(task_args or ())
    task_kwargs = dict(task_kwargs or {})
    bar_name, bar_kwargs = _progress.check(progress_bar, progress_kwargs)
    if checkpoint is None:
        results: list = [None] * len(values)

        def store(tag, result):
            results[tag] = result

        _run(task, list(enumerate(values)), task_args, task_kwargs, store, map, map_kw,
             bar_name, bar_kwargs)  # fmt: skip
        return results

    if params is None:
        params = {"task_args": list(task_args), "task_kwargs": task_kwargs}
    name = getattr(task, "__qualname__", None) or type(task).__qualname__
    keys = [_canonical(v) for v in values]  # refuses non-JSON values before any work
    with Checkpoint(checkpoint, name, params) as ckpt:
        todo, seen = [], set()
        for key, value in zip(keys, values, strict=True):
            if value not in ckpt and key not in seen:
                seen.add(key)
                todo.append(value)

        def record(tag, result):
            ckpt.record(todo[tag], result)

        _run(task, list(enumerate(todo)), task_args, task_kwargs, record, map, map_kw,
             bar_name, bar_kwargs)  # fmt: skip
        return [ckpt[v] for v in values]


def ready_map(map_fn):
    """``map_fn``, made ready to run as QuTiP documents it.

    QuTiP 5.3's ``mpi_pmap`` stops loky's resource tracker through
    ``loky.backend.resource_tracker`` whenever loky is installed, a submodule that
    ``import loky`` does not load (``AttributeError: module 'loky.backend' has no attribute
    'resource_tracker'``): it is imported here, so ``map=qutip.mpi_pmap`` works as passed.
    """
    if getattr(map_fn, "__name__", "") == "mpi_pmap":
        try:
            importlib.import_module("loky.backend.resource_tracker")
        except ImportError:  # no loky: mpi_pmap does not read it
            pass
    return map_fn


def _run(task, items, task_args, task_kwargs, store, map, map_kw, bar_name, bar_kwargs):  # noqa: A002
    """Send ``items`` (``(tag, value)``) to ``map``; ``store(tag, result)`` as each arrives."""
    if not items:
        return
    map = ready_map(map)  # noqa: A001
    bar = _progress.progress_bar(bar_name, len(items), bar_kwargs)
    done: set = set()
    failed: list = []

    def reduce_func(pair):
        # runs in the calling process, possibly on the executor's thread: an exception here
        # would be lost, so it stops the map (return 0) and is raised afterwards
        try:
            tag, result = pair
            store(tag, result)
            done.add(tag)
            bar.update()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            failed.append(exc)
            return 0
        return None

    try:
        map(
            _tagged,
            items,
            task_args=(task, task_args, task_kwargs),
            reduce_func=reduce_func,
            map_kw=map_kw,
            progress_bar=None,  # the bar above shows progress, on stderr
        )
    finally:
        bar.finished()
    if failed:
        raise failed[0]
    if len(done) < len(items):
        missing = len(items) - len(done)
        raise IncompleteMapError(
            f"the map returned with {missing} of {len(items)} tasks not done "
            f"(map_kw['timeout'] reached?); finished tasks are kept in the checkpoint, if any: "
            "run again with it to resume"
        )
