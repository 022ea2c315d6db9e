"""Dates in an intake: zip entry times, file names' dates, and the zone of naive ones."""

from __future__ import annotations

import re
import struct
import zipfile
from datetime import datetime, timezone, tzinfo

from .limits import CollectError

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
"""nbgrader's ``timestamp.txt`` format (always written in UTC)."""

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # what zip tools write for "no date"

# Where a submission's time came from (``time_source`` in the report and ``lms.json``).
FILE_NAME = "file name"
"""The date an LMS wrote into the upload's name (Blackboard's attempt date)."""
ZIP_ENTRY = "zip entry"
"""The date the LMS's zip records for the upload (never a date inside the upload)."""
FILE_MTIME = "file modification time"
"""The modification time of the upload in the intake folder."""
COLLECTION_TIME = "collection time"
"""None of the above was there: the time of this collection."""


def zone(name: str) -> tzinfo | None:
    """The tzinfo for naive dates: the named zone, or None for this computer's local zone."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CollectError(
            f"c.BethCollect.timezone = {name!r} is not a time zone; use an IANA name such as "
            "'Europe/London' or 'UTC'"
        ) from None


def aware(naive: datetime, where: tzinfo | None) -> datetime:
    """``naive`` read in ``where`` (None: local time), as UTC."""
    local = naive.replace(tzinfo=where) if where is not None else naive.astimezone()
    return local.astimezone(timezone.utc)


def stamp_text(when: datetime) -> str:
    """``when`` as nbgrader writes ``timestamp.txt``: ``2026-11-20 09:12:44.000000 UTC``."""
    return when.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)


def parse_stamp(text: str, where: tzinfo | None) -> datetime | None:
    """The date in an LMS file name (``2026-11-20-10-00-00``: 12 or 14 digits), or None."""
    digits = "".join(re.findall(r"\d", text))
    formats = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M"}
    if len(digits) not in formats:
        return None
    try:
        return aware(datetime.strptime(digits, formats[len(digits)]), where)
    except ValueError:
        return None


def zip_time(info: zipfile.ZipInfo, where: tzinfo | None) -> datetime | None:
    """An entry's date: its Info-ZIP UTC time if it has one, else its local date read in
    ``where``; None for zip's "no date" (1980-01-01 00:00) or an impossible date."""
    seconds = _unix_time(info.extra)
    if seconds is not None and seconds > 0:
        return datetime.fromtimestamp(seconds, timezone.utc)
    if tuple(info.date_time) == _ZIP_EPOCH:
        return None
    try:
        return aware(datetime(*info.date_time), where)
    except ValueError:
        return None


def _unix_time(extra: bytes) -> int | None:
    """The modification time in an Info-ZIP extended timestamp field (0x5455), if any."""
    i = 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        if kind == 0x5455 and len(body) >= 5 and body[0] & 1:
            return struct.unpack_from("<i", body, 1)[0]
        i += 4 + size
    return None
