import json
from pathlib import Path

import pytest

from controlplane.catalog import CatalogError, load_catalog, title_to_json
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
    assert json.loads((tmp_path / "catalog.json").read_text())["format"] == 1
