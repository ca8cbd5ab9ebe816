"""Quantum Boltzmann machines and circuit Born machines: exact generative quantum models.

- :class:`QuantumBoltzmannMachine`: a density model over binary data (Amin et al. 2018),
  trained on the exact log-likelihood or on the bQBM bound.
- :class:`QBMClassifier`: a conditional quantum Boltzmann machine whose Hamiltonian
  coefficients are linear in the input features (Zoufal et al. 2021; Bowles et al. 2024).
- :class:`BornMachine`: a quantum circuit Born machine (Liu & Wang 2018), trained on the
  maximum mean discrepancy with exact (or parameter-shift) gradients.
"""

from ._born import BornMachine
from ._bowles2024 import GibbsStateClassifier, SeparableGibbsStateClassifier
from ._classifier import QBMClassifier
from ._qbm import QuantumBoltzmannMachine

__all__ = [
    "BornMachine",
    "GibbsStateClassifier",
    "QBMClassifier",
    "QuantumBoltzmannMachine",
    "SeparableGibbsStateClassifier",
]
