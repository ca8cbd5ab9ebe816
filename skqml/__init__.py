"""skqml: scikit-learn compatible quantum machine-learning estimators."""

__version__ = "0.1.0.dev0"
