"""
Variational classifiers: loss curves on two benchmarks of Bowles et al. (2024)
==============================================================================

A ``VQC`` (angle encoding, ``RealAmplitudes``, Z read-out on every qubit) and a
``DataReuploadingClassifier`` (three re-uploading layers, two qubits for four features) are
trained on the "linearly separable" and "two curves" data sets with ``d = 4`` features
(Bowles, Ahmed and Schuld, "Better than classical? The subtle art of benchmarking quantum
machine learning models", 2024), in two ways:

- the study's protocol: features scaled to ``[-pi/2, pi/2]`` by a ``MinMaxScaler`` and used
  as given (``angle_scale=None``), mini-batch Adam (learning rate 0.05, batches of 32, at most
  100 epochs), ``RealAmplitudes(reps=3)`` for the VQC without input scaling, a negligible
  penalty (``alpha=1e-4``);
- skqml's defaults on the raw features: standardised angles (``angle_scale="auto"``),
  trainable input scaling, full-batch L-BFGS-B, the read-out penalty of
  ``LogisticRegression(C=1)`` (``alpha=1``).

The script prints the test accuracies, final training losses (the defaults' include their
penalty) and iterations, and, when matplotlib is installed, saves the loss curves to a
temporary directory.
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
    """Pipelines of the study's protocol, and the models with skqml's defaults."""
    study = {
        "angle_scale": None,
        "optimizer": "adam",
        "learning_rate": 0.05,
        "batch_size": 32,
        "max_iter": 100,
        "alpha": 1e-4,
        "random_state": 0,
    }
    scaler = MinMaxScaler((-pi / 2, pi / 2))
    vqc = VQC(AngleEmbedding(), RealAmplitudes(reps=3), input_scaling=False, **study)
    return {
        "VQC (study)": make_pipeline(scaler, vqc),
        "DataReuploading (study)": make_pipeline(scaler, DataReuploadingClassifier(**study)),
        "VQC (defaults)": VQC(random_state=0),
        "DataReuploading (defaults)": DataReuploadingClassifier(random_state=0),
    }


curves = {}
for data_name, (X, y) in datasets.items():
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=150, stratify=y, random_state=0
    )
    for model_name, model in models().items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        fitted = model[-1] if hasattr(model, "steps") else model
        curves[data_name, model_name] = fitted.loss_curve_
        print(
            f"{data_name:18s} {model_name:26s} test accuracy: "
            f"{model.score(X_test, y_test):.3f}  final loss: {fitted.loss_curve_[-1]:.3f}"
            f"  iterations: {fitted.n_iter_:3d}  ({seconds:.1f} s)"
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
        ax.set_xlabel("epoch (Adam) or iteration (L-BFGS-B)")
    axes[0].set_ylabel("training loss (cross-entropy, + penalty)")
    axes[0].legend()
    fig.tight_layout()
    path = Path(tempfile.mkdtemp(prefix="skqml-")) / "vqc_loss_curves.png"
    fig.savefig(path, dpi=80)
    print(f"figure saved to {path}")
