"""scikit-learn's own estimator checks on every skqml estimator."""

import pytest
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Binarizer
from sklearn.utils.estimator_checks import parametrize_with_checks

from skqml.backends import ShotsBackend
from skqml.boltzmann import (
    BornMachine,
    GibbsStateClassifier,
    QBMClassifier,
    QuantumBoltzmannMachine,
    SeparableGibbsStateClassifier,
)
from skqml.circuits import HubregtsenEmbedding, ZZFeatureMap
from skqml.svm import (
    QSVC,
    QSVR,
    IQPKernelClassifier,
    ProjectedQuantumKernelClassifier,
    QuantumKitchenSinks,
    SeparableKernelClassifier,
)
from skqml.variational import (
    VQC,
    VQR,
    CircuitCentricClassifier,
    DataReuploadingClassifier,
    DressedQuantumCircuitClassifier,
    IQPVariationalClassifier,
    SeparableDataReuploadingClassifier,
    SeparableDressedQuantumCircuitClassifier,
    SeparableVariationalClassifier,
    TreeTensorClassifier,
    WeiNet,
)

# Each expected failure names the reason a reviewer can check.
_TOO_MANY_QUBITS = (
    "the check uses 30 features, i.e. 30 qubits (16 GiB per state): refused up front by the "
    "simulator's memory guard, as intended"
)
_NOT_BINARY = (
    "the check fits on real-valued random data, which a model of binary (0/1) data refuses "
    "with a ValueError by design; the check passes on make_pipeline(Binarizer(), "
    "QuantumBoltzmannMachine()) below"
)
_NON_BINARY_CHECKS = [
    "check_estimators_dtypes",
    "check_fit_score_takes_y",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_dtype_object",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_transformer_n_iter",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_fit2d_predict1d",
    "check_positive_only_tag_during_fit",
]
_BORN_NOT_BINARY = (
    "the check fits on real-valued random data, which BornMachine (a model of binary 0/1 data) "
    "refuses instantly with a ValueError by design; tests/test_born.py covers these on bits"
)
_PIPELINE_STEPS = (
    "fit fits the estimators in Pipeline.steps in place, which these generic checks count as "
    "mutating a parameter; every Pipeline fails them (make_pipeline(Binarizer(), "
    "BernoulliRBM()) too)"
)


_WIDTH_FROM_PREDICTED = (
    "as_coded=True reproduces the study's code, which reads the kernel width from the samples "
    "predicted together: predictions on a subset differ by design (the default does not)"
)


_GIBBS_TEN_QUBITS = (
    "the check fits 10 features, i.e. a dense 2**10 x 2**10 Gibbs state per sample (about a "
    "second per sample and step here): refused up front by the 1 MiB budget this entry sets"
)


_AMPLITUDE_SIGN = (
    "the study's amplitude-encoded models see the normalised features, so x and -x give the "
    "same state up to sign; the check's two standardised blobs lie on opposite sides of the "
    "origin (about 0.53 training accuracy at any learning rate)"
)


_ZERO_IMAGE = (
    "the check's integer data hold rows of zeros, which have no amplitude encoding: WeiNet "
    "refuses them with a clear error, as the study's model gives NaN for them"
)


def _expected_failed_checks(estimator):
    failures = {"check_sample_weight_equivalence_on_dense_data": _TOO_MANY_QUBITS}
    if isinstance(estimator, WeiNet):
        failures["check_estimators_dtypes"] = _ZERO_IMAGE
    if isinstance(estimator, (TreeTensorClassifier, CircuitCentricClassifier, WeiNet)):
        for name in (
            "check_classifiers_train",
            "check_classifiers_train(readonly_memmap=True)",
            "check_classifiers_train(readonly_memmap=True,X_dtype=float32)",
        ):
            failures[name] = _AMPLITUDE_SIGN
    if type(estimator) is GibbsStateClassifier:
        failures["check_dtype_object"] = _GIBBS_TEN_QUBITS
    if isinstance(estimator, ProjectedQuantumKernelClassifier) and estimator.as_coded:
        failures["check_methods_subset_invariance"] = _WIDTH_FROM_PREDICTED
    if isinstance(estimator, QuantumBoltzmannMachine):
        failures.update(dict.fromkeys(_NON_BINARY_CHECKS, _NOT_BINARY))
    if isinstance(estimator, BornMachine):
        failures.update(dict.fromkeys(_NON_BINARY_CHECKS, _BORN_NOT_BINARY))
    if isinstance(estimator, Pipeline):
        failures["check_estimators_overwrite_params"] = _PIPELINE_STEPS
        failures["check_dont_overwrite_parameters"] = _PIPELINE_STEPS
    return failures


@parametrize_with_checks(
    [
        QSVC(),
        QSVC(ZZFeatureMap(reps=1), bandwidth=0.5),
        QSVC(kernel="projected"),
        QSVR(),
        QSVR(kernel="projected"),
        # Kernel training by alignment inside fit (exact gradients); three L-BFGS-B
        # iterations keep the checks at about 20 s for this entry on one core.
        QSVC(
            HubregtsenEmbedding(n_layers=1),
            kernel_training="alignment",
            kernel_training_max_iter=3,
            random_state=0,
        ),
        # One step per fit keeps the checks' 10-feature data (10 visible qubits: one qubit per
        # feature, so no hidden unit) fast.
        QuantumBoltzmannMachine(max_iter=1),
        make_pipeline(Binarizer(), QuantumBoltzmannMachine(max_iter=1, random_state=0)),
        QBMClassifier(),
        # Finite shots, seeded: estimates are keyed by sample content, so the invariance and
        # idempotence checks pass; no check is expected to fail because of shot noise.
        QSVC(ZZFeatureMap(reps=1), bandwidth=0.5, backend=ShotsBackend(seed=0)),
        QSVR(ZZFeatureMap(reps=1), bandwidth=0.5, backend=ShotsBackend(seed=0)),
        VQC(),
        DataReuploadingClassifier(),
        # The study's read-out and loop (shortened: 20-step intervals, at most 300 steps);
        # binary, so the multi-class checks are skipped by its tags.
        DataReuploadingClassifier(
            n_layers=1,
            observable_type="full",
            feature_scaling="minmax",
            optimizer="interval",
            batch_size=32,
            learning_rate=0.1,
            max_iter=300,
            n_iter_no_change=20,
        ),
        SeparableDataReuploadingClassifier(n_layers=1, observable_type="single"),
        # The regression checks fit 10-qubit models on 200 samples several times: ten
        # L-BFGS iterations (the default optimizer on exact backends) clear their R^2 bar.
        VQR(max_iter=10),
        # Binary models refuse the checks' real-valued data (see _BORN_NOT_BINARY); one step
        # per fit keeps the rest fast.
        BornMachine(max_iter=1),
        # The kernel classifiers of Bowles et al. (2024).
        IQPKernelClassifier(repeats=1),
        SeparableKernelClassifier(),
        ProjectedQuantumKernelClassifier(trotter_steps=1),
        ProjectedQuantumKernelClassifier(trotter_steps=1, as_coded=True),
        QuantumKitchenSinks(),
        # The study's training loop, shortened: 20-step intervals, at most 300 steps.
        SeparableVariationalClassifier(learning_rate=0.1, max_steps=300, convergence_interval=20),
        IQPVariationalClassifier(
            n_layers=1, learning_rate=0.1, max_steps=300, convergence_interval=20
        ),
        DressedQuantumCircuitClassifier(
            n_layers=1, learning_rate=0.1, max_steps=300, convergence_interval=20
        ),
        SeparableDressedQuantumCircuitClassifier(
            n_layers=1, learning_rate=0.1, max_steps=300, convergence_interval=20
        ),
        # One dense Gibbs state per sample and step: a budget of 1 MiB refuses at once the
        # 10-qubit check data of check_dtype_object (see _GIBBS_TEN_QUBITS); the other
        # checks use at most 5 features.
        GibbsStateClassifier(
            learning_rate=0.1, max_steps=50, convergence_interval=5, max_memory_mb=1
        ),
        SeparableGibbsStateClassifier(learning_rate=0.1, max_steps=50, convergence_interval=5),
        TreeTensorClassifier(learning_rate=0.1, max_steps=100, convergence_interval=10),
        WeiNet(learning_rate=0.1, max_steps=300, convergence_interval=20),
        CircuitCentricClassifier(
            n_input_copies=1,
            n_layers=1,
            learning_rate=0.1,
            max_steps=100,
            convergence_interval=10,
        ),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [QSVC(), QSVR(), VQC(), VQR()])
def test_default_repr_is_short(estimator):
    assert repr(estimator) == f"{type(estimator).__name__}()"
