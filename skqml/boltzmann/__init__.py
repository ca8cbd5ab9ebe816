"""Quantum Boltzmann machines: exact Gibbs states of transverse-field Ising Hamiltonians.

- :class:`QuantumBoltzmannMachine`: a density model over binary data (Amin et al. 2018),
  trained on the exact log-likelihood or on the bQBM bound.
- :class:`QBMClassifier`: a conditional quantum Boltzmann machine whose Hamiltonian
  coefficients are linear in the input features (Zoufal et al. 2021; Bowles et al. 2024).
"""

from ._classifier import QBMClassifier
from ._qbm import QuantumBoltzmannMachine

__all__ = ["QBMClassifier", "QuantumBoltzmannMachine"]
