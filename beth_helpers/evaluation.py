"""Turning an anomaly detector's output into rates a security team can read."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix

from ._quoting import quote_all

CLASS_NAMES = ("benign", "evil")


def anomaly_labels(predictions) -> np.ndarray:
    """Turn IsolationForest's ``predict`` output into 0/1 anomaly labels.

    scikit-learn's outlier detectors return -1 for an outlier and 1 for an inlier. This
    maps outliers to 1 (flagged as evil) and inliers to 0 (benign), the coding of BETH's
    ``evil`` label, so the two can be compared.

    Parameters
    ----------
    predictions : array-like of -1 and 1

    Returns
    -------
    numpy.ndarray
        1-D ``int64`` array: 1 where ``predictions`` is -1, 0 where it is 1.

    Raises
    ------
    ValueError
        If ``predictions`` holds anything but -1 and 1 (0/1 labels passed twice, say).

    Examples
    --------
    >>> from beth_helpers import anomaly_labels
    >>> anomaly_labels([1, -1, 1]).tolist()
    [0, 1, 0]
    """
    values = np.asarray(predictions).ravel()
    if values.size and not np.isin(values, (-1, 1)).all():
        seen = sorted(set(np.unique(values).tolist()))
        raise ValueError(
            f"anomaly_labels: expected IsolationForest.predict output (-1 and 1), got values "
            f"{quote_all(seen, items=5)}. If these are already 0/1 labels, use them as they are."
        )
    return (values == -1).astype(np.int64)


def confusion_rates(y_true, y_pred) -> pd.DataFrame:
    """The confusion matrix divided by the size of each true class.

    Rows are the true classes (benign, evil) and columns the predicted ones, so each row
    sums to 1: the top row holds the true-negative and false-positive rates, the bottom
    row the false-negative and true-positive (detection) rates.

    Parameters
    ----------
    y_true : array-like of 0 and 1
        True labels (``evil``).
    y_pred : array-like of 0 and 1
        Predicted labels, for instance from :func:`anomaly_labels`.

    Returns
    -------
    pandas.DataFrame
        2 x 2 rates, index ``["benign", "evil"]``, columns
        ``["predicted benign", "predicted evil"]``.

    Raises
    ------
    ValueError
        If the inputs differ in length, hold labels other than 0 and 1, or a true class is
        absent (its rates would be undefined).

    Examples
    --------
    >>> from beth_helpers import confusion_rates
    >>> confusion_rates([0, 0, 0, 1], [0, 1, 0, 1]).round(3).to_numpy().tolist()
    [[0.667, 0.333], [0.0, 1.0]]
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"confusion_rates: y_true has {y_true.size} labels but y_pred has {y_pred.size}."
        )
    for name, values in (("y_true", y_true), ("y_pred", y_pred)):
        if not np.isin(values, (0, 1)).all():
            raise ValueError(
                f"confusion_rates: {name} must hold 0 and 1; convert IsolationForest "
                "output with anomaly_labels first."
            )
    counts = confusion_matrix(y_true, y_pred, labels=[0, 1])
    totals = counts.sum(axis=1)
    for label, total in zip(CLASS_NAMES, totals, strict=False):
        if total == 0:
            raise ValueError(
                f"confusion_rates: y_true has no {label} rows, so its rates are undefined; "
                "sample both classes."
            )
    return pd.DataFrame(
        counts / totals[:, None],
        index=list(CLASS_NAMES),
        columns=[f"predicted {c}" for c in CLASS_NAMES],
    )


def plot_confusion_rates(rates, ax=None, title: str | None = None):
    """Draw confusion rates as an annotated heatmap, as the workshop shows them.

    Parameters
    ----------
    rates : pandas.DataFrame or array-like, shape (2, 2)
        As :func:`confusion_rates` returns.
    ax : matplotlib.axes.Axes, optional
        Where to draw; defaults to a new figure.
    title : str, optional
        Defaults to "Confusion matrix (share of each true class)".

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> from beth_helpers import confusion_rates, plot_confusion_rates
    >>> ax = plot_confusion_rates(confusion_rates([0, 0, 1], [0, 1, 1]))
    >>> ax.get_ylabel()
    'true label'
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    table = pd.DataFrame(rates)
    if table.shape != (2, 2):
        raise ValueError(f"plot_confusion_rates: expected 2 x 2 rates, got {table.shape}.")
    if not isinstance(rates, pd.DataFrame):
        table.index = list(CLASS_NAMES)
        table.columns = [f"predicted {c}" for c in CLASS_NAMES]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    sns.heatmap(table, annot=True, fmt=".1%", cmap="Blues", vmin=0, vmax=1, cbar=False, ax=ax)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    ax.set_title(title or "Confusion matrix (share of each true class)")
    return ax
