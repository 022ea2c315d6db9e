"""Rebuild beth_helpers/data/workshop_rows.csv.gz from the real BETH rows.

Usage: python scripts/build_workshop_data.py [SOURCE_FOLDER]

SOURCE_FOLDER defaults to ../shared/data/beth-real (see its SOURCES.md). The four files
with all 16 BETH columns are concatenated byte for byte, header once, in the order of
beth_helpers.loading.WORKSHOP_ORIGINS; rows are not parsed, reformatted or reordered.
The only change is that line endings become "\n" (the *_head100.csv files use "\r\n").
The gzip stream carries no file name or time stamp, so the output is reproducible.
Prints the SHA-256 to pin in beth_helpers/loading.py.
"""

import gzip
import hashlib
import sys
from pathlib import Path

FILES = (
    "test_split_rows_host217.csv",
    "testing_head100.csv",
    "training_head100.csv",
    "validation_head100.csv",
)
ROOT = Path(__file__).resolve().parent.parent


def main(source: Path) -> None:
    header = None
    body = []
    for name in FILES:
        lines = [line + b"\n" for line in (source / name).read_bytes().splitlines()]
        if header is None:
            header = lines[0]
        elif lines[0] != header:
            sys.exit(f"{name}: header differs from {FILES[0]}'s")
        body.extend(lines[1:])
        print(f"{name}: {len(lines) - 1} rows")
    raw = header + b"".join(body)
    out = ROOT / "beth_helpers" / "data" / "workshop_rows.csv.gz"
    packed = gzip.compress(raw, compresslevel=9, mtime=0)
    out.write_bytes(packed)
    print(f"wrote {out} ({len(body)} rows, {len(packed):,} bytes)")
    print("sha256", hashlib.sha256(packed).hexdigest())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "beth-real")
