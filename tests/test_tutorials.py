"""Execute every tutorial notebook end to end.

The tutorials are jupytext notebooks in Markdown format (``tutorials/NN_name.md``). Each one is
read with ``jupytext``, run top to bottom in a fresh ``python3`` kernel by ``nbclient`` (in a
temporary working directory, with the non-interactive ``Agg`` Matplotlib backend) and fails if
any cell raises. New tutorials are picked up automatically by the glob below.

Run only these with ``pytest -m tutorial``; skip them with ``pytest -m "not tutorial"``.
"""

import os
from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL_DIR = ROOT / "tutorials"
#: Every Markdown file in tutorials/ except the index is a notebook.
NOTEBOOKS = sorted(p for p in TUTORIAL_DIR.glob("*.md") if p.name.lower() != "readme.md")

#: Per-cell timeout of the kernel, in seconds.
CELL_TIMEOUT = 600


@pytest.mark.tutorial
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_tutorial_executes(path, tmp_path, monkeypatch):
    notebook = jupytext.read(path)
    kernelspec = notebook.metadata.get("kernelspec", {})
    assert kernelspec.get("name") == "python3", (
        f"{path.name}: the jupytext header needs 'kernelspec: name: python3', got {kernelspec!r}"
    )
    # The kernel inherits this environment: no GUI backend, and the package of this checkout
    # importable even when it is not installed.
    monkeypatch.setenv("MPLBACKEND", "Agg")
    pythonpath = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in pythonpath if p))
    client = nbclient.NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the kernel's working directory
    )
    # allow_errors is False by default: the first failing cell raises CellExecutionError,
    # with the cell source and the traceback in its message.
    client.execute()
