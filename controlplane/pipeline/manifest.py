"""The file manifest: every file of a title with its size, to spot missing or truncated files
without reading them (checking a default catalog costs about a thousand ``stat`` calls)."""

from __future__ import annotations

import json
from pathlib import Path

from controlplane.pipeline.catalog_file import write_json_atomic

MANIFEST_JSON = "manifest.json"


def write_manifest(title_dir: Path) -> None:
    """Record the size of every file under ``title_dir`` in ``title_dir/manifest.json``."""
    sizes = {
        p.relative_to(title_dir).as_posix(): p.stat().st_size
        for p in sorted(title_dir.rglob("*"))
        if p.is_file() and p.name != MANIFEST_JSON
    }
    write_json_atomic(title_dir / MANIFEST_JSON, {"files": sizes})


def check_manifest(title_dir: Path) -> str | None:
    """None if every recorded file is there with its size, else the first problem found."""
    try:
        raw = json.loads((title_dir / MANIFEST_JSON).read_text(encoding="utf-8"))
        files = raw["files"]
        if not isinstance(files, dict):
            raise TypeError("files is not an object")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"{title_dir.name}/{MANIFEST_JSON} unreadable ({exc})"
    for rel, size in files.items():
        try:
            actual = (title_dir / rel).stat().st_size
        except OSError:
            return f"{title_dir.name}/{rel} is missing"
        if actual != size:
            return f"{title_dir.name}/{rel} has {actual} bytes, expected {size}"
    return None
