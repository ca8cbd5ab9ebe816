"""
Quantum kernel vs RBF kernel: decision boundaries
=================================================

The "ad hoc" data set of Havlicek et al. (2019) is labelled by a ZZ feature map: a ``QSVC``
with that feature map separates it, while for a classical RBF-kernel ``SVC`` the labels form
an intricate pattern that 60 training points do not pin down. This script prints both test
accuracies and, when matplotlib is installed, saves a figure of both decision functions over
the whole input square to a temporary directory.
"""

import tempfile
from math import pi
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC

from skqml.circuits import ZZFeatureMap
from skqml.datasets import make_ad_hoc
from skqml.svm import QSVC

# The features are already angles in [0, 2 pi), the range the ZZ feature map acts on.
X, y = make_ad_hoc(n_samples=80, n_features=2, gap=0.3, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

models = {
    # bandwidth=1.0 keeps the angles as they are (the default, "scale", is for ordinary data).
    "QSVC, ZZFeatureMap(reps=2)": QSVC(ZZFeatureMap(reps=2), bandwidth=1.0),
    "SVC, RBF kernel": SVC(kernel="rbf"),
}
for name, model in models.items():
    model.fit(X_train, y_train)
    print(f"{name:28s} test accuracy: {model.score(X_test, y_test):.3f}")

# Decision functions on a grid over the input square: 2 qubits, so 3600 states are cheap.
axis = np.linspace(0, 2 * pi, 60)
grid_x, grid_y = np.meshgrid(axis, axis)
grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
decisions = {name: m.decision_function(grid).reshape(grid_x.shape) for name, m in models.items()}

try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
    print("matplotlib is not installed: no figure (pip install matplotlib to get one)")

if plt is not None:
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharey=True)
    for ax, (name, values) in zip(axes, decisions.items(), strict=True):
        limit = np.abs(values).max()
        ax.contourf(grid_x, grid_y, values, levels=20, cmap="RdBu", vmin=-limit, vmax=limit)
        ax.contour(grid_x, grid_y, values, levels=[0.0], colors="k", linewidths=1)
        ax.scatter(*X_train.T, c=y_train, cmap="RdBu", edgecolors="k", label="train")
        ax.scatter(*X_test.T, c=y_test, cmap="RdBu", edgecolors="k", marker="s", label="test")
        ax.set_title(f"{name}: test accuracy {models[name].score(X_test, y_test):.2f}")
        ax.set_xlabel("x[0]")
    axes[0].set_ylabel("x[1]")
    axes[0].legend(loc="upper right")
    fig.tight_layout()
    path = Path(tempfile.mkdtemp(prefix="skqml-")) / "qsvc_vs_rbf.png"
    fig.savefig(path, dpi=80)
    print(f"figure saved to {path}")
