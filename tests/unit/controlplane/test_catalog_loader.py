import json
from pathlib import Path

import pytest

from controlplane.catalog import CATALOG_FORMAT, CatalogError, load_catalog, title_to_json
from tests.helpers.fake_catalog import make_fake_catalog


def test_round_trip(tmp_path: Path) -> None:
    catalog = make_fake_catalog(tmp_path, titles=2)
    again = load_catalog(tmp_path)
    assert again.titles == catalog.titles
    for title in again.titles.values():
        assert title_to_json(title)["id"] == title.id
        assert len(again.content_key(title.id)) == 16


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda root: (root / "catalog.json").unlink(), "no catalog"),
        (lambda root: (root / "catalog.json").write_text("{trunc"), "unreadable"),
        (lambda root: (root / "catalog.json").write_text('{"format": 99}'), "unknown format"),
        (lambda root: (root / "catalog.json").write_text('{"format": 1, "titles": [{}]}'),
         "inconsistent"),
        (lambda root: next(root.glob("titles/*/key.bin")).unlink(), "missing key.bin"),
    ],
)
def test_damaged_catalogs_name_the_problem(tmp_path: Path, damage: object, reason: str) -> None:
    make_fake_catalog(tmp_path, titles=1)
    damage(tmp_path)  # type: ignore[operator]
    with pytest.raises(CatalogError, match=reason):
        load_catalog(tmp_path)


def test_short_key_is_refused(tmp_path: Path) -> None:
    catalog = make_fake_catalog(tmp_path, titles=1)
    title_id = next(iter(catalog.titles))
    (tmp_path / "titles" / title_id / "key.bin").write_bytes(b"short")
    with pytest.raises(CatalogError, match="expected 16"):
        load_catalog(tmp_path).content_key(title_id)
    assert json.loads((tmp_path / "catalog.json").read_text())["format"] == CATALOG_FORMAT


def _edit_titles(root: Path, **fields: object) -> None:
    meta = root / "catalog.json"
    raw = json.loads(meta.read_text())
    for title in raw["titles"]:
        title.update(fields)
    meta.write_text(json.dumps(raw))


def test_a_format_1_catalog_reads_as_mpeg_ts(tmp_path: Path) -> None:
    make_fake_catalog(tmp_path, titles=1)
    raw = json.loads((tmp_path / "catalog.json").read_text())
    raw["format"] = 1
    for title in raw["titles"]:
        del title["segment_container"]
    (tmp_path / "catalog.json").write_text(json.dumps(raw))
    (title,) = load_catalog(tmp_path).titles.values()
    assert title.segment_container == "ts" and not title.separate_audio


def test_a_cmaf_title_needs_its_audio_renditions(tmp_path: Path) -> None:
    catalog = make_fake_catalog(tmp_path, titles=1)
    (title,) = catalog.titles.values()
    _edit_titles(tmp_path, segment_container="fmp4")
    with pytest.raises(CatalogError, match=f"missing audio/{title.audio[0].language}"):
        load_catalog(tmp_path)
    for track in title.audio:
        folder = tmp_path / "titles" / title.id / "audio" / track.language
        folder.mkdir(parents=True)
        (folder / "index.m3u8").write_text("#EXTM3U\n")
    again = load_catalog(tmp_path).titles[title.id]
    assert again.separate_audio and title_to_json(again)["segment_container"] == "fmp4"


def test_an_unknown_segment_container_is_inconsistent(tmp_path: Path) -> None:
    make_fake_catalog(tmp_path, titles=1)
    _edit_titles(tmp_path, segment_container="webm")
    with pytest.raises(CatalogError, match=r"inconsistent.*webm"):
        load_catalog(tmp_path)


def test_a_cenc_kid_must_be_32_hex_digits_on_a_cmaf_title(tmp_path: Path) -> None:
    catalog = make_fake_catalog(tmp_path, titles=1)
    (title,) = catalog.titles.values()
    _edit_titles(tmp_path, cenc_kid="XYZ")
    with pytest.raises(CatalogError, match=r"inconsistent.*cenc_kid"):
        load_catalog(tmp_path)
    _edit_titles(tmp_path, cenc_kid="ab" * 16)  # an MPEG-TS title cannot be CENC
    with pytest.raises(CatalogError, match="cenc_kid on an MPEG-TS title"):
        load_catalog(tmp_path)
    for track in title.audio:
        folder = tmp_path / "titles" / title.id / "audio" / track.language
        folder.mkdir(parents=True)
        (folder / "index.m3u8").write_text("#EXTM3U\n")
    _edit_titles(tmp_path, segment_container="fmp4")
    again = load_catalog(tmp_path).titles[title.id]
    assert again.cenc and title_to_json(again)["cenc_kid"] == "ab" * 16
