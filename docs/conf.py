"""Sphinx configuration of the skqml documentation.

Build it (warnings are errors) from the repository root with

    python -m sphinx -W --keep-going -b html docs docs/_build/html

or ``docs/build.sh``. The build runs every ``examples/plot_*.py`` through sphinx-gallery.
Cross-links into the Python, NumPy, SciPy and scikit-learn docs (intersphinx) need the
network; they are off unless ``SKQML_DOCS_INTERSPHINX=1`` is set, so that the default build
works offline.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")  # the gallery draws figures without a display

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # document the checkout, even when skqml is not installed

import skqml  # noqa: E402

# -- Project -------------------------------------------------------------------------------

project = "skqml"
author = "skqml developers"
copyright = "skqml developers"
release = skqml.__version__
version = ".".join(release.split(".")[:2])

# -- Extensions ----------------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

INTERSPHINX = os.environ.get("SKQML_DOCS_INTERSPHINX", "") not in ("", "0")
if INTERSPHINX:
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }
    intersphinx_timeout = 10

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
# The user guide is Markdown (MyST). Pages link to the examples through their gallery pages
# (auto_examples/*.rst), never to files outside docs/, which Sphinx cannot resolve.

# -- MyST (Markdown) -----------------------------------------------------------------------

myst_enable_extensions = ["colon_fence", "dollarmath"]
myst_heading_anchors = 3  # "page.md#section" links resolve to the section

# -- autodoc, autosummary, numpydoc --------------------------------------------------------

autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types
autodoc_member_order = "groupwise"
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_show_inherited_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False

# -- sphinx-gallery ------------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # run every plot_*.py
    "ignore_pattern": r"__init__\.py",
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "download_all_examples": False,
    "show_memory": False,
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
    "capture_repr": ("_repr_html_", "__repr__"),
    "backreferences_dir": None,
    "min_reported_time": 1,
}

# -- HTML ----------------------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skqml {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_static_path = []
html_show_sourcelink = False


# -- Inherited scikit-learn docstrings -------------------------------------------------------
# Class pages include the methods inherited from scikit-learn (get_params, score,
# set_fit_request, ...). Their docstrings cite labels and glossary terms of scikit-learn's
# own documentation (``:ref:`metadata_routing```, ``:term:`meta-estimator```). With
# intersphinx on, these resolve to scikit-learn's pages; offline, they are rendered as plain
# text. Only references written in scikit-learn's docstrings are treated so: a broken
# reference in skqml's own pages or docstrings still fails the build.


def _node_source(node):
    while node is not None:  # the source of the nearest node that has one
        if node.source:
            return str(node.source)
        node = node.parent
    return ""


def _sklearn_reference_as_text(app, env, node, contnode):
    if node.get("refdomain") != "std" or node.get("reftype") not in ("ref", "term"):
        return None
    source = _node_source(node)
    if "docstring of sklearn." in source or "<autosummary>" in source:
        return contnode
    return None


# -- The API page lists every public name ---------------------------------------------------
# api.rst is written by hand (grouped by module, with rubrics). This check warns, and so fails
# the -W build, when a name in a subpackage's __all__ is missing from it or a listed name no
# longer exists, so that the page cannot fall behind the code.

API_MODULES = (
    "skqml.circuits",
    "skqml.simulator",
    "skqml.backends",
    "skqml.kernels",
    "skqml.svm",
    "skqml.variational",
    "skqml.boltzmann",
    "skqml.datasets",
)


def _api_listing(text):
    """{module: set of names} from the autosummary entries under each currentmodule."""
    listed, module, in_autosummary = {}, None, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(".. currentmodule::"):
            module = stripped.split("::", 1)[1].strip()
            listed.setdefault(module, set())
        elif stripped.startswith(".. autosummary::"):
            in_autosummary = True
        elif in_autosummary and line.startswith("   ") and stripped:
            if not stripped.startswith(":"):
                listed[module].add(stripped.lstrip("~"))
        elif stripped and not line.startswith(" "):
            in_autosummary = False
    return listed


def _check_api_page(app):
    import importlib

    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    listed = _api_listing((DOCS / "api.rst").read_text(encoding="utf-8"))
    for name in API_MODULES:
        public = set(importlib.import_module(name).__all__)
        shown = listed.get(name, set())
        if public - shown:
            logger.warning(
                "api.rst: %s.__all__ names missing from the API page: %s",
                name,
                ", ".join(sorted(public - shown)),
                location="api",
            )
        if shown - public:
            logger.warning(
                "api.rst: names listed under %s that are not in its __all__: %s",
                name,
                ", ".join(sorted(shown - public)),
                location="api",
            )


def setup(app):
    if not INTERSPHINX:
        app.connect("missing-reference", _sklearn_reference_as_text)
    app.connect("builder-inited", _check_api_page)
