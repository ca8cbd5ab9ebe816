"""Circuit descriptions, feature maps and ansatzes.

Qubit ordering: basis states are numbered little-endian (qubit 0 is the least significant bit
of the basis index), as in Qiskit.
"""

from ._angle import Angle, Term, feature, weight
from ._ansatzes import (
    Ansatz,
    DataReuploading,
    EfficientSU2,
    HardwareEfficient,
    RealAmplitudes,
    StronglyEntanglingLayers,
)
from ._bandwidth import bandwidth_as_weight
from ._circuit import Circuit, Operation
from ._entanglement import entangler_map
from ._feature_maps import (
    AngleEmbedding,
    FeatureMap,
    HeisenbergEmbedding,
    HubregtsenEmbedding,
    IQPEmbedding,
    PauliFeatureMap,
    ZZFeatureMap,
)
from ._gates import GATES, gate_spec
from ._qaoa import QAOAEmbedding

__all__ = [
    "GATES",
    "Angle",
    "AngleEmbedding",
    "Ansatz",
    "Circuit",
    "DataReuploading",
    "EfficientSU2",
    "FeatureMap",
    "HardwareEfficient",
    "HeisenbergEmbedding",
    "HubregtsenEmbedding",
    "IQPEmbedding",
    "Operation",
    "PauliFeatureMap",
    "QAOAEmbedding",
    "RealAmplitudes",
    "StronglyEntanglingLayers",
    "Term",
    "ZZFeatureMap",
    "bandwidth_as_weight",
    "entangler_map",
    "feature",
    "gate_spec",
    "weight",
]
