"""A session whose control plane answers an MPD (under an ``.m3u8`` name: DASH is told by
content): the same engine plays it, on the same pathways, with steering and subtitles."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from player.manifest import Multivariant
from player.session import PlaybackSession
from tests.unit.player.test_session import EDGES, SEGMENTS, VTT, AutoMpv, World, make, settle

MPD = f"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static"
     mediaPresentationDuration="PT{SEGMENTS * 4}S">
  <BaseURL serviceLocation="edge-1">{EDGES["edge-1"]}/media/t1/</BaseURL>
  <BaseURL serviceLocation="edge-2">{EDGES["edge-2"]}/media/t1/</BaseURL>
  <Period>
    <AdaptationSet contentType="video" mimeType="video/mp2t">
      <SegmentTemplate timescale="1" duration="4" startNumber="0"
                       media="$RepresentationID$/seg_$Number$.ts"/>
      <Representation id="720p" bandwidth="2500000"/>
      <Representation id="360p" bandwidth="800000"/>
    </AdaptationSet>
    <AdaptationSet contentType="text" lang="en" mimeType="text/vtt">
      <Representation id="sub-en" bandwidth="100"><BaseURL>subs/en.vtt</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>
"""


@pytest.mark.parametrize("inline", [False, True], ids=["fetched", "inline"])
def test_a_control_plane_mpd_plays_on_its_pathways_with_steering_and_subtitles(
        inline: bool) -> None:
    world, mpv = World(manifest=MPD, inline=inline), AutoMpv()

    async def main() -> PlaybackSession:
        session = make(world, mpv)
        await session.play()
        assert session.scheduler is not None and session.pool is not None
        assert session.multivariant is not None and not session.multivariant.protection
        assert session.pool.names == ("edge-1", "edge-2")
        assert session.scheduler.fetcher.playlists.ladder == ("360p", "720p")
        assert session.scheduler.segment_count == SEGMENTS
        assert session.scheduler.buffer.playhead == 2  # resume at 9 s → segment 2
        await settle()
        assert session.pool.ordered()[0].name == "edge-2"  # steering names DASH pathways too
        await session.set_subtitles("en")
        sub_add = [c for c in mpv.calls if c[0] == "command" and c[1][0] == "sub-add"]
        assert sub_add and sub_add[0][1][1] == "memory://" + VTT
        await session.stop()
        return session

    session = asyncio.run(main())
    assert session.scheduler is not None
    assert {rung for _, rung, _ in session.scheduler.fetched} == {1}  # FixedPolicy(1): 720p
    assert session.report().error_code is None


def test_a_plain_url_that_redirects_resolves_against_where_the_manifest_is() -> None:
    """A short link or http → https: the MPD's (and a playlist's) relative URLs resolve
    against the URL the manifest came from, not the one typed."""
    from player.mpv_seam import FakeMpv

    mpd = MPD.replace(f'<BaseURL serviceLocation="edge-1">{EDGES["edge-1"]}/media/t1/</BaseURL>',
                      "").replace(f'<BaseURL serviceLocation="edge-2">{EDGES["edge-2"]}/media/'
                                  "t1/</BaseURL>", "")
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nlo/index.m3u8\n"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "short.test":
            target = "out.mpd" if request.url.path == "/dash" else "master.m3u8"
            return httpx.Response(302, headers={"Location": f"https://cdn.test/dir/{target}"})
        if request.url.path == "/dir/out.mpd":
            return httpx.Response(200, text=mpd, headers={"Content-Type": "application/dash+xml"})
        return httpx.Response(200, text=master)

    async def main() -> tuple[Multivariant, Multivariant]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
            session = PlaybackSession.from_url("http://short.test/dash", FakeMpv(), http=http)
            dash = await session._fetch_multivariant("http://short.test/dash")
            hls = await session._fetch_multivariant("http://short.test/hls")
            return dash, hls
    dash, hls = asyncio.run(main())
    (variant, _) = dash.pathway(".").variants
    assert dash.media[variant.uri].segments[0].uri == "https://cdn.test/dir/360p/seg_0.ts"
    assert hls.pathway(".").variants[0].uri == "https://cdn.test/dir/lo/index.m3u8"
