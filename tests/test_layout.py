"""The package's layout: the flow of a computation in the folder list, imports that only run
down it, a curated top level, and the old flat import paths still served for one release."""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

import qutip_centralspin
from qutip_centralspin import _moved

ROOT = Path(qutip_centralspin.__file__).parent
#: The flow, upstream first: a module may import only from its own layer or those above it.
LAYERS = [
    "_checks", "_progress", "version", "family", "_moved", "resources",
    "models",
    "results", "expectation", "observables",
    "solvers", "charging",
    "maxima",
    "paper.analytic", "paper.data",
    "studies",
    "plotting",
    "paper.reproduce", "paper",
    "cli", "__main__",
]  # fmt: skip
#: Where a model reaches down to its engine: the interface methods that build an evolution or
#: a solver, and the Gibbs states that evolve themselves (function-level imports only).
BRIDGES = {
    "models": ("battery_operator", "evolution"),
}
SUBPACKAGES = ("models", "solvers", "observables", "maxima", "studies", "paper")


def _layer(module: str) -> int | None:
    rel = module.removeprefix("qutip_centralspin.")
    best = None
    for i, key in enumerate(LAYERS):
        if (rel == key or rel.startswith(key + ".")) and (
            best is None or len(key) > len(LAYERS[best])
        ):
            best = i
    return best


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        is_init = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_init else parts)
        yield path, name, name if is_init else name.rsplit(".", 1)[0]


def _imports(path: Path, package: str):
    """``(target, function or None)`` of every relative import of a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    owner = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for child in ast.walk(node):
                owner.setdefault(child, node.name)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in ast.walk(node):
                owner.setdefault(child, "TYPE_CHECKING")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            for name in names:
                yield name, owner.get(node)


def test_imports_run_down_the_flow():
    upward = []
    for path, name, package in _modules():
        if name.endswith("__init__") or path.name == "__init__.py":
            continue
        mine = _layer(name)
        for target, function in _imports(path, package):
            theirs = _layer(target)
            if mine is None or theirs is None or theirs <= mine:
                continue
            top = name.split(".")[1] if "." in name else name
            if function == "TYPE_CHECKING" or function in BRIDGES.get(top, ()):
                continue
            upward.append(f"{name} -> {target} ({function or 'module level'})")
    assert upward == []


def test_every_module_has_a_layer():
    assert [name for _, name, _ in _modules() if _layer(name) is None and "." in name] == []


def test_long_modules_say_why():
    """A module above 600 lines states, at its top, why it is one module."""
    long = []
    for path, name, _ in _modules():
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 600 and "One module" not in ast.get_docstring(ast.parse(text)):
            long.append(name)
    assert long == []


def test_the_top_level_is_curated():
    names = [
        n for n in qutip_centralspin.__all__ if n not in SUBPACKAGES + ("results", "plotting")
    ]
    assert len(names) <= 30
    for name in qutip_centralspin.__all__:
        assert getattr(qutip_centralspin, name) is not None


@pytest.mark.parametrize("old", sorted(_moved.MOVED))
def test_old_import_paths_warn_and_give_the_moved_module(old):
    new = importlib.import_module(f"qutip_centralspin.{_moved.MOVED[old]}")
    sys.modules.pop(f"qutip_centralspin.{old}", None)
    with pytest.warns(DeprecationWarning, match=rf"qutip_centralspin\.{old} has moved to"):
        module = importlib.import_module(f"qutip_centralspin.{old}")
    assert module is new
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert importlib.import_module(f"qutip_centralspin.{_moved.MOVED[old]}") is new


def test_names_that_left_the_top_level_still_resolve():
    from qutip_centralspin.models.thermal import thermal_charger

    with pytest.warns(DeprecationWarning, match="thermal_charger has moved"):
        assert qutip_centralspin.thermal_charger is thermal_charger
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        qutip_centralspin.no_such_name  # noqa: B018
