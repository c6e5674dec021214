"""Media path safety: strict components, four file kinds, nothing outside the title folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlplane.edge.paths import (
    BadPath,
    MediaPath,
    NotServable,
    resolve_media_file,
    split_media_path,
)


def test_a_normal_media_path_splits() -> None:
    media = split_media_path("/v1/media/123-abc/title0/360p/seg_00001.ts")
    assert media == MediaPath("123-abc", "title0", ("360p", "seg_00001.ts"))
    assert media.suffix == ".ts"


@pytest.mark.parametrize(
    "raw",
    [
        "/v1/media/tok/title0/../key.bin",
        "/v1/media/tok/title0/./index.m3u8",
        "/v1/media/tok/../catalog.json",
        "/v1/media/tok/title0/%2e%2e/key.bin",
        "/v1/media/tok/title0/..%2fkey.bin",
        "/v1/media/tok/title0/a%00.ts",
        "/v1/media/tok/title0/..\\key.bin",
        "/v1/media/tok/title0//etc/passwd",
        "/v1/media/tok/title0/.hidden.ts",
        "/v1/media/tok/title0",
        "/v1/media/tok/title0/",
        "/v1/media//title0/a.ts",
        "/v1/media/tok/title0/a b.ts",
        "/v1/media/tok/title0/\u00e9.ts",
        "/v2/media/tok/title0/a.ts",
    ],
)
def test_malformed_or_escaping_paths_are_bad(raw: str) -> None:
    with pytest.raises(BadPath):
        split_media_path(raw)


@pytest.fixture()
def title_dir(tmp_path: Path) -> Path:
    tdir = tmp_path / "titles" / "t"
    (tdir / "360p").mkdir(parents=True)
    (tdir / "key.bin").write_bytes(b"k" * 16)
    (tdir / "360p" / "seg_00000.ts").write_bytes(b"\x47" * 188)
    (tdir / "poster.jpg").write_bytes(b"jpg")
    (tmp_path / "secret.ts").write_bytes(b"secret")
    (tdir / "360p" / "link.ts").symlink_to(tmp_path / "secret.ts")
    return tdir


def _media(*parts: str) -> MediaPath:
    return MediaPath("tok", "t", parts)


def test_allowed_files_resolve_inside_the_title(title_dir: Path) -> None:
    assert resolve_media_file(title_dir, _media("360p", "seg_00000.ts")).read_bytes()[0] == 0x47
    assert resolve_media_file(title_dir, _media("poster.jpg")).name == "poster.jpg"


@pytest.mark.parametrize(
    "parts", [("key.bin",), ("360p", "missing.ts"), ("360p",), ("360p", "link.ts"), ("a.TS.txt",)]
)
def test_keys_other_kinds_missing_files_and_symlink_escapes_are_not_servable(
    title_dir: Path, parts: tuple[str, ...]
) -> None:
    with pytest.raises(NotServable):
        resolve_media_file(title_dir, _media(*parts))
