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
    "skqml.preprocessing",
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


def _public_methods():
    seen = set()
    for package, name in PUBLIC:
        obj = getattr(importlib.import_module(package), name)
        if not inspect.isclass(obj):
            continue
        for attr, member in inspect.getmembers(obj):
            if attr.startswith("_") or not (
                inspect.isfunction(member)
                or isinstance(inspect.getattr_static(obj, attr), property)
            ):
                continue
            owner = next(k for k in obj.__mro__ if attr in vars(k))
            if not owner.__module__.startswith("skqml") or (owner, attr) in seen:
                continue
            seen.add((owner, attr))
            yield pytest.param(owner, attr, id=f"{owner.__name__}.{attr}")


@pytest.mark.parametrize(("owner", "attr"), list(_public_methods()))
def test_public_method_is_documented(owner, attr):
    """Every public method and property of a public class says what it does; methods that
    take arguments describe them in a Parameters section."""
    member = inspect.getattr_static(owner, attr)
    doc = inspect.getdoc(member) or ""
    assert doc.strip(), f"{owner.__name__}.{attr} has no docstring"
    if inspect.isfunction(member):
        params = [p for p in inspect.signature(member).parameters if p not in ("self", "cls")]
        if params:
            assert "Parameters\n----------" in doc, (
                f"{owner.__name__}.{attr}({', '.join(params)}) has no Parameters section"
            )
