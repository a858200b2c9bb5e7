"""Sphinx configuration of the qutip-centralspin documentation.

Build (from the repository root, as CI does)::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

Design choices, each explained where it is set:

* API reference: ``autosummary`` (recursive, one page per public name, driven by each module's
  ``__all__``) and ``numpydoc`` for the numpydoc docstrings of the package.
* Tutorials: ``myst-nb`` executes every ``tutorials/NN_*.md`` (jupytext Markdown, the same files
  ``tests/test_tutorials.py`` runs) at build time; a failing cell fails the build.
* Intersphinx to QuTiP, NumPy, SciPy and Matplotlib works *offline*: every mapping has a local,
  empty fallback inventory, so a build without internet (CI) links nothing external but does
  not warn, and a build with internet links everything.
* ``nitpicky = True``: a broken cross-reference to a name of this package is a warning, and
  ``-W`` makes it an error. External names (``qutip.*``, ``numpy.*``, ...) are exempt, since
  offline they cannot be resolved. The docstrings cite names by their short form
  (``:class:`SectorEvolution```) and cite helpers that are in no ``__all__``: the
  ``missing-reference`` handler at the end links the former and prints the latter as code,
  after checking that the name exists in the package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Document the checkout being built, even when another copy of the package is installed.
sys.path.insert(0, str(ROOT))

from sphinx.ext import autosummary  # noqa: E402

import qutip_centralspin  # noqa: E402

# -- Project -------------------------------------------------------------------------------

project = "qutip-centralspin"
author = "qutip-centralspin developers"
copyright = "qutip-centralspin developers"
release = qutip_centralspin.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_nb",  # also provides the MyST Markdown parser for the narrative pages
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "_inventories", "Thumbs.db", ".DS_Store", "**/.ipynb_checkpoints"]

# -- Tutorials: jupytext Markdown -> notebooks that myst-nb executes ------------------------
#
# The tutorials live in ../tutorials as jupytext Markdown (not MyST-NB's own text format), so
# they are converted here, before Sphinx reads its sources, into docs/tutorials/NN_*.ipynb
# (ignored by git). A notebook is rewritten only when its source changed.

TUTORIAL_SOURCES = sorted(
    p for p in (ROOT / "tutorials").glob("*.md") if p.name.lower() != "readme.md"
)


def _convert_tutorials() -> None:
    import jupytext

    target_dir = DOCS / "tutorials"
    wanted = set()
    for source in TUTORIAL_SOURCES:
        target = target_dir / f"{source.stem}.ipynb"
        wanted.add(target.name)
        text = jupytext.writes(jupytext.read(source), fmt="ipynb")
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    for stale in target_dir.glob("*.ipynb"):
        if stale.name not in wanted:
            stale.unlink()


_convert_tutorials()

# Always run: the docs show what this checkout computes. QCS_DOCS_EXECUTE=off skips execution
# for a quick local build of the other pages (never in CI).
nb_execution_mode = os.environ.get("QCS_DOCS_EXECUTE", "force")
nb_execution_timeout = 600  # per cell, as in tests/test_tutorials.py
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_in_temp = True  # files a tutorial writes land in a temporary directory
nb_merge_streams = True
# The kernel inherits this environment: with MPLBACKEND=Agg (as CI sets it) the notebooks
# would show no figures, so the docs kernel uses ipykernel's inline backend instead.
os.environ.pop("MPLBACKEND", None)

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# -- API reference -------------------------------------------------------------------------

autosummary_generate = True
# The one-line summaries in the API tables end at the first ". ": not after "Eq." or "Fig.",
# which the docstrings cite on their first line (Sphinx has no option for this list).
autosummary.WELL_KNOWN_ABBREVIATIONS += ("Eq.", "Eqs.", "Fig.", "Figs.", "App.", "Sec.")
autosummary_ignore_module_all = False  # each module's __all__ is its public API
autosummary_imported_members = False
autodoc_typehints = "none"  # numpydoc sections carry the types; signatures stay readable
autodoc_member_order = "bysource"

numpydoc_show_class_members = False  # members are documented by autodoc, not by tables
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- Cross-references ----------------------------------------------------------------------

nitpicky = True
# External names cannot be resolved offline (see intersphinx below); everything of this
# package must resolve.
nitpick_ignore_regex = [("py:.*", r"(qutip|numpy|scipy|matplotlib|mpi4py|loky|python)(\..*)?")]

# Intersphinx, offline-safe. Each project lists two inventory locations: the project's own
# objects.inv (used when the build has internet) and then _inventories/offline.inv, an empty
# inventory shipped with the docs. Sphinx takes the first location that loads and reports the
# failed one only as an INFO message, so an offline build (CI has no internet) neither fails
# nor waits: names such as ``qutip.Qobj`` simply render without a link. Set
# QCS_DOCS_OFFLINE=1 to skip the network attempt altogether.
_OFFLINE_INV = "_inventories/offline.inv"
_INTERSPHINX = {
    "qutip": "https://qutip.readthedocs.io/en/stable/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "matplotlib": "https://matplotlib.org/stable/",
    "python": "https://docs.python.org/3/",
}
if os.environ.get("QCS_DOCS_OFFLINE"):
    intersphinx_mapping = {k: (url, (_OFFLINE_INV,)) for k, url in _INTERSPHINX.items()}
else:
    intersphinx_mapping = {k: (url, (None, _OFFLINE_INV)) for k, url in _INTERSPHINX.items()}
intersphinx_timeout = 10


def _lookup(dotted: str):
    """The object at ``dotted`` (module path, then attributes), or None."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if hasattr(obj, attr):
                obj = getattr(obj, attr)
            elif _declared(obj, attr):
                obj = attr  # declared but without a class-level value: it exists
            else:
                return None
        return obj
    return None


def _declared(obj, attr: str) -> bool:
    """Whether class ``obj`` declares ``attr`` without a class-level value.

    Annotated fields (dataclass fields without defaults, abstract attributes) and instance
    attributes set in a method (``self.attr = ...``) exist only on instances.
    """
    import inspect
    import re

    if not inspect.isclass(obj):
        return False
    for klass in obj.__mro__:
        if attr in getattr(klass, "__annotations__", {}):
            return True
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError):
        return False
    return re.search(rf"self\.{re.escape(attr)}\s*[:=]", source) is not None


def _exists(target: str, node) -> bool:
    """Whether ``target`` names an object of the package, seen from where it is cited."""
    module = node.get("py:module") or ""
    klass = node.get("py:class") or ""
    candidates = [target]
    if module:
        candidates += [f"{module}.{klass}.{target}" if klass else None, f"{module}.{target}"]
        # a module's docstring cites its package's siblings relatively (``.sector``)
        candidates.append(f"{module.rpartition('.')[0]}.{target}")
    # the documented object's own module: a top-level stub (qutip_centralspin.max_energy) cites
    # the tolerances of the module that defines it (qutip_centralspin.maxima.certified)
    page = node.get("refdoc", "").rpartition("/")[2]
    documented = _lookup(page) if page.startswith("qutip_centralspin") else None
    owner = getattr(documented, "__module__", None)
    if owner:
        candidates.append(f"{owner}.{target}")
    found = (c for c in candidates if c and c.startswith("qutip_centralspin"))
    return any(_lookup(c) is not None for c in found)


def _resolve_in_package(app, env, node, contnode):
    """Resolve the package's short cross-references; leave broken ones broken.

    The docstrings cite objects of other modules by their short name
    (``:class:`SectorEvolution```), which Sphinx looks up only in the current module, and
    cite helpers and tolerances that are not in any ``__all__`` (so not documented). This
    handler

    1. links a short name to the one documented object that ends with it (preferring the
       current module, then the top level);
    2. renders a name that exists in the package but is not documented as plain code;
    3. leaves everything else alone: a name that exists nowhere stays a warning, so a broken
       cross-reference still fails ``-W``.
    """
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"].lstrip("~.")
    short = target.removeprefix("qutip_centralspin.")
    domain = env.get_domain("py")
    objtypes = set(domain.objtypes_for_role(node["reftype"]) or ())
    suffix = "." + short
    matches = [
        (name, entry)
        for name, entry in domain.objects.items()
        if name.endswith(suffix)
        and name.startswith("qutip_centralspin.")
        and (not objtypes or entry.objtype in objtypes)
    ]
    if matches and (short != target or not target.startswith(("qutip.", "numpy.", "scipy."))):
        module = node.get("py:module") or ""

        def rank(item):
            owner = item[0][: -len(suffix)]
            return (owner != module, owner != "qutip_centralspin", len(item[0]), item[0])

        name, entry = min(matches, key=rank)
        from sphinx.util.nodes import make_refnode

        return make_refnode(
            app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, name
        )
    if _exists(target, node):
        return contnode
    return None


def setup(app):
    app.connect("missing-reference", _resolve_in_package)


# -- HTML ----------------------------------------------------------------------------------

html_theme = "sphinx_rtd_theme"
html_title = f"qutip-centralspin {release}"
html_static_path: list[str] = []
