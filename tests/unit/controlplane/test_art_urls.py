"""Art URLs carry a version tag that changes when the picture does (a catalog whose art was
redrawn), so a client that caches art by URL fetches the new picture."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from controlplane.backend import Backend


def _backend(root: Path, base_url: str) -> Backend:
    catalog = SimpleNamespace(title_dir=lambda title_id: root / "titles" / title_id)
    return Backend(catalog, None, None, None, None, None,  # type: ignore[arg-type]
                   base_url=base_url)


def test_the_art_tag_follows_the_file(tmp_path: Path) -> None:
    poster = tmp_path / "titles" / "t1" / "poster.jpg"
    poster.parent.mkdir(parents=True)
    poster.write_bytes(b"old poster")
    url = _backend(tmp_path, "http://127.0.0.1:1").art_url("t1", "poster")
    assert url.startswith("http://127.0.0.1:1/v1/art/t1/poster.jpg?v=")
    again = _backend(tmp_path, "http://127.0.0.1:2").art_url("t1", "poster")  # a restart
    assert again.split("?")[1] == url.split("?")[1]
    poster.write_bytes(b"the redrawn poster")
    os.utime(poster, ns=(1, 1))
    redrawn = _backend(tmp_path, "http://127.0.0.1:2").art_url("t1", "poster")
    assert redrawn.split("?")[1] != url.split("?")[1]
    assert _backend(tmp_path, "").art_url("nope", "poster").endswith("?v=0")  # no file
