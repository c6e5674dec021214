"""The cached catalog: reused when valid, rebuilt with a message when missing, stale or damaged,
and never left half-written (the builder is faked: no ffmpeg here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from controlplane.catalog import Rendition, Title, Track, load_catalog
from controlplane.pipeline import PipelineError, cache, ensure_catalog
from controlplane.pipeline.build import generator_stamp
from controlplane.pipeline.catalog_file import read_generator, write_catalog_json
from controlplane.pipeline.manifest import check_manifest, write_manifest
from controlplane.pipeline.playlist import media_playlist
from controlplane.pipeline.profiles import ART_VERSION, Profile


def fake_title(title_id: str) -> Title:
    return Title(
        id=title_id, name=title_id.title(), synopsis="s", year=2024, genres=("Drama",),
        duration_s=4.0, maturity_rating="PG", regions=("*",), requires_plan="basic",
        segment_duration_s=4.0, segment_durations_s=(4.0,),
        renditions=(Rendition("240p", 160, 90, 150_000, 200_000, 190_000, "avc1.42C015", 24.0),),
        audio=(Track("en", "English"),), subtitles=(), trickplay_interval_s=4.0,
    )


class FakeBuilder:
    """Writes a small but complete catalog the way the real builder lays it out."""

    def __init__(self) -> None:
        self.calls = 0
        self.fail = False

    def __call__(self, ffmpeg: str, profile: Profile, root: Path, progress: object) -> list[Title]:
        self.calls += 1
        titles = [fake_title(spec.id) for spec in profile.titles]
        for title in titles:
            tdir = root / "titles" / title.id
            (tdir / "240p").mkdir(parents=True)
            (tdir / "key.bin").write_bytes(bytes(16))
            (tdir / "240p" / "index.m3u8").write_text(media_playlist([4.0]), encoding="utf-8")
            (tdir / "240p" / "seg_00000.ts").write_bytes(bytes(188 * 16))
            write_manifest(tdir)
            if self.fail:
                raise PipelineError("ffmpeg failed while encoding (simulated)")
        write_catalog_json(root, titles, profile=profile.name, generator=generator_stamp(profile))
        return titles


@pytest.fixture
def builder(monkeypatch: pytest.MonkeyPatch) -> FakeBuilder:
    fake = FakeBuilder()
    monkeypatch.setattr(cache, "build_catalog", fake)
    monkeypatch.setattr(cache, "find_ffmpeg", lambda: "ffmpeg")
    return fake


def run(cache_dir: Path) -> tuple[Path, list[str]]:
    lines: list[str] = []
    root = ensure_catalog("test", cache_dir, lines.append)
    return root, lines


def test_generates_when_missing_then_reuses(tmp_path: Path, builder: FakeBuilder) -> None:
    root, lines = run(tmp_path)
    assert root == tmp_path / "catalog-test"
    assert builder.calls == 1
    assert any("generating it once" in line for line in lines)
    assert set(load_catalog(root).titles) == {"pocket-meadow", "vault-nine", "harbour-lights"}
    again, lines = run(tmp_path)
    assert again == root and builder.calls == 1 and lines == []


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda root: (root / "catalog.json").write_text("{not json", encoding="utf-8"),
         "unreadable"),
        (lambda root: (root / "catalog.json").unlink(), "no catalog"),
        (lambda root: (root / "titles/vault-nine/240p/seg_00000.ts").write_bytes(b"\x47" * 10),
         "has 10 bytes"),
        (lambda root: (root / "titles/vault-nine/240p/seg_00000.ts").unlink(), "is missing"),
        (lambda root: (root / "titles/pocket-meadow/key.bin").unlink(), "key.bin"),
        (lambda root: (root / "titles/pocket-meadow/manifest.json").unlink(), "manifest"),
    ],
)
def test_damaged_catalog_is_rebuilt_with_a_message(
    tmp_path: Path, builder: FakeBuilder, damage: object, reason: str
) -> None:
    root, _ = run(tmp_path)
    assert callable(damage)
    damage(root)
    again, lines = run(tmp_path)
    assert builder.calls == 2
    assert len(lines) == 1 and "is damaged" in lines[0] and "rebuilding" in lines[0]
    assert reason in lines[0]
    assert set(load_catalog(again).titles) == {"pocket-meadow", "vault-nine", "harbour-lights"}


def test_stale_stamp_is_rebuilt(tmp_path: Path, builder: FakeBuilder) -> None:
    root, _ = run(tmp_path)
    doc = json.loads((root / "catalog.json").read_text(encoding="utf-8"))
    doc["generator"]["pipeline_version"] = -1
    (root / "catalog.json").write_text(json.dumps(doc), encoding="utf-8")
    _, lines = run(tmp_path)
    assert builder.calls == 2
    assert "another pipeline version" in lines[0]


def test_a_file_in_place_of_the_directory_is_replaced(tmp_path: Path, builder: FakeBuilder) -> None:
    (tmp_path / "catalog-test").write_text("junk", encoding="utf-8")
    root, lines = run(tmp_path)
    assert "is damaged" in lines[0]
    assert load_catalog(root).titles


def test_failed_rebuild_keeps_nothing_half_done(tmp_path: Path, builder: FakeBuilder) -> None:
    root, _ = run(tmp_path)
    (root / "catalog.json").write_text("{", encoding="utf-8")
    builder.fail = True
    with pytest.raises(PipelineError, match="simulated"):
        run(tmp_path)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".catalog-test.")]
    assert leftovers == [".catalog-test.lock"]
    assert (root / "catalog.json").read_text(encoding="utf-8") == "{"  # untouched, still bad
    builder.fail = False
    again, lines = run(tmp_path)
    assert "is damaged" in lines[0]
    assert load_catalog(again).titles


def test_leftovers_of_an_interrupted_run_are_removed(tmp_path: Path, builder: FakeBuilder) -> None:
    stale = tmp_path / ".catalog-test.tmp-deadbeef"
    (stale / "titles").mkdir(parents=True)
    run(tmp_path)
    assert not stale.exists()


def test_unknown_profile_is_a_pipeline_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="unknown catalog profile"):
        ensure_catalog("huge", tmp_path)


def test_older_art_is_redrawn_and_the_media_kept(tmp_path: Path, builder: FakeBuilder) -> None:
    """A catalog made before the art changed (no or an older ``art_version``) is not rebuilt:
    its posters and backdrops are drawn again (with the real ffmpeg) and nothing else moves."""
    root, _ = run(tmp_path)
    doc = json.loads((root / "catalog.json").read_text(encoding="utf-8"))
    del doc["generator"]["art_version"]  # as catalogs made before art versions were stamped
    (root / "catalog.json").write_text(json.dumps(doc), encoding="utf-8")
    segment = root / "titles/vault-nine/240p/seg_00000.ts"
    before = segment.stat()
    again, lines = run(tmp_path)
    assert again == root and builder.calls == 1
    assert len(lines) == 1 and "redrawing the art of 3 titles" in lines[0]
    for title_id in ("pocket-meadow", "vault-nine", "harbour-lights"):
        poster = root / "titles" / title_id / "poster.jpg"
        assert poster.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        assert check_manifest(root / "titles" / title_id) is None  # the manifest knows it
    assert sorted(p.name for p in (root / "titles/vault-nine").iterdir()
                  if p.name.startswith(".")) == []  # no temporary files left
    after = segment.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert read_generator(root)["art_version"] == ART_VERSION
    _, lines = run(tmp_path)  # and it is current now
    assert lines == [] and builder.calls == 1
