"""Synthetic data sets for quantum machine learning.

Classification benchmarks, in the scikit-learn ``make_*`` style (``X, y = make_...(n_samples,
..., random_state=...)``):

- :func:`make_ad_hoc`: the ZZ-feature-map "ad hoc" data of Havlicek et al. (2019), labels 0/1.
- :func:`make_linearly_separable`, :func:`make_hidden_manifold`, :func:`make_two_curves`,
  :func:`make_hyperplanes_parity`, :func:`make_bars_and_stripes`: the benchmarks of Bowles,
  Ahmed and Schuld (2024), labels -1/+1 as in the paper.

Binary data for generative models:

- :func:`bars_and_stripes_patterns`: all distinct bars-and-stripes patterns of a grid.
- :func:`make_bernoulli_mixture`: samples from a mixture of Bernoulli modes (Amin et al. 2018).
"""

from ._ad_hoc import make_ad_hoc
from ._generators import (
    bars_and_stripes_patterns,
    make_bars_and_stripes,
    make_bernoulli_mixture,
    make_hidden_manifold,
    make_hyperplanes_parity,
    make_linearly_separable,
    make_two_curves,
)

__all__ = [
    "bars_and_stripes_patterns",
    "make_ad_hoc",
    "make_bars_and_stripes",
    "make_bernoulli_mixture",
    "make_hidden_manifold",
    "make_hyperplanes_parity",
    "make_linearly_separable",
    "make_two_curves",
]
