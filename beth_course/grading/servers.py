"""What a grading process keeps from one submission to the next: its slot and checker servers.

A grading process (a pool worker, a Dask worker thread) holds one sandbox slot for its whole
life, so its users are stable, and keeps a :class:`~.checking.CheckerServer` per assignment
(keyed by the assignment's input files and limits) whose imports are paid once. Both are
per thread. Everything is closed when the process exits.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading

from .checking import CheckerServer, CheckerSpec
from .slots import Slot

_local = threading.local()
_everything: list = []  # (server, folder) of every thread, for the exit clean-up


def process_slot(uid_base: int) -> Slot:
    """This thread's slot, taken on first use and held until the process exits."""
    slot = getattr(_local, "slot", None)
    if slot is None or getattr(_local, "uid_base", None) != uid_base:
        slot = Slot(uid_base)
        _local.slot, _local.uid_base = slot, uid_base
    return slot


def _key(sources: dict[str, bytes], spec: CheckerSpec, preload: list[str]) -> str:
    digest = hashlib.sha256(
        repr((sorted(spec.env.items()), spec.uid, spec.sandboxed, spec.limits, preload)).encode()
    )
    for name in sorted(sources):
        digest.update(name.encode() + b"\0" + sources[name] + b"\0")
    return digest.hexdigest()


def checker_server(
    sources: dict[str, bytes],
    spec: CheckerSpec,
    preload: list[str],
    matplotlib_cache: str | None = None,
) -> CheckerServer:
    """A running checker server for these input files and settings (started if needed).

    The server's copies of the input files (and of matplotlib's font cache) live in a folder
    of its own, which outlives single gradings; ``spec`` is completed with them.
    """
    servers = _local.__dict__.setdefault("servers", {})
    key = _key(sources, spec, preload)
    server = servers.get(key)
    if server is not None and server.alive():
        return server
    if server is not None:
        server.close()
    folder = tempfile.mkdtemp(prefix="beth-checker-")
    if matplotlib_cache and os.path.isdir(matplotlib_cache):
        mpl = os.path.join(folder, "matplotlib")
        shutil.copytree(matplotlib_cache, mpl)
        _give(mpl, spec.uid if spec.sandboxed else -1)
        spec.env = {**spec.env, "MPLCONFIGDIR": mpl}
        spec.writable = [*spec.writable, mpl]
    inputs = {}
    for name, data in sources.items():
        path = os.path.join(folder, "inputs", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        inputs[name] = path
    spec.inputs, spec.cwd = inputs, os.path.join(folder, "inputs")
    os.makedirs(spec.cwd, exist_ok=True)
    server = CheckerServer(spec, folder, preload)
    servers[key] = server
    _everything.append((server, folder))
    return server


def _give(path: str, uid: int) -> None:
    """Give a folder to the checker's user (as root only)."""
    if os.geteuid() != 0 or uid < 0:
        return
    for parent, _, files in os.walk(path):
        os.chown(parent, uid, uid)
        for name in files:
            os.chown(os.path.join(parent, name), uid, uid)


@atexit.register
def close_all() -> None:
    """Stop every checker server of this process and remove their folders."""
    while _everything:
        server, folder = _everything.pop()
        try:
            server.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
