"""CSV files as LMSs write and read them: encodings, delimiters, and writing one back.

An LMS's CSV is not always UTF-8 with commas. Canvas's gradebook export may start with a
byte-order mark and use ``;`` for locales with a decimal comma (``include_bom`` and
``col_sep`` in canvas-lms ``lib/gradebook_exporter.rb``; its importer,
``lib/gradebook_importer.rb``, reads either). Blackboard's Grade Centre "Work Offline >
Download" writes tab-delimited UTF-16 (as ``.xls``) or comma-delimited ``.csv`` (Blackboard
Learn help, "Uploading or Downloading Grade Center Items for Working Offline").
:func:`read_table` reads any of these and remembers how the file was written, so that
:func:`write_table` writes a changed copy the same way, every other cell as it was.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from .course import CourseError

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_DELIMITERS = (",", ";", "\t")


@dataclass
class Table:
    """A CSV file read whole: its header, its other rows, and how it was written."""

    header: list[str]
    rows: list[list[str]]
    """Every row after the header, as read (the LMS's own extra rows included)."""
    encoding: str = "utf-8"
    delimiter: str = ","
    newline: str = "\r\n"
    source: str = field(default="", compare=False)
    """Where it was read from, for messages."""

    def index(self, name: str) -> int | None:
        """The position of the column headed exactly ``name``, or None."""
        return self.header.index(name) if name in self.header else None

    def cell(self, row: list[str], name: str) -> str:
        """``row``'s value in the column ``name`` (stripped), "" if absent or short."""
        at = self.index(name)
        return row[at].strip() if at is not None and at < len(row) else ""


def read_table(path: Path) -> Table:
    """Read an LMS's CSV export: UTF-8 (with or without a BOM) or UTF-16, with ``,``,
    ``;`` or tab between fields.

    Parameters
    ----------
    path : Path
        The file as downloaded from the LMS.

    Returns
    -------
    Table
        Its header and rows; the file is not changed.

    Raises
    ------
    CourseError
        The file is missing, empty, or not text in one of those encodings.

    Examples
    --------
    >>> p = tmp_path / "t.csv"
    >>> _ = p.write_bytes(b'\\xef\\xbb\\xbf"Student";"ID"\\r\\n"Smith, Ann";"7"\\r\\n')
    >>> t = read_table(p)
    >>> t.header, t.rows, t.delimiter, t.encoding
    (['Student', 'ID'], [['Smith, Ann', '7']], ';', 'utf-8-sig')
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise CourseError(f"{path} does not exist: give the CSV file as downloaded from the LMS")
    data = path.read_bytes()
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise CourseError(
            f"{path} is not UTF-8 or UTF-16 text (a spreadsheet saved it in another "
            'encoding?): download it from the LMS again, or save it as "CSV UTF-8"'
        ) from None
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CourseError(f"{path} is empty or has no header line: download it from the LMS again")
    delimiter = max(_DELIMITERS, key=lambda d: len(next(csv.reader([lines[0]], delimiter=d))))
    rows = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]
    return Table(
        header=rows[0],
        rows=rows[1:],
        encoding=encoding,
        delimiter=delimiter,
        newline="\r\n" if "\r\n" in text else "\n",
        source=str(path),
    )


def write_table(table: Table, path: Path, force: bool = False) -> None:
    """Write ``table`` to ``path`` the way it was read (encoding, delimiter, line ends).

    The file is written to a temporary file beside ``path`` first and then moved into
    place, so a failed write leaves what was there.

    Raises
    ------
    CourseError
        ``path`` exists and ``force`` is false, or the write failed.
    """
    path = Path(path).expanduser()
    if path.exists() and not force:
        raise CourseError(f"{path} exists and was left as it is; pass --force to replace it")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=table.delimiter, lineterminator=table.newline)
    writer.writerows([table.header, *table.rows])
    data = buffer.getvalue().encode(table.encoding)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
        raise CourseError(
            f"could not write {path} ({exc.strerror or exc}); nothing was changed"
        ) from exc
