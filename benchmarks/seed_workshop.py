"""The seed workshop's data code, RECONSTRUCTED for benchmarking.

Reconstructed from the descriptions in issues #2 and #5; not the original file. The seed
workshop is not in this repository, and no copy of its code was found; everything below
follows what those issues say the seed does, and where they are silent the choice made
is written next to the code ("assumption"). Do not import this module from the course or
from ``beth_helpers``: it keeps the seed's bugs on purpose, so that the benchmarks in this
folder compare against the code the course replaces.

What the issues say, and where it is reproduced:

- the seed reads ``data.csv`` with ``pandas.read_csv`` and default arguments
  (:func:`load_data`);
- its ``preprocess(df)`` maps ``processId`` and ``parentProcessId`` to 0 if the value is 0, 1
  or 2, else 1, ``userId`` to 0 if below 1000, else 1, and ``returnValue`` to -1, 0 or 1, with
  row-wise ``.apply``/``.map`` calls on Python lambdas; its two ``mountNamespace`` lines select
  values without assigning them, so they change nothing; it drops ``timestamp, threadId,
  processName, hostName, eventName, stackAddresses, args, sus`` (its text said ``threadId``
  was kept, its code dropped it) and returns ``(df, X, y)`` with ``X`` = ``df`` without
  ``evil`` and ``y = df['evil']`` (:func:`preprocess`);
- its ``get_sample(n, pct_evil)`` re-reads ``data.csv`` from disk on every call and draws the
  evil and benign rows with ``DataFrame.sample`` (:func:`get_sample`).

Checked fact (on the 6,791 real rows of ``beth_helpers.load_workshop_data()``, pandas 3.1 and
2.2): because the ``mountNamespace`` lines are no-ops, the ``X`` returned here still holds
the raw namespaces 4026531840 (6,661 rows), 4026532232 (114) and 4026532231 (16), whereas
``beth_helpers.preprocess`` maps them to 0 (6,661) and 1 (130). The other six features and
``y`` agree value for value between the two. ``bench_data.py`` re-checks this on every run.
"""

from __future__ import annotations

import pandas as pd

#: The seed's file name, relative to the working directory (Colab's /content).
DATA_CSV = "data.csv"


def load_data(path=DATA_CSV):
    """Read the classroom file as the seed does: ``pd.read_csv`` with default arguments."""
    return pd.read_csv(path)


def preprocess(df):
    """The seed's feature engineering, bugs included.

    Assumption: the seed assigned the mapped columns back into the DataFrame it was given
    (as notebook code usually does), so the caller's ``df`` is modified; the issue's demand
    that ``beth_helpers.preprocess`` "never mutates its input" points the same way. The
    dropped columns go into a new DataFrame, which is returned.

    ``Series.map`` and ``Series.apply`` with a lambda both call Python once per row; the
    reconstruction uses ``.map`` for the identifiers (as the BETH authors' analysis code,
    jinxmirror13/BETH_Dataset_Analysis, is widely quoted doing) and ``.apply`` for
    ``returnValue``, so both spellings the issue names appear.
    """
    # processId, parentProcessId: 0 for the OS's own processes (0, 1, 2), else 1.
    df["processId"] = df["processId"].map(lambda x: 0 if x in [0, 1, 2] else 1)
    df["parentProcessId"] = df["parentProcessId"].map(lambda x: 0 if x in [0, 1, 2] else 1)
    # userId: 0 for system accounts (< 1000), else 1.
    df["userId"] = df["userId"].map(lambda x: 0 if x < 1000 else 1)
    # mountNamespace: meant to become 0 for the host's namespace 4026531840, else 1. THE BUG:
    # both lines only select the matching values and throw the selection away, so the raw
    # namespace numbers (4026531840, 4026532232, ...) stay in the data. Kept on purpose.
    df.loc[df["mountNamespace"] == 4026531840, "mountNamespace"]
    df.loc[df["mountNamespace"] != 4026531840, "mountNamespace"]
    # returnValue: -1 for errors (negative), 0 for success, 1 for positive values.
    df["returnValue"] = df["returnValue"].apply(lambda x: -1 if x < 0 else (0 if x == 0 else 1))
    df = df.drop(
        columns=[
            "timestamp",
            "threadId",
            "processName",
            "hostName",
            "eventName",
            "stackAddresses",
            "args",
            "sus",
        ]
    )
    X = df.drop(columns="evil")
    y = df["evil"]
    return df, X, y


def get_sample(n, pct_evil, *, random_state=None):
    """Draw ``n`` rows, a share ``pct_evil`` of them evil, re-reading ``data.csv`` each call.

    As in the seed, the whole of ``data.csv`` (in the working directory) is read from disk on
    every call and the rows come back raw (not preprocessed).

    Assumptions where the issues are silent: the number of evil rows is
    ``int(n * pct_evil)`` (truncation; for the seed's sizes, 25,000 rows at 50% and at 1%,
    truncating and rounding agree), and evil rows come first, then benign, then the whole is
    shuffled with ``sample(frac=1)``. ``random_state`` was not in the seed (it drew a new
    sample on every call, which is what ``None`` does); it is here only so that a benchmark
    can make its runs repeatable, and it is keyword-only so the seed's call
    ``get_sample(n, pct_evil)`` is unchanged.
    """
    df = pd.read_csv(DATA_CSV)
    n_evil = int(n * pct_evil)
    evil = df[df["evil"] == 1].sample(n_evil, random_state=random_state)
    benign = df[df["evil"] == 0].sample(n - n_evil, random_state=random_state)
    return pd.concat([evil, benign]).sample(frac=1, random_state=random_state)
