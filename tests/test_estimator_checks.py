"""scikit-learn's own estimator checks on every skqml estimator."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skqml.circuits import ZZFeatureMap
from skqml.svm import QSVC, QSVR

# Each expected failure names the reason a reviewer can check.
_TOO_MANY_QUBITS = (
    "the check uses 30 features, i.e. 30 qubits (16 GiB per state): refused up front by the "
    "simulator's memory guard, as intended"
)
_ZZ_NEEDS_SCALING = (
    "the default ZZ feature map is 2*pi-periodic and expects features scaled to about "
    "[0, pi]; on the check's unscaled standardised blobs it reaches 57% training accuracy "
    "(the scaled configuration below passes this check)"
)


def _expected_failed_checks(estimator):
    failures = {"check_sample_weight_equivalence_on_dense_data": _TOO_MANY_QUBITS}
    if (
        isinstance(estimator, QSVC)
        and estimator.feature_map is None
        and estimator.kernel == "fidelity"
    ):
        failures["check_classifiers_train"] = _ZZ_NEEDS_SCALING
    return failures


@parametrize_with_checks(
    [
        QSVC(),
        QSVC(ZZFeatureMap(reps=1), bandwidth=0.5),
        QSVC(kernel="projected", gamma="scale"),
        QSVR(),
        QSVR(kernel="projected", gamma="scale"),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [QSVC(), QSVR()])
def test_default_repr_is_short(estimator):
    assert repr(estimator) in ("QSVC()", "QSVR()")
