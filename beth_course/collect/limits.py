"""What one intake may hold, and the error that refuses an intake as a whole."""

from __future__ import annotations

from dataclasses import dataclass

from ..course import CourseError

MAX_NOTEBOOK_BYTES = 50 * 2**20
"""Largest notebook filed (uncompressed); a larger one is listed as invalid."""
MAX_INTAKE_BYTES = 2 * 2**30
"""Most bytes decompressed from zips in one intake (notebooks and nested zips)."""
MAX_ZIP_DEPTH = 3
"""Zips inside the intake zip, nested at most this deep."""
MAX_ZIP_ENTRIES = 100_000
"""Most entries in any one zip."""


class CollectError(CourseError):
    """The intake as a whole cannot be collected (missing, hostile, too large, bad rules)."""


@dataclass(frozen=True)
class Limits:
    """The caps one collection works under (``c.BethCollect.max_*`` sets them).

    Past ``intake_bytes``, ``zip_depth`` or ``zip_entries`` the whole intake is refused;
    a notebook over ``notebook_bytes`` is listed as invalid and not read.
    """

    notebook_bytes: int = MAX_NOTEBOOK_BYTES
    intake_bytes: int = MAX_INTAKE_BYTES
    zip_depth: int = MAX_ZIP_DEPTH
    zip_entries: int = MAX_ZIP_ENTRIES


def size_text(n: int) -> str:
    """``n`` bytes for a person: ``50 MB``, ``2 GiB``, ``1,234 bytes``."""
    if n >= 2**30 and n % 2**27 == 0:
        return f"{n / 2**30:g} GiB"
    if n >= 2**20 and n % 2**17 == 0:
        return f"{n / 2**20:g} MB"
    return f"{n:,} bytes"
