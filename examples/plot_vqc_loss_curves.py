"""
Variational classifiers: loss curves on two benchmarks of Bowles et al. (2024)
==============================================================================

A ``VQC`` (angle encoding, ``RealAmplitudes(reps=3)``, Z read-out on every qubit) and a
``DataReuploadingClassifier`` (three re-uploading layers, two qubits for four features) are
trained with mini-batch Adam on the "linearly separable" and "two curves" data sets with
``d = 4`` features (Bowles, Ahmed and Schuld, "Better than classical? The subtle art of
benchmarking quantum machine learning models", 2024). Features are scaled to
``[-pi/2, pi/2]``, as in the paper's pipelines. The script prints the test accuracies and final
training losses and, when matplotlib is installed, saves the loss curves to a temporary
directory.
"""

import tempfile
import time
from math import pi
from pathlib import Path

from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler

from skqml.circuits import AngleEmbedding, RealAmplitudes
from skqml.datasets import make_linearly_separable, make_two_curves
from skqml.variational import VQC, DataReuploadingClassifier

datasets = {
    "linearly separable": make_linearly_separable(300, n_features=4, random_state=0),
    "two curves": make_two_curves(300, n_features=4, random_state=0),
}


def models():
    adam = {"learning_rate": 0.05, "batch_size": 32, "max_iter": 100, "random_state": 0}
    return {
        "VQC": VQC(AngleEmbedding(), RealAmplitudes(reps=3), **adam),
        "DataReuploading": DataReuploadingClassifier(n_layers=3, **adam),
    }


curves = {}
for data_name, (X, y) in datasets.items():
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=150, stratify=y, random_state=0
    )
    for model_name, model in models().items():
        start = time.perf_counter()
        pipe = make_pipeline(MinMaxScaler((-pi / 2, pi / 2)), model).fit(X_train, y_train)
        seconds = time.perf_counter() - start
        curves[data_name, model_name] = model.loss_curve_
        print(
            f"{data_name:18s} {model_name:15s} test accuracy: {pipe.score(X_test, y_test):.3f}"
            f"  final loss: {model.loss_curve_[-1]:.3f}  epochs: {model.n_iter_:3d}"
            f"  ({seconds:.1f} s)"
        )

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed: no figure (pip install matplotlib to get one)")

if plt is not None:
    fig, axes = plt.subplots(1, len(datasets), figsize=(10, 4), sharey=True)
    for ax, data_name in zip(axes, datasets, strict=True):
        for (name, model_name), curve in curves.items():
            if name == data_name:
                ax.plot(range(1, len(curve) + 1), curve, label=model_name)
        ax.set_title(f"{data_name} (d = 4)")
        ax.set_xlabel("epoch")
    axes[0].set_ylabel("training loss (cross-entropy)")
    axes[0].legend()
    fig.tight_layout()
    path = Path(tempfile.mkdtemp(prefix="skqml-")) / "vqc_loss_curves.png"
    fig.savefig(path, dpi=80)
    print(f"figure saved to {path}")
