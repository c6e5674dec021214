"""A download's part file through the player's fetcher: what an earlier run left is continued
with one Range request, kept when whole (416), started over when it is not this file's; sealed
at rest when the edge serves it in the clear. Two edges behind an httpx.MockTransport."""

from __future__ import annotations

import asyncio
import hashlib
import re
from pathlib import Path

import httpx
import pytest

from offline.atrest import AtRest
from offline.partfile import Counted, PartProgress
from offline.transfer import open_fetcher
from player.fetchbase import Fetched
from player.manifest import parse_multivariant
from player.presentation import Multivariant

PACKET = bytes([0x47]) + bytes(range(187))
BODY = PACKET * 40  # clear TS: 7520 bytes
MASTER = "".join(f'#EXT-X-STREAM-INF:BANDWIDTH=100000,PATHWAY-ID="{p}"\nhttp://{p}/r/i.m3u8\n'
                 for p in ("a", "b"))
MEDIA = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nseg.ts\n#EXT-X-ENDLIST\n"


def _edge(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith(".m3u8"):
        return httpx.Response(200, text=MEDIA)
    match = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range", ""))
    if match is None:
        return httpx.Response(200, content=BODY)
    first = int(match[1])
    if first >= len(BODY):
        return httpx.Response(416, headers={"Content-Range": f"bytes */{len(BODY)}"},
                              content=b'{"error": "range"}')
    return httpx.Response(206, content=BODY[first:], headers={
        "Content-Range": f"bytes {first}-{len(BODY) - 1}/{len(BODY)}"})


def _fetch(path: Path, seal: tuple[AtRest, int] | None = None
           ) -> tuple[list[tuple[str, str | None]], PartProgress]:
    """Fetch the segment into ``path``; the requests (host, Range) for media."""
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(".m3u8"):
            seen.append((request.url.host, request.headers.get("Range")))
        return _edge(request)

    async def main() -> PartProgress:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            mv = parse_multivariant("#EXTM3U\n" + MASTER, "http://a/master.m3u8")

            async def reload() -> Multivariant:
                return mv

            fetcher = open_fetcher(http, mv, reload, None)
            progress = PartProgress(path, seal)
            try:
                progress.open()
                fetched = await fetcher.fetch(0, -1, Counted(0),
                                              rendition=fetcher.playlists.ladder[0],
                                              progress=progress)
                assert isinstance(fetched, Fetched) and fetched.data == b""  # nothing kept
            finally:
                progress.close()
                await fetcher.aclose()
            return progress

    return seen, asyncio.run(main())


@pytest.mark.parametrize(("held", "requests"), [
    (b"", [("a", None)]),
    (BODY[:1000], [("a", "bytes=1000-")]),
    (BODY, [("a", f"bytes={len(BODY)}-")]),  # 416: whole already, kept
    (BODY + bytes(100), [("a", f"bytes={len(BODY) + 100}-"), ("b", None)]),  # not this file
    (b"\0" * 1000, [("a", "bytes=1000-"), ("b", None)]),  # held bytes that are not TS
], ids=["new", "half", "whole", "longer", "garbage"])
def test_a_part_is_continued_kept_or_started_over(tmp_path: Path, held: bytes,
                                                  requests: list[tuple[str, str | None]]) -> None:
    path = tmp_path / "000000.ts.part"
    if held:
        path.write_bytes(held)
    seen, progress = _fetch(path)
    assert seen == requests
    assert path.read_bytes() == BODY
    assert progress.size == len(BODY) and progress.digest.hexdigest() == hashlib.sha256(
        BODY).hexdigest()


def test_a_clear_part_is_sealed_at_rest_and_resumed_sealed(tmp_path: Path) -> None:
    seal = AtRest(bytes(range(16)), "dl_x")
    path = tmp_path / "000003.ts.part"
    path.write_bytes(seal.apply(BODY[:3000], 0, 3))
    seen, progress = _fetch(path, (seal, 3))
    assert seen == [("a", "bytes=3000-")]
    stored = path.read_bytes()
    assert stored != BODY and seal.apply(stored, 0, 3) == BODY
    assert progress.digest.hexdigest() == hashlib.sha256(stored).hexdigest()


def test_a_part_closed_while_it_is_being_opened_stays_closed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pause or a sibling's full disk cancels the download while ``open`` runs in its thread:
    the ``close`` that the cancellation runs must not leave the file it opens behind."""
    import threading

    path = tmp_path / "000004.ts.part"
    path.write_bytes(b"held")
    reading, go_on = threading.Event(), threading.Event()
    read_bytes = Path.read_bytes

    def slow_read(self: Path) -> bytes:
        reading.set()
        assert go_on.wait(10)
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", slow_read)
    progress = PartProgress(path)
    opener = threading.Thread(target=progress.open)
    opener.start()
    assert reading.wait(10)
    progress.close()  # what the cancelled download does
    go_on.set()
    opener.join(10)
    assert not opener.is_alive()
    assert progress.file is None
    assert path.read_bytes() == b"held"  # taken up later, not truncated
    progress.open()  # a closed part is not opened again
    assert progress.file is None
