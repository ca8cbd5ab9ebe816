"""Fixed quantum feature maps as scikit-learn transformers: their output feeds any estimator."""

from ._quanvolution import Quanvolution

__all__ = ["Quanvolution"]
