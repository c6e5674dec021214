"""Writing ``catalog.json`` atomically, with the generator stamp that marks it as current."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from controlplane.catalog import CATALOG_FORMAT, Title, title_to_json

CATALOG_JSON = "catalog.json"


def write_catalog_json(
    root: Path, titles: Iterable[Title], *, profile: str, generator: dict[str, Any]
) -> None:
    """Replace ``root/catalog.json`` in one rename; readers see the old or the new file."""
    doc = {
        "format": CATALOG_FORMAT,
        "profile": profile,
        "generator": generator,
        "titles": [title_to_json(t) for t in titles],
    }
    write_json_atomic(root / CATALOG_JSON, doc)


def read_generator(root: Path) -> dict[str, Any]:
    """The ``generator`` stamp of a catalog (empty if missing or unreadable)."""
    try:
        raw = json.loads((root / CATALOG_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    stamp = raw.get("generator") if isinstance(raw, dict) else None
    return stamp if isinstance(stamp, dict) else {}


def write_json_atomic(path: Path, doc: Any) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
