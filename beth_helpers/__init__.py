"""Helpers for the BETH anomaly-detection workshop.

BETH (Highnam, Arulkumaran, Hanif and Jennings, 2021, "BETH Dataset: Real Cybersecurity
Data for Anomaly Detection Research") holds kernel-process logs from 23 honeypots, each row
labelled ``sus`` and ``evil``. This package reads those logs, engineers the paper's
baseline features, draws reproducible samples, and scores anomaly detectors. It depends on
pandas, numpy, scikit-learn, matplotlib and seaborn only.

>>> from beth_helpers import load_workshop_data, preprocess, get_sample
>>> df = load_workshop_data()
>>> df_eng, X, y = preprocess(get_sample(df, n=500, pct_evil=0.01, random_state=0))
>>> X.shape, int(y.sum())
((500, 7), 5)
"""

from ._schema import BETH_COLUMNS, FEATURE_COLUMNS, KAGGLE_SPLITS
from .evaluation import anomaly_labels, confusion_rates, plot_confusion_rates
from .features import preprocess
from .loading import (
    WORKSHOP_ORIGINS,
    build_classroom_csv,
    load_beth,
    load_kaggle_splits,
    load_workshop_data,
    write_classroom_csv,
)
from .sampling import get_sample

__version__ = "0.1.0"

__all__ = [
    "BETH_COLUMNS",
    "FEATURE_COLUMNS",
    "KAGGLE_SPLITS",
    "WORKSHOP_ORIGINS",
    "anomaly_labels",
    "build_classroom_csv",
    "confusion_rates",
    "get_sample",
    "load_beth",
    "load_kaggle_splits",
    "load_workshop_data",
    "plot_confusion_rates",
    "preprocess",
    "write_classroom_csv",
]
