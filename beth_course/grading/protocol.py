"""Messages between the grader and its checker process: a JSON header and a binary blob.

Each message is ``<u32 header length><header JSON><u64 blob length><blob>``. Readers cap
both lengths and, on the grader's side, wait no longer than a deadline.
"""

from __future__ import annotations

import json
import os
import select
import struct
import time

MAX_HEADER = 64 * 2**20


class ProtocolError(RuntimeError):
    """The other side sent something that is not a message, or nothing in time."""


def send(fd: int, header: dict, blob: bytes = b"", deadline: float | None = None) -> None:
    """Write one message; with a deadline, give up (ProtocolError) when the other side
    stops reading (``fd`` must then be non-blocking)."""
    head = json.dumps(header).encode()
    data = struct.pack("<I", len(head)) + head + struct.pack("<Q", len(blob)) + blob
    view = memoryview(data)
    while view:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
                raise ProtocolError("the other side stopped reading")
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        view = view[written:]


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, left = [], size
    while left:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise ProtocolError("no answer in time")
        try:
            chunk = os.read(fd, min(left, 1 << 20))
        except BlockingIOError:
            continue
        if not chunk:
            raise ProtocolError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def receive(fd: int, max_blob: int, deadline: float | None = None) -> tuple[dict, bytes]:
    """One message; :class:`ProtocolError` if it is malformed, too large or late."""
    (size,) = struct.unpack("<I", _read_exactly(fd, 4, deadline))
    if size > MAX_HEADER:
        raise ProtocolError(f"a message header of {size} bytes is over the limit")
    try:
        header = json.loads(_read_exactly(fd, size, deadline))
    except ValueError as exc:
        raise ProtocolError(f"a message header is not JSON: {exc}") from None
    (blob_size,) = struct.unpack("<Q", _read_exactly(fd, 8, deadline))
    if blob_size > max_blob:
        raise ProtocolError(f"a message of {blob_size} bytes is over the limit of {max_blob}")
    if not isinstance(header, dict):
        raise ProtocolError("a message header is not an object")
    return header, _read_exactly(fd, blob_size, deadline)
