"""Tests for beth_helpers.evaluation: anomaly labels, confusion rates and their plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.ensemble import IsolationForest  # noqa: E402

from beth_helpers import (  # noqa: E402
    anomaly_labels,
    confusion_rates,
    get_sample,
    plot_confusion_rates,
    preprocess,
)

# A small example worked out by hand: 4 benign rows, 3 predicted benign and 1 flagged;
# 5 evil rows, 1 missed and 4 flagged.
Y_TRUE = [0, 0, 0, 0, 1, 1, 1, 1, 1]
Y_PRED = [0, 1, 0, 0, 1, 1, 0, 1, 1]
RATES = [[0.75, 0.25], [0.2, 0.8]]


@pytest.fixture
def close_figures():
    """Close every matplotlib figure a test opened."""
    yield
    plt.close("all")


# --- anomaly_labels --------------------------------------------------------------------


def test_anomaly_labels_maps_outliers_to_1():
    """-1 (outlier) becomes 1 and 1 (inlier) becomes 0."""
    labels = anomaly_labels([1, -1, 1, -1, -1])
    assert labels.tolist() == [0, 1, 0, 1, 1]


def test_anomaly_labels_returns_1d_int64():
    """The result is a 1-D int64 array, even from a column vector."""
    labels = anomaly_labels(np.array([[1], [-1]]))
    assert labels.ndim == 1 and labels.dtype == np.dtype("int64")
    assert labels.tolist() == [0, 1]


def test_anomaly_labels_rejects_0_1_labels():
    """0/1 labels (already converted) are refused, with a hint."""
    with pytest.raises(ValueError, match=r"expected IsolationForest.predict output.*\[0, 1\]"):
        anomaly_labels([0, 1, 1, 0])


def test_anomaly_labels_quotes_huge_values_briefly():
    """Long strings passed as predictions are quoted in part."""
    with pytest.raises(ValueError) as info:
        anomaly_labels(["y" * 1_000_000, "n" * 1_000_000])
    message = str(info.value)
    assert "(1,000,000 characters)" in message and len(message) < 600, len(message)


def test_anomaly_labels_of_isolation_forest_on_real_rows(real_rows):
    """On IsolationForest output for real rows, labels are 1 exactly where predict gave -1."""
    _, X, _ = preprocess(get_sample(real_rows, n=600, pct_evil=0.5, random_state=0))
    predictions = IsolationForest(n_estimators=20, random_state=0).fit(X).predict(X)
    labels = anomaly_labels(predictions)
    np.testing.assert_array_equal(labels == 1, predictions == -1)
    assert set(labels.tolist()) <= {0, 1}


# --- confusion_rates -------------------------------------------------------------------


def test_confusion_rates_hand_computed_example():
    """Rates equal the hand-computed ones: 3/4, 1/4 for benign; 1/5, 4/5 for evil."""
    rates = confusion_rates(Y_TRUE, Y_PRED)
    np.testing.assert_allclose(rates.to_numpy(), RATES)


def test_confusion_rates_labels():
    """Rows are the true classes and columns the predicted ones, by name."""
    rates = confusion_rates(Y_TRUE, Y_PRED)
    assert rates.index.tolist() == ["benign", "evil"]
    assert rates.columns.tolist() == ["predicted benign", "predicted evil"]


def test_confusion_rates_rows_sum_to_1(real_rows):
    """Each row sums to 1, on real labels against a real detector's output."""
    _, X, y = preprocess(get_sample(real_rows, n=600, pct_evil=0.5, random_state=1))
    predictions = IsolationForest(n_estimators=20, random_state=0).fit(X).predict(X)
    flagged = predictions == -1
    rates = confusion_rates(y, anomaly_labels(predictions))
    np.testing.assert_allclose(rates.sum(axis=1).to_numpy(), [1.0, 1.0])
    assert rates.loc["evil", "predicted evil"] == pytest.approx(flagged[y == 1].mean())
    assert rates.loc["benign", "predicted evil"] == pytest.approx(flagged[y == 0].mean())


def test_confusion_rates_without_a_predicted_class():
    """A detector that flags nothing gets rates 1 and 0 in the predicted-benign column."""
    rates = confusion_rates([0, 1, 1], [0, 0, 0])
    np.testing.assert_allclose(rates.to_numpy(), [[1.0, 0.0], [1.0, 0.0]])


def test_confusion_rates_mismatched_lengths():
    """Inputs of different lengths are refused, giving both lengths."""
    with pytest.raises(ValueError, match="y_true has 3 labels but y_pred has 2"):
        confusion_rates([0, 1, 1], [0, 1])


def test_confusion_rates_rejects_isolation_forest_output():
    """Raw -1/1 predictions are refused with a pointer to anomaly_labels."""
    with pytest.raises(ValueError, match="y_pred must hold 0 and 1.*anomaly_labels"):
        confusion_rates([0, 1, 1], [1, -1, 1])


def test_confusion_rates_rejects_bad_true_labels():
    """True labels other than 0 and 1 are refused."""
    with pytest.raises(ValueError, match="y_true must hold 0 and 1"):
        confusion_rates([0, 2, 1], [0, 1, 1])


def test_confusion_rates_absent_true_class():
    """A y_true without evil rows is refused: the evil rates would be undefined."""
    with pytest.raises(ValueError, match="y_true has no evil rows"):
        confusion_rates([0, 0, 0], [0, 1, 0])


# --- plot_confusion_rates --------------------------------------------------------------


def test_plot_returns_axes_with_percentages(close_figures):
    """The plot is an Axes with the four rates annotated as percentages, row by row."""
    ax = plot_confusion_rates(confusion_rates(Y_TRUE, Y_PRED))
    assert isinstance(ax, matplotlib.axes.Axes)
    assert [t.get_text() for t in ax.texts] == ["75.0%", "25.0%", "20.0%", "80.0%"]


def test_plot_labels_the_axes(close_figures):
    """The axes say which is the true and which the predicted label, with class names."""
    ax = plot_confusion_rates(confusion_rates(Y_TRUE, Y_PRED))
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["benign", "evil"]


def test_plot_accepts_a_plain_2x2_array(close_figures):
    """A plain 2 x 2 array is drawn with the class names added."""
    ax = plot_confusion_rates(np.array(RATES))
    assert [t.get_text() for t in ax.texts] == ["75.0%", "25.0%", "20.0%", "80.0%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["benign", "evil"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["predicted benign", "predicted evil"]


def test_plot_draws_on_a_given_axes(close_figures):
    """Given an Axes, it draws there and returns it, with the given title."""
    _, given = plt.subplots()
    ax = plot_confusion_rates(pd.DataFrame(RATES), ax=given, title="Isolation forest")
    assert ax is given
    assert ax.get_title() == "Isolation forest"


def test_plot_rejects_3x3(close_figures):
    """A 3 x 3 table is refused."""
    with pytest.raises(ValueError, match=r"expected 2 x 2 rates, got \(3, 3\)"):
        plot_confusion_rates(np.eye(3))
