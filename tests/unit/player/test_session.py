"""PlaybackSession against an in-memory control plane and edges (httpx.MockTransport) and FakeMpv.

The real bridge listens on loopback; mpv is a fake that "shows" the first frame as soon as it is
asked to play, from a thread of its own (as libmpv would).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from typing import Any

import httpx
import pytest

from abr.hysteresis import HysteresisPolicy
from player.api import ControlPlaneClient
from player.api.models import Playback
from player.buffer import BufferConfig
from player.errors import LicenseError, ManifestError, NoEdgeError
from player.mpv_seam import FakeMpv, MpvEvent
from player.scheduler_config import SchedulerConfig
from player.session import PlaybackSession, SessionConfig
from player.telemetry import TelemetryConfig
from player.tokens import Credentials, MemoryStore
from tests.helpers.fake_catalog import fake_segment
from tests.helpers.policies import FixedPolicy

CP = "http://cp.test"
EDGES = {"edge-1": "http://edge1.test", "edge-2": "http://edge2.test"}
RENDITIONS = (("360p", 800_000), ("720p", 2_500_000))
SEGMENTS = 6
SEGMENT_BYTES = 188 * 50
KEY = hashlib.sha256(b"k").digest()[:16]
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:04.000\nhello\n"


def master() -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:6",
             f'#EXT-X-CONTENT-STEERING:SERVER-URI="{CP}/v1/steering/s1",PATHWAY-ID="edge-1"']
    for name in EDGES:
        lines.append(f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs-{name}",NAME="English",'
                     f'LANGUAGE="en",URI="{CP}/v1/playback/s1/subs/{name}/en.m3u8"')
    for name, base in EDGES.items():
        for rid, bps in RENDITIONS:
            lines += [f'#EXT-X-STREAM-INF:BANDWIDTH={bps},PATHWAY-ID="{name}",'
                      f'SUBTITLES="subs-{name}"', f"{base}/media/t1/{rid}/index.m3u8"]
    return "\n".join(lines) + "\n"


def media() -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:4",
             "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-MEDIA-SEQUENCE:0"]
    for k in range(SEGMENTS):
        lines += ["#EXTINF:4.0,", f"seg_{k}.ts"]
    return "\n".join([*lines, "#EXT-X-ENDLIST"]) + "\n"


class World:
    def __init__(self, *, manifest: str | None = None, key: bytes = KEY,
                 announce: list[float] | None = None, inline: bool = False) -> None:
        self.manifest = manifest if manifest is not None else master()
        self.key = key
        self.announce = announce
        """``segment_durations_s`` in the playback answer (None: not sent)."""
        self.inline = inline
        """The multivariant playlist inline in the playback answer."""
        self.key_gate: asyncio.Event | None = None
        """Set: the key's answer waits for it."""
        self.master_gate: asyncio.Event | None = None
        """Set: the multivariant playlist's answer waits for it."""
        self.telemetry: list[dict[str, Any]] = []
        self.progress: list[dict[str, Any]] = []
        self.playbacks = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        path = request.url.path
        if url.startswith(CP):
            if path == "/v1/playback":
                self.playbacks += 1
                return httpx.Response(201, json={
                    "session_id": "s1", "title_id": "t1",
                    "manifest_url": f"{CP}/v1/playback/s1/master.m3u8",
                    "steering_url": f"{CP}/v1/steering/s1",
                    "license_url": f"{CP}/v1/licenses/streaming/t1",
                    "resume_position_s": 9.0, "duration_s": SEGMENTS * 4.0,
                    "segment_duration_s": 4.0,
                    "audio": [{"language": "en", "name": "English"},
                              {"language": "es", "name": "Español"}],
                    "subtitles": [{"language": "en", "name": "English"}],
                    **({"segment_durations_s": self.announce} if self.announce else {}),
                    **({"multivariant_playlist": self.manifest} if self.inline else {})})
            if path.endswith("master.m3u8"):
                return httpx.Response(200, text=self.manifest)
            if path.startswith("/v1/steering"):
                return httpx.Response(200, json={"VERSION": 1, "TTL": 10,
                                                 "PATHWAY-PRIORITY": ["edge-2", "edge-1"]})
            if path.startswith("/v1/licenses"):
                return httpx.Response(200, content=self.key)
            if path == "/v1/telemetry":
                self.telemetry += json.loads(request.content)["events"]
                return httpx.Response(202, json={"accepted": 1})
            if "/progress/" in path:
                self.progress.append(json.loads(request.content))
                return httpx.Response(200, json={"applied": True})
            if "/subs/" in path:
                edge = EDGES[path.split("/")[-2]]
                return httpx.Response(200, text="\n".join([
                    "#EXTM3U", "#EXT-X-TARGETDURATION:24", "#EXTINF:24.0,",
                    f"{edge}/media/t1/subs/en.vtt", "#EXT-X-ENDLIST", ""]))
        if path == "/health":
            return httpx.Response(200, json={"status": "ok"})
        if path == "/v1/probe":
            return httpx.Response(200, content=bytes(65536))
        if path.endswith(".m3u8"):
            return httpx.Response(200, text=media())
        if path.endswith(".vtt"):
            return httpx.Response(200, text=VTT)
        if path.endswith(".ts"):
            rid = path.split("/")[-2]
            k = int(path.rsplit("_", 1)[1].removesuffix(".ts"))
            return httpx.Response(200, content=fake_segment("t1", rid, k, SEGMENT_BYTES))
        return httpx.Response(404, json={"error": "not_found"})


    async def handle_async(self, request: httpx.Request) -> httpx.Response:
        if self.key_gate is not None and request.url.path.startswith("/v1/licenses"):
            await self.key_gate.wait()
        if self.master_gate is not None and request.url.path.endswith("master.m3u8"):
            await self.master_gate.wait()
        return self.handle(request)


class AutoMpv(FakeMpv):
    """Shows the first frame right after ``play`` (on another thread, like libmpv)."""

    def play(self, url: str) -> None:
        super().play(url)
        events = [MpvEvent("start-file"), MpvEvent("file-loaded"),
                  MpvEvent("playback-restart")]
        threading.Thread(target=self.emit_events, args=(events,)).start()

    def command(self, name: str, *args: str) -> Any:
        super().command(name, *args)
        if name == "stop":
            self.emit(MpvEvent("end-file", "stop"))


def make(world: World, mpv: FakeMpv, **config: Any) -> PlaybackSession:
    transport = httpx.MockTransport(world.handle_async)
    creds = Credentials("dev1", "access", "refresh", "acc1", None)
    cp = ControlPlaneClient(CP, store=MemoryStore(creds), transport=transport)
    http = httpx.AsyncClient(transport=transport)
    cfg = SessionConfig(telemetry=TelemetryConfig(flush_interval_s=60), **config)
    return PlaybackSession(cp, "t1", "p1", mpv, config=cfg, http=http, policy=FixedPolicy(1))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0.01)


def types(session: PlaybackSession) -> list[str]:
    return [e["type"] for e in session.telemetry.events]


def test_play_controls_and_stop() -> None:
    world, mpv = World(), AutoMpv()

    async def main() -> PlaybackSession:
        session = make(world, mpv)
        await session.play()
        assert session.scheduler is not None and session.pool is not None
        assert session.scheduler.buffer.playhead == 2  # resume at 9 s → segment 2
        assert ("set", ("start", "9.000")) in mpv.calls
        assert mpv.properties["path"] == session.bridge.url if session.bridge else False
        # Steering waits for the first frame: the default pathway leads until it answers.
        assert session.pool.ordered()[0].name == "edge-1"
        await settle()
        assert session.pool.ordered()[0].name == "edge-2"  # steering applied

        for pos in (9.0, 10.0, 11.0, 12.0, 13.0):  # played 4 s at rung 1 (segment 2 and 3)
            mpv.emit_property("time-pos", pos)
        await session.pause()
        assert mpv.properties["pause"] is True and session.scheduler.paused
        await session.resume()
        await session.seek(17.25)
        assert ("seek", (17.25, True)) in mpv.calls
        await session.set_audio("es")
        assert mpv.properties["aid"] == 2
        with pytest.raises(ValueError):
            await session.set_audio("de")
        await session.set_subtitles("en")
        sub_add = [c for c in mpv.calls if c[0] == "command" and c[1][0] == "sub-add"]
        assert sub_add and sub_add[0][1][1] == "memory://" + VTT
        await session.set_subtitles(None)
        assert mpv.properties["sid"] == "no"
        await session.stop()
        assert await session.wait_ended() == "stopped"
        return session

    session = asyncio.run(main())
    kinds = types(session)
    assert kinds[:2] == ["session_start", "rendition_switch"]
    assert kinds.index("steering") > kinds.index("first_frame")
    assert "first_frame" in kinds and kinds[-1] == "session_end"
    for kind in ("pause", "resume", "seek", "audio", "subtitles"):
        assert kind in kinds
    report = session.report()
    assert report.end_reason == "stopped" and report.played_s == 4.0
    assert report.average_bitrate_bps == 2_500_000 and report.ttff_ms is not None
    assert [e["type"] for e in world.telemetry] == kinds  # everything posted at the end
    assert world.progress and world.progress[-1]["position_s"] == 17.25


def test_end_of_file_ends_the_session() -> None:
    world, mpv = World(), AutoMpv()

    async def main() -> str:
        session = make(world, mpv, start_over=True)
        await session.play()
        assert ("set", ("start", "none")) in mpv.calls
        mpv.emit(MpvEvent("end-file", "eof"))
        reason = await asyncio.wait_for(session.wait_ended(), 5)
        await session.stop()
        return reason

    assert asyncio.run(main()) == "eof"


def test_played_time_counts_long_steps_at_high_speed_and_skips_every_seek() -> None:
    world, mpv = World(), AutoMpv()

    async def main() -> PlaybackSession:
        session = make(world, mpv, start_over=True)
        await session.play()
        for pos in (0.5, 1.0):
            mpv.emit_property("time-pos", pos)
        await settle()
        mpv.set("speed", 12.0)
        await asyncio.sleep(0.3)  # 0.3 s of wall time at 12x: a 3.5 s step is playback
        mpv.emit_property("time-pos", 4.5)
        mpv.emit(MpvEvent("seek"))  # mpv's own seek: the jump is not played
        mpv.emit_property("time-pos", 5.5)
        mpv.emit(MpvEvent("playback-restart"))
        mpv.emit_property("time-pos", 6.0)
        await settle()
        await session.stop()
        return session

    session = asyncio.run(main())
    assert session.report().played_s == 5.0  # 0.5 + 0.5 + 3.5, the seek skipped, + 0.5


def test_a_stream_that_dies_mid_play_plays_out_what_mpv_holds_then_errors() -> None:
    """The bridge's ``on_error`` while playing: mpv is not stopped at once; it plays what it
    already read and ends by itself, and the session ends in the typed error."""
    world, mpv = World(), AutoMpv()
    dead = NoEdgeError({"edge-1": "refused", "edge-2": "refused"})

    async def main() -> PlaybackSession:
        session = make(world, mpv, start_over=True)
        await session.play()
        session._on_bridge_error(dead)  # what the bridge calls when the source fails
        await settle()
        assert ("command", ("stop",)) not in mpv.calls  # still playing out
        mpv.emit(MpvEvent("end-file", "eof"))  # ffmpeg skipped the 503s to the end
        with pytest.raises(NoEdgeError):
            await asyncio.wait_for(session.wait_ended(), 5)
        await session.stop()
        return session

    session = asyncio.run(main())
    assert ("command", ("stop",)) not in mpv.calls
    assert session.report().end_reason == "error"
    assert session.report().error_code == "no_edge"


def test_a_stream_that_dies_while_mpv_does_not_end_stops_mpv() -> None:
    world, mpv = World(), AutoMpv()  # AutoMpv answers "stop" with end-file, never with eof

    async def main() -> None:
        session = make(world, mpv, start_over=True, error_play_out_s=0.05)
        await session.play()
        session._on_bridge_error(NoEdgeError({"edge-1": "refused"}))
        with pytest.raises(NoEdgeError):
            await asyncio.wait_for(session.wait_ended(), 5)
        await session.stop()

    asyncio.run(main())
    assert ("command", ("stop",)) in mpv.calls


@pytest.mark.parametrize(("world", "error", "text"), [
    (World(manifest="#EXTM3U\n#EXT-X-STREAM-INF:PATHWAY-ID=\"a\"\nx.m3u8\n"), ManifestError,
     "BANDWIDTH"),
    (World(key=b"short"), LicenseError, "5 bytes"),
], ids=["manifest", "key"])
def test_a_malformed_manifest_or_key_is_a_clear_error(world: World, error: type[Exception],
                                                      text: str) -> None:
    mpv = AutoMpv()

    async def main() -> PlaybackSession:
        session = make(world, mpv)
        with pytest.raises(error, match=text):
            await session.play()
        return session

    session = asyncio.run(main())
    assert not [c for c in mpv.calls if c[0] == "play"]
    kinds = types(session)
    assert "error" in kinds and kinds[-1] == "session_end"
    assert session.report().error_code == error.default_code  # type: ignore[attr-defined]


def test_the_first_frame_timeout_is_a_playback_error() -> None:
    world, mpv = World(), FakeMpv()  # never shows a frame

    async def main() -> None:
        session = make(world, mpv, first_frame_timeout_s=0.2)
        with pytest.raises(Exception, match="did not start") as info:
            await session.play()
        assert getattr(info.value, "code", None) == "playback"

    asyncio.run(main())


ANNOUNCED = [4.0] * SEGMENTS


def test_an_announced_timeline_opens_mpv_before_the_key_arrives() -> None:
    world, mpv = World(announce=ANNOUNCED, inline=True), AutoMpv()

    async def main() -> tuple[PlaybackSession, str]:
        world.key_gate = asyncio.Event()
        session = make(world, mpv)
        play = asyncio.ensure_future(session.play())
        for _ in range(200):
            if any(c[0] == "play" for c in mpv.calls):
                break
            await asyncio.sleep(0.005)
        assert session.bridge is not None and "key" not in session.startup_ms
        async with httpx.AsyncClient() as client:  # mpv's playlist, from the playback answer
            playlist = (await client.get(session.bridge.url)).text
        world.key_gate.set()
        await play
        await session.stop()
        return session, playlist

    session, playlist = asyncio.run(main())
    assert playlist.count("#EXTINF:4.000000,") == SEGMENTS
    marks = session.startup_ms
    assert marks["loadfile"] < marks["key"] and marks["mpv_playlist"] < marks["key"]
    assert session._start_index == 2  # resume at 9 s, from the announced timeline
    assert session.report().ttff_ms is not None


def separate_audio_master() -> str:
    """:func:`master` with two separate audio renditions per pathway (a CMAF title)."""
    lines = master().splitlines()
    out = lines[:3]
    for name, base in EDGES.items():
        for i, lang in enumerate(("en", "es")):
            out.append(f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-{name}",NAME="{lang}",'
                       f'LANGUAGE="{lang}",DEFAULT={"YES" if i == 0 else "NO"},'
                       f'URI="{base}/media/t1/audio/{lang}/index.m3u8"')
    for line in lines[3:]:
        if line.startswith("#EXT-X-STREAM-INF:"):
            name = line.split('PATHWAY-ID="')[1].split('"')[0]
            line += f',AUDIO="audio-{name}"'
        out.append(line)
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("inline", [True, False], ids=["inline", "fetched"])
def test_with_an_announced_timeline_mpv_gets_the_separate_audio_renditions(
        inline: bool) -> None:
    """mpv is loaded early, but never before the multivariant playlist's audio renditions are
    known: the DEFAULT is mpv's audio-file (the others are added when picked: mpv opens every
    audio-file before its first frame)."""
    world = World(announce=ANNOUNCED, inline=inline, manifest=separate_audio_master())
    mpv = AutoMpv({"track-list": [{"type": "audio", "id": 1, "selected": True,
                                   "external-filename": "http://x/t/audio/0/media.m3u8"}]})

    async def main() -> None:
        world.master_gate = asyncio.Event()
        session = make(world, mpv)
        play = asyncio.ensure_future(session.play())
        for _ in range(400):  # mpv's callbacks registered, the bridge listening
            callbacks = session._callbacks
            if (callbacks is not None and callbacks.done() and session.bridge is not None
                    and "bridge" in session.startup_ms):
                break
            await asyncio.sleep(0.005)
        for _ in range(20):
            await asyncio.sleep(0)
        world.master_gate.set()  # a fetched playlist arrives after all that
        await play
        await session.stop()

    asyncio.run(main())
    audio_files = [args[1] for name, args in mpv.calls if name == "set"
                   and args[0] == "audio-files"]
    assert len(audio_files) == 1
    assert [url.rsplit("/", 3)[-3:] for url in audio_files[0]] == [
        ["audio", "0", "media.m3u8"]]


class AudioAddMpv(AutoMpv):
    """``audio-add`` puts the file in ``track-list`` as the next external audio track."""

    def command(self, name: str, *args: str) -> Any:
        super().command(name, *args)
        if name == "audio-add":
            tracks = list(self.properties.get("track-list") or [])
            tracks.append({"type": "audio", "id": len(tracks) + 1, "external-filename": args[0]})
            self.properties["track-list"] = tracks


def test_another_audio_rendition_is_added_to_mpv_when_picked() -> None:
    """Only the DEFAULT rendition is loaded with the file; the first switch to another adds
    its bridge playlist (``audio-add``) and selects it; switching back adds nothing."""
    world = World(announce=ANNOUNCED, inline=True, manifest=separate_audio_master())
    mpv = AudioAddMpv({"track-list": [{"type": "audio", "id": 1, "selected": True,
                                       "external-filename": "http://x/t/audio/0/media.m3u8"}]})

    async def main() -> None:
        session = make(world, mpv)
        await session.play()
        languages = session.audio_languages
        other = languages[1]
        await session.set_audio(other)
        await session.set_audio(languages[0])
        await session.set_audio(other)
        await session.stop()

    asyncio.run(main())
    added = [args for name, args in mpv.calls if name == "command" and args[0] == "audio-add"]
    assert len(added) == 1 and added[0][1].endswith("/audio/1/media.m3u8")
    assert [args[1] for name, args in mpv.calls if name == "set" and args[0] == "aid"] == \
        [2, 1, 2]


@pytest.mark.parametrize(("world", "error", "text"), [
    (World(announce=ANNOUNCED, key=b"short"), LicenseError, "5 bytes"),
    (World(announce=ANNOUNCED[:-1]), ManifestError, "6 segments, not 5"),
    (World(announce=[*ANNOUNCED[:-1], 3.5]), ManifestError, "segment 5 lasts 4.000 s"),
], ids=["key", "count", "duration"])
def test_with_an_announced_timeline_a_failure_stops_mpv_with_the_typed_error(
        world: World, error: type[Exception], text: str) -> None:
    mpv = AutoMpv()

    async def main() -> PlaybackSession:
        session = make(world, mpv)
        with pytest.raises(error, match=text):
            await session.play()
        return session

    session = asyncio.run(main())
    assert [c for c in mpv.calls if c[0] == "play"]  # mpv was opened early...
    assert ("command", ("stop",)) in mpv.calls      # ...and stopped
    assert session.report().error_code == error.default_code  # type: ignore[attr-defined]


@pytest.mark.parametrize(("value", "expected"), [
    ([4, 4.0, 2.5], (4.0, 4.0, 2.5)), (None, None), ([], None), ([4.0, 0], None),
    ([4.0, "4"], None), ([True], None), ("4,4", None)])
def test_the_playback_answer_s_timeline_is_parsed_or_ignored(value: Any,
                                                            expected: Any) -> None:
    raw = {"session_id": "s1", "title_id": "t1", "manifest_url": "m", "license_url": "k",
           "segment_durations_s": value}
    assert Playback.parse(raw, "POST /v1/playback").segment_durations_s == expected


def test_the_policy_is_told_the_buffer_the_scheduler_fetches_to() -> None:
    def own_policy(config: SessionConfig) -> HysteresisPolicy:
        cp = ControlPlaneClient(CP, store=MemoryStore(None))
        session = PlaybackSession(cp, "t1", "p1", FakeMpv(), config=config)
        assert isinstance(session.policy, HysteresisPolicy)
        return session.policy

    assert own_policy(SessionConfig()).config.max_buffer_s == 60.0  # the default buffer target
    short = SessionConfig(scheduler=SchedulerConfig(buffer=BufferConfig(target_s=24.0)))
    assert own_policy(short).config.max_buffer_s == 24.0


def test_a_wait_that_began_before_the_first_frame_is_start_up_not_a_rebuffer() -> None:
    """mpv asks for segment 1 while segment 0 is still on its way; the first frame comes up
    during that wait. The wait is start-up time (in ttff), not a rebuffer; a later wait is."""
    session = PlaybackSession.from_url("http://origin.test/index.m3u8", FakeMpv())
    session._on_scheduler_event({"type": "rebuffer_start", "index": 1})
    session._playing = True  # the first frame, mid-wait
    session._on_scheduler_event({"type": "rebuffer_end", "index": 1, "waited_s": 0.5})
    session._on_scheduler_event({"type": "rebuffer_start", "index": 5})
    session._on_scheduler_event({"type": "rebuffer_end", "index": 5, "waited_s": 0.25})
    causes = [(e["index"], e["cause"]) for e in session.telemetry.events
              if e["type"] == "rebuffer_end"]
    assert causes == [(1, "startup"), (5, "stall")]
    report = session.report()
    assert report.rebuffer_count == 1 and report.rebuffer_s == 0.25
