"""skqml: scikit-learn compatible quantum machine-learning estimators."""

from ._persistence import get_trusted_types

__version__ = "0.1.0.dev0"

__all__ = ["__version__", "get_trusted_types"]
