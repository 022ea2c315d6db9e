"""A byte-for-byte reproducible wheel of beth_helpers alone, for students.

The course's own distribution (``beth-workshop``) also carries the instructor tool and
its nbgrader dependency. Students need only ``beth_helpers``, so the release folder gets a
wheel of just that package, distribution name ``beth-helpers``. It is built here rather than
by a build backend so that the same sources always give the same bytes (entries sorted,
fixed timestamps, stored uncompressed), which lets a test compare ``release/`` with a fresh
build.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

DIST = "beth_helpers"
# Kept in step with pyproject.toml's [project] dependencies (a test checks).
REQUIRES = ("pandas>=2.2", "numpy>=1.26", "scikit-learn>=1.3", "matplotlib>=3.7", "seaborn>=0.13")
_DATE = (1980, 1, 1, 0, 0, 0)


def _package_files(package_dir: Path) -> list[Path]:
    keep = []
    for path in sorted(package_dir.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(package_dir)
        if path.suffix == ".py" or (
            rel.parts[0] == "data" and path.name.endswith((".csv.gz", ".md"))
        ):
            keep.append(path)
    return keep


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def wheel_name(version: str) -> str:
    return f"{DIST}-{version}-py3-none-any.whl"


def build_wheel(package_dir: Path, out_dir: Path, version: str) -> Path:
    """Write ``beth_helpers-<version>-py3-none-any.whl`` into ``out_dir``; return its path."""
    dist_info = f"{DIST}-{version}.dist-info"
    entries: list[tuple[str, bytes]] = []
    for path in _package_files(package_dir):
        arcname = f"{DIST}/" + path.relative_to(package_dir).as_posix()
        entries.append((arcname, path.read_bytes()))
    metadata = "\n".join(
        [
            "Metadata-Version: 2.1",
            "Name: beth-helpers",
            f"Version: {version}",
            "Summary: Helpers for the BETH anomaly-detection workshop (loading, preprocess, "
            "sampling, evaluation)",
            "License: MIT",
            "Requires-Python: >=3.10",
            *[f"Requires-Dist: {r}" for r in REQUIRES],
            "",
        ]
    )
    wheel_meta = (
        "Wheel-Version: 1.0\nGenerator: beth-course\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    entries.append((f"{dist_info}/METADATA", metadata.encode()))
    entries.append((f"{dist_info}/WHEEL", wheel_meta.encode()))
    record_lines = [f"{name},{_record_hash(data)},{len(data)}" for name, data in entries]
    record_lines.append(f"{dist_info}/RECORD,,")
    entries.append((f"{dist_info}/RECORD", ("\n".join(record_lines) + "\n").encode()))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_DATE)
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data)
    out = Path(out_dir) / wheel_name(version)
    out.write_bytes(buffer.getvalue())
    return out
