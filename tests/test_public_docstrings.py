"""Every public class and function documents itself with a runnable example.

The examples themselves run as doctests (``--doctest-modules``); this test makes sure none is
missing, so a new public name cannot land without one.
"""

import importlib
import inspect

import pytest

PACKAGES = [
    "skqml",
    "skqml.backends",
    "skqml.boltzmann",
    "skqml.circuits",
    "skqml.datasets",
    "skqml.kernels",
    "skqml.simulator",
    "skqml.svm",
    "skqml.variational",
]
PUBLIC = [
    (package, name)
    for package in PACKAGES
    for name in importlib.import_module(package).__all__
    if callable(getattr(importlib.import_module(package), name))
]


@pytest.mark.parametrize(("package", "name"), PUBLIC, ids=lambda v: str(v))
def test_public_name_has_an_example(package, name):
    doc = inspect.getdoc(getattr(importlib.import_module(package), name)) or ""
    assert "Examples\n--------" in doc and ">>>" in doc, f"{package}.{name} has no example"
