"""Reading and writing BETH process-log CSV files.

Every reader here returns a DataFrame with the 16 BETH columns in the official order and
stable dtypes; every writer refuses to overwrite an existing file unless told to.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import secrets
import warnings
import zlib
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd

from ._quoting import quote, quote_all, shorten
from ._schema import (
    _BETH_COLUMNS,
    FLOAT_COLUMNS,
    INTEGER_COLUMNS,
    KAGGLE_SPLITS,
    LABEL_COLUMNS,
)

PathLike = Union[str, "os.PathLike[str]"]

_DTYPES = {**{c: "int64" for c in INTEGER_COLUMNS}, **{c: "float64" for c in FLOAT_COLUMNS}}

# The per-host files of the Kaggle download lack exactly these three columns.
_PER_HOST_MISSING = {"threadId", "mountNamespace", "stackAddresses"}

# The shipped real rows: file name inside the package, its SHA-256, and where each block of
# rows came from (in file order). PROVENANCE.md beside the file tells the whole story.
_WORKSHOP_FILE = "workshop_rows.csv.gz"
_WORKSHOP_SHA256 = "ae9a4eb8b3f85b8621e5c8625d2adce0d1c8b6488c9409d3417367ebcb3c1570"
WORKSHOP_ORIGINS: tuple[tuple[str, int], ...] = (
    ("testing split, host ip-10-100-1-217, attack rows (via WhiteHatHud/STARAI)", 6491),
    ("testing split, first 100 rows (via Jotishyadav29/BethSecure)", 100),
    ("training split, first 100 rows (via Jotishyadav29/BethSecure)", 100),
    ("validation split, first 100 rows (via Jotishyadav29/BethSecure)", 100),
)


# No path is longer (Linux's PATH_MAX): a longer "path" is text passed by mistake, most
# often the file's contents, and quoting it whole would flood the notebook.
_PATH_MAX = 4096


def _as_path(path: PathLike, caller: str) -> Path:
    """``path`` as a Path, or a short ValueError if it cannot be one."""
    text = os.fspath(path)
    if isinstance(text, str) and len(text) > _PATH_MAX:
        raise ValueError(
            f"{caller}: expected the path of a file or folder, got text: {quote(text)}. Pass "
            "the path (to use CSV text you hold in a string, write it to a file first)."
        )
    return Path(path)


def _fail(path: Path, what: str) -> ValueError:
    return ValueError(f"load_beth: {path}: {what}")


# What a cut-short or corrupted .gz raises while pandas reads it.
_DAMAGED = (EOFError, zlib.error, gzip.BadGzipFile)


def _damaged(path: Path, exc: BaseException) -> ValueError:
    return _fail(
        path,
        f"the compressed file is damaged or cut short ({type(exc).__name__}: {exc}); "
        "download or copy it again.",
    )


def _sniff_compression(path: Path) -> str | None:
    """Tell gzip from plain text by the file's first bytes, whatever its name says."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"PK\x03\x04":
        raise _fail(
            path,
            "this is a zip archive, not a CSV file. Unzip it (the Kaggle download "
            "holds labelled_training_data.csv, labelled_validation_data.csv and "
            "labelled_testing_data.csv) and pass one of the CSV files.",
        )
    return None


def _check_header(path: Path, columns: list[str]) -> None:
    present = set(columns)
    missing = [c for c in _BETH_COLUMNS if c not in present]
    extra = [c for c in columns if c not in _BETH_COLUMNS]
    if not missing and not extra and len(columns) == len(_BETH_COLUMNS):
        return
    if len(missing) == len(_BETH_COLUMNS):
        shown = ", ".join(quote(c) for c in columns[:5])
        raise _fail(
            path,
            "this does not look like a BETH process-log CSV: its first line has none of "
            f"the 16 BETH columns (it starts with {shown}). Expected a header line "
            f"'{','.join(_BETH_COLUMNS)}'.",
        )
    if len(present) < len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise _fail(
            path, f"duplicated column names {quote_all(dup)}; each BETH column must appear once."
        )
    parts = []
    if missing:
        parts.append(f"missing columns {missing}")
    if extra:
        parts.append(f"unexpected columns {quote_all(extra)}")
    hint = "A BETH process-log CSV has exactly these 16 columns: " + ", ".join(_BETH_COLUMNS) + "."
    if set(missing) == _PER_HOST_MISSING and not extra:
        hint = (
            "This looks like one of the per-host files (labelled_2021may-*.csv), which lack "
            "threadId, mountNamespace and stackAddresses; use the labelled_*_data.csv splits."
        )
    raise _fail(path, "; ".join(parts) + ". " + hint)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INT64_RANGE = f"{_INT64_MIN:,} to {_INT64_MAX:,}"
# What pandas's integer parser reads exactly; anything else (a '.' or an exponent) it reads
# as a float, and then casts to int64 only if that float fits.
_INTEGER_LITERAL = re.compile(r"[+-]?[0-9]+")


def _fits_int64(text: str, as_float: float) -> bool:
    """Whether read_csv can take a whole number, as written, into an int64 column."""
    text = text.strip()
    if _INTEGER_LITERAL.fullmatch(text):
        digits = text.lstrip("+-").lstrip("0")
        value = int(digits or "0") * (-1 if text.startswith("-") else 1)
        return len(digits) <= 19 and _INT64_MIN <= value <= _INT64_MAX
    return -(2.0**63) <= as_float < 2.0**63


def _first_bad_value(path: Path, compression: str | None) -> ValueError | None:
    """Find the first value in a numeric column that read_csv cannot take as its dtype.

    That is a missing or non-numeric value, and in an integer column also a fraction, an
    infinity, or a whole number outside int64 (pandas says only "Overflow" for those).
    """
    numeric = list(INTEGER_COLUMNS) + list(FLOAT_COLUMNS)
    raw = pd.read_csv(
        path,
        usecols=numeric,
        dtype=str,
        keep_default_na=False,
        compression=compression,
    )
    for column in _BETH_COLUMNS:
        if column not in numeric:
            continue
        text = raw[column].str.strip()
        values = pd.to_numeric(text, errors="coerce")
        as_float = values.to_numpy(dtype="float64", na_value=np.nan)
        bad = np.isnan(as_float)
        integer = column in INTEGER_COLUMNS
        if integer:
            with np.errstate(invalid="ignore"):
                # Near 2**63 a float cannot tell in range from out: those rows are checked
                # exactly below, and the ones that fit are passed over.
                bad = bad | ~np.isfinite(as_float) | (np.floor(as_float) != as_float)
                bad = bad | (np.abs(as_float) >= 2.0**63)
        for row in np.flatnonzero(bad):
            shown = raw[column].iloc[row]
            value = as_float[row]
            too_large = integer and np.isfinite(value) and np.floor(value) == value
            if too_large and _fits_int64(shown, value):
                continue
            kind = "an integer" if integer else "a number"
            what = "is empty" if shown.strip() == "" else f"holds {quote(shown)}"
            if too_large:
                if _INTEGER_LITERAL.fullmatch(shown.strip()):
                    what += ", which is"
                else:
                    what += (
                        ", which read as a decimal number (as anything with a '.' or an "
                        f"exponent is) is {value:.17g},"
                    )
                what += f" outside the range of a 64-bit integer ({_INT64_RANGE})"
            return _fail(
                path,
                f"column {column!r} must hold {kind} in every row, but data row {row + 1} "
                f"(line {row + 2} of the file, counting the header) {what}. Fix or remove "
                "that row.",
            )
    return None


def load_beth(path: PathLike) -> pd.DataFrame:
    """Read a BETH process-log CSV file into a DataFrame with stable dtypes.

    Reads an official Kaggle split (``labelled_training_data.csv`` and its siblings), the
    classroom ``data.csv``, or either of them gzip-compressed (``.csv.gz``; compression is
    recognised by content, not by name). The file is only read, never written.

    Parameters
    ----------
    path : str or path-like
        The CSV file.

    Returns
    -------
    pandas.DataFrame
        One row per kernel event, with the 16 columns of :data:`BETH_COLUMNS` in that
        order: ``int64`` for the ten integer fields (``sus`` and ``evil`` hold 0 or 1),
        ``float64`` for ``timestamp``, and a string dtype for ``processName``,
        ``hostName``, ``eventName``, ``stackAddresses`` and ``args`` (``object`` on
        pandas 2, ``str`` on pandas 3).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is empty, is not a CSV file, lacks any of the 16 columns or has others,
        holds a value that is not a number in a numeric column (or, in an integer column,
        not a whole number that fits in int64), or has a label other than 0 or 1. The
        message names the column and the first offending line, and quotes at most 80
        characters of the value.

    Examples
    --------
    >>> from beth_helpers import load_beth, write_classroom_csv
    >>> path = write_classroom_csv(tmp_path / "data.csv")
    >>> df = load_beth(path)
    >>> df.shape
    (6791, 16)
    >>> str(df["mountNamespace"].dtype)
    'int64'
    """
    path = _as_path(path, "load_beth")
    if not path.exists():
        raise FileNotFoundError(
            f"load_beth: {path} does not exist (looked in {path.resolve().parent}). "
            "Check the file name, or upload the file first."
        )
    if path.is_dir():
        raise _fail(path, "this is a folder; pass the CSV file inside it.")
    compression = _sniff_compression(path)
    try:
        # header=None: read the names as written (pandas renames a duplicate 'x' to 'x.1').
        header = pd.read_csv(
            path, header=None, nrows=1, dtype=str, keep_default_na=False, compression=compression
        )
    except pd.errors.EmptyDataError:
        raise _fail(path, "the file is empty; expected a header line and rows.") from None
    except UnicodeDecodeError:
        raise _fail(path, "this is not a text CSV file (it is not valid UTF-8).") from None
    except pd.errors.ParserError as exc:
        raise _fail(path, f"this could not be parsed as CSV ({shorten(str(exc), 200)}).") from None
    except _DAMAGED as exc:
        raise _damaged(path, exc) from None
    _check_header(path, [str(c) for c in header.iloc[0]])

    try:
        with warnings.catch_warnings():
            # An infinity in an int64 column makes pandas warn before it fails; the failure
            # is explained below, so the warning would only be noise in front of it.
            warnings.filterwarnings(
                "ignore", "invalid value encountered in cast", category=RuntimeWarning
            )
            df = pd.read_csv(path, dtype=_DTYPES, compression=compression)
    except pd.errors.ParserError as exc:
        raise _fail(
            path,
            f"this could not be parsed as CSV ({shorten(str(exc), 200)}). Is a row cut short "
            "or split?",
        ) from None
    except _DAMAGED as exc:
        raise _damaged(path, exc) from None
    except UnicodeDecodeError as exc:
        raise _fail(
            path,
            f"part of the file is not UTF-8 text (byte {exc.start} of a block): is it damaged?",
        ) from None
    except (ValueError, OverflowError, TypeError) as exc:
        diagnosis = _first_bad_value(path, compression)
        if diagnosis is not None:
            raise diagnosis from None
        raise _fail(
            path,
            f"this could not be read ({shorten(str(exc), 200)}). Check that every numeric "
            "column holds plain numbers.",
        ) from None  # a chained cause would print pandas's message whole, value and all

    if len(df) == 0:
        raise _fail(path, "the file has a header line but no rows.")
    if df[list(FLOAT_COLUMNS)].isna().any().any():  # read_csv takes "", "n/a", ... as NaN
        raise _first_bad_value(path, compression) or _fail(path, "timestamp has missing values.")
    # pandas 2 reads 2**63 .. 2**64-1 as uint64 whatever dtype was asked for (pandas 3 raises).
    not_int64 = [c for c in INTEGER_COLUMNS if df[c].dtype != np.dtype("int64")]
    if not_int64:
        raise _first_bad_value(path, compression) or _fail(
            path, f"columns {not_int64} could not be read as int64; check their values."
        )
    for label in LABEL_COLUMNS:
        values = df[label].to_numpy()
        bad = (values != 0) & (values != 1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise _fail(
                path,
                f"column {label!r} must hold 0 or 1, but data row {row + 1} (line {row + 2}) "
                f"holds {values[row]}.",
            )
    if tuple(df.columns) != _BETH_COLUMNS:
        df = df[list(_BETH_COLUMNS)]
    return df


def _workshop_resource():
    return resources.files("beth_helpers").joinpath("data", _WORKSHOP_FILE)


def load_workshop_data(with_origin: bool = False) -> pd.DataFrame:
    """Return the 6,791 real BETH rows shipped with this package.

    The rows were copied unchanged from public republications of the BETH dataset
    (Highnam et al. 2021; Kaggle ``katehighnam/beth-dataset``): 6,491 rows of the testing
    split from host ``ip-10-100-1-217`` that are dominated by the attack, and the first 100
    rows of each of the testing, training and validation splits. 6,201 rows are evil and
    590 are not. ``beth_helpers/data/PROVENANCE.md`` gives the sources. They are a real but
    small and attack-heavy subset, not a sample of the full dataset's proportions.

    Parameters
    ----------
    with_origin : bool, default False
        Add a text column ``origin`` saying which published file each row comes from.

    Returns
    -------
    pandas.DataFrame
        As :func:`load_beth` returns (plus ``origin`` when asked for).

    Examples
    --------
    >>> from beth_helpers import load_workshop_data
    >>> df = load_workshop_data()
    >>> len(df), int(df["evil"].sum())
    (6791, 6201)
    """
    resource = _workshop_resource()
    data = resource.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != _WORKSHOP_SHA256:
        raise RuntimeError(
            f"load_workshop_data: the packaged file {_WORKSHOP_FILE} is damaged (SHA-256 "
            f"{digest}, expected {_WORKSHOP_SHA256}); reinstall beth_helpers."
        )
    with resources.as_file(resource) as path:
        df = load_beth(path)
    if with_origin:
        labels = [label for label, count in WORKSHOP_ORIGINS for _ in range(count)]
        df = df.assign(origin=labels)
    return df


def _check_writable(path: Path, overwrite: bool, caller: str) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{caller}: {path} already exists and was left as it is; pass overwrite=True "
            "to replace it, or choose another path."
        )
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{caller}: the folder {path.parent} does not exist.")


def _write_csv_atomically(df: pd.DataFrame, path: Path, overwrite: bool, caller: str) -> Path:
    _check_writable(path, overwrite, caller)
    # An exclusive create with a random name: the file gets the mode open() gives (unlike
    # mkstemp's 0600), and a crash leaves at most a hidden .tmp file, never half a CSV.
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        with open(tmp, "x", newline="") as fh:
            df.to_csv(fh, index=False, columns=list(_BETH_COLUMNS))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_classroom_csv(
    path: PathLike = "data.csv",
    data: pd.DataFrame | None = None,
    *,
    overwrite: bool = False,
) -> Path:
    """Write a classroom ``data.csv``: by default the shipped real rows.

    The file has the 16 BETH columns in the official order, no index column, and is written
    to a temporary file first, so an interrupted write never leaves half a file behind.

    Parameters
    ----------
    path : str or path-like, default "data.csv"
        Where to write. Its folder must exist.
    data : pandas.DataFrame, optional
        Rows to write, with the 16 BETH columns (extra columns are left out). Defaults to
        :func:`load_workshop_data`.
    overwrite : bool, default False
        Replace ``path`` if it exists. Without it an existing file is never touched.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    ValueError
        If ``data`` lacks some of the 16 BETH columns.

    Examples
    --------
    >>> from beth_helpers import write_classroom_csv
    >>> write_classroom_csv(tmp_path / "data.csv").name
    'data.csv'
    """
    path = _as_path(path, "write_classroom_csv")
    _check_writable(path, overwrite, "write_classroom_csv")  # fail before any work
    if data is None:
        data = load_workshop_data()
    missing = [c for c in _BETH_COLUMNS if c not in data.columns]
    if missing:
        raise ValueError(f"write_classroom_csv: data lacks the BETH columns {missing}.")
    return _write_csv_atomically(data, path, overwrite, "write_classroom_csv")


def _split_path(folder: Path, filename: str) -> Path | None:
    for candidate in (folder / filename, folder / (filename + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def load_kaggle_splits(
    folder: PathLike, splits: Iterable[str] = ("training", "validation", "testing")
) -> dict[str, pd.DataFrame]:
    """Read the official labelled BETH splits from a folder, by their official file names.

    The folder is the unzipped Kaggle download (``katehighnam/beth-dataset``), which holds
    ``labelled_training_data.csv`` (763,144 rows), ``labelled_validation_data.csv``
    (188,967) and ``labelled_testing_data.csv`` (188,967). A ``.csv.gz`` copy is accepted
    in place of each file.

    Parameters
    ----------
    folder : str or path-like
        The folder holding the files.
    splits : iterable of {"training", "validation", "testing"}
        Which splits to read.

    Returns
    -------
    dict of str to pandas.DataFrame
        Each split as :func:`load_beth` returns it, keyed by split name.

    Raises
    ------
    FileNotFoundError
        If the folder or one of the files is missing; the message lists what is there.

    Examples
    --------
    >>> from beth_helpers import load_kaggle_splits
    >>> splits = load_kaggle_splits(kaggle_folder)
    >>> sorted(splits)
    ['testing', 'training', 'validation']
    """
    caller = "load_kaggle_splits"
    paths = _kaggle_paths(_as_path(folder, caller), list(splits), caller)
    return {s: load_beth(p) for s, p in paths.items()}


def _kaggle_paths(folder: Path, splits: list[str], caller: str) -> dict[str, Path]:
    """Each split's file in ``folder``, or an error saying what is missing; reads no rows."""
    unknown = [s for s in splits if s not in KAGGLE_SPLITS]
    if unknown:
        raise ValueError(
            f"{caller}: unknown splits {quote_all(unknown)}; choose from {list(KAGGLE_SPLITS)}."
        )
    fetch = "Download katehighnam/beth-dataset from Kaggle, unzip it, and pass that folder."
    if not folder.is_dir():
        what = "it is a file" if folder.exists() else "nothing exists at that path"
        raise FileNotFoundError(f"{caller}: {folder} is not a folder ({what}). {fetch}")
    paths = {s: _split_path(folder, KAGGLE_SPLITS[s]) for s in splits}
    missing = [KAGGLE_SPLITS[s] for s, p in paths.items() if p is None]
    if missing:
        present = sorted(p.name for p in folder.iterdir() if p.is_file())
        raise FileNotFoundError(
            f"{caller}: {folder} lacks {missing}. It holds {present[:20]}. {fetch}"
        )
    return {split: path for split, path in paths.items() if path is not None}


def build_classroom_csv(
    folder: PathLike,
    path: PathLike = "data.csv",
    *,
    n: int = 100_000,
    pct_evil: float = 0.25,
    random_state=None,
    replace: bool = False,
    overwrite: bool = False,
) -> Path:
    """Build a classroom ``data.csv`` from the official Kaggle splits.

    Draws ``n`` rows, ``round(n * pct_evil)`` of them evil, with :func:`get_sample`. Evil
    rows come only from the testing split (the only split with attack traffic); benign
    rows (``evil == 0``) come from all three splits. The result is a random subset of
    the real BETH rows, shuffled; say so wherever it is used.

    Parameters
    ----------
    folder : str or path-like
        The unzipped Kaggle download (see :func:`load_kaggle_splits`).
    path : str or path-like, default "data.csv"
        Where to write.
    n : int, default 100_000
        Rows in the file. The defaults leave room for the seed workshop's sample sizes
        (25,000 rows at 50% and at 1% evil).
    pct_evil : float, default 0.25
        Share of evil rows.
    random_state : int, numpy.random.RandomState or None
        Seed for a reproducible file; pass an int.
    replace : bool, default False
        Sample with replacement when a class has too few rows.
    overwrite : bool, default False
        Replace an existing ``path``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    FileNotFoundError
        If ``folder`` or one of its three files is missing (checked first, before
        ``path``).
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    beth_helpers.sampling.SampleSizeError
        (a ``ValueError``) If the files hold too few rows of a class for ``n`` and
        ``pct_evil`` and ``replace`` is False; its ``available`` says how many there are.

    Examples
    --------
    >>> from beth_helpers import build_classroom_csv
    >>> out = build_classroom_csv(kaggle_folder, tmp_path / "data.csv", n=200,
    ...                           pct_evil=0.5, random_state=0)
    >>> len(load_beth(out))
    200
    """
    from .sampling import get_sample

    caller = "build_classroom_csv"
    path = _as_path(path, caller)
    # Both checks before reading a million rows; a missing folder is named before an
    # existing target, so the advice is never "pass overwrite=True" for a wrong folder.
    _kaggle_paths(_as_path(folder, caller), list(KAGGLE_SPLITS), caller)
    _check_writable(path, overwrite, caller)
    splits = load_kaggle_splits(folder)
    evil = splits["testing"][splits["testing"]["evil"] == 1]
    benign = pd.concat([split[split["evil"] == 0] for split in splits.values()], ignore_index=True)
    pool = pd.concat([benign, evil], ignore_index=True)
    sample = get_sample(pool, n, pct_evil, random_state=random_state, replace=replace)
    return _write_csv_atomically(sample, path, overwrite, "build_classroom_csv")
