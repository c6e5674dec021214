"""What "libmpv direct" opens in the TTFF bench (tests/bench/engine_ttff.py), and how.

libmpv direct plays a title the way libmpv alone would: its multivariant playlist, every
rendition's playlist and first segment opened by ffmpeg's HLS demuxer, the rendition the engine
started on picked with ``hls-bitrate`` (so both decode the same first segment), the default audio
rendition, mpv's first frame.

For the bundled control plane's CENC (cbcs) titles it is given the content key: libavformat 59's
mov demuxer decrypts cenc and cbcs samples with ``decryption_key``, and its HLS demuxer passes
``seg_format_options`` on to it. (ffmpeg's HLS demuxer first GETs the ``EXT-X-KEY`` URI, which
is the ClearKey licence endpoint: that answers ``405``, and the key given here is used.) The
key is the one the engine gets: a ClearKey licence ``POST`` for the playback's ``key_ids``, not
timed. libavformat 59's DASH demuxer takes no key (``Option decryption_key not found``), so a
DASH row's baseline is the same title's HLS.

The URL is the edge's own copy of the packager's multivariant playlist (``master.m3u8`` next to
the rendition folders): one pathway, the same edge, media playlists and segments as the engine's.
The session's multivariant playlist lists every rendition once per edge (content steering
pathways): ffmpeg, which knows no pathways, opens all of them (~600 ms here). A title without
that file at the edge (the MPEG-TS catalogs) falls back to the start rung's media playlist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin

from player.api import ControlPlaneClient
from player.errors import PlayerError
from player.keysource import licence_request, parse_licence
from player.manifest import parse_multivariant
from player.mpv_seam import PACED_OPTIONS, RealMpv, wait_for_first_frame
from player.session import PlaybackSession

DEFAULTS = {"demuxer-lavf-o": PACED_OPTIONS["demuxer-lavf-o"], "hls-bitrate": "max"}
"""What every libmpv direct run starts from (the engine's demuxer options; mpv's default pick)."""

_DECODE_ERRORS = ("error while decoding", "Error decoding", "corrupt decoded frame",
                  "Invalid data found")


@dataclass(frozen=True)
class Direct:
    """One libmpv direct start: the URL and the options it is played with."""
    url: str
    options: dict[str, str] = field(default_factory=dict)
    encrypted: bool = False
    """The media is CENC: a decode error means libmpv did not decrypt (a garbage baseline)."""
    note: str = ""

    def own_pick(self) -> Direct:
        """The same, at the rendition libmpv picks itself (mpv's default ``hls-bitrate``)."""
        options = {k: v for k, v in self.options.items() if k != "hls-bitrate"}
        return replace(self, options=options)


class _DecodeErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if any(marker in text for marker in _DECODE_ERRORS):
            self.seen.append(text)


def first_frame_s(plain: RealMpv, direct: Direct, timeout_s: float = 20.0) -> float:
    """Seconds from ``loadfile`` to libmpv's first frame of ``direct`` (then stopped).
    SystemExit when an encrypted title decoded with errors: libmpv did not decrypt it."""
    for name, value in {**DEFAULTS, **direct.options}.items():
        plain.set(name, value)
    errors = _DecodeErrors()
    mpv_log = logging.getLogger("player.mpv")
    mpv_log.addHandler(errors)
    try:
        seconds = wait_for_first_frame(plain, direct.url, timeout_s)
    finally:
        plain.command("stop")
        mpv_log.removeHandler(errors)
    if direct.encrypted and errors.seen:
        raise SystemExit(f"libmpv direct did not decrypt {direct.url}: {errors.seen[0]}")
    return seconds


def _first_frame(session: PlaybackSession) -> dict[str, Any]:
    return next(e for e in session.telemetry.events if e["type"] == "first_frame")


def url_direct(session: PlaybackSession, url: str) -> Direct:
    """A plain URL's multivariant playlist, at the rendition the engine started on."""
    rendition = _first_frame(session)["rendition"]
    mv = session.multivariant
    if mv is None or rendition is None:
        return Direct(url)
    variant = mv.pathway(mv.default_pathway).variant(rendition)
    return Direct(url, {"hls-bitrate": str(variant.bandwidth_bps)})


async def content_key(cp: ControlPlaneClient, title: str, profile: str) -> bytes | None:
    """The title's CENC content key from its ClearKey licence (None: not a CENC title)."""
    playback = await cp.start_playback(title, profile)
    if playback.drm != "clearkey":
        return None
    kids = [bytes.fromhex(k) for k in playback.raw.get("key_ids") or []]
    keys = parse_licence(await cp.clearkey_licence(playback.license_url,
                                                   licence_request(kids)), "the control plane")
    if not keys or len(set(keys.values())) != 1:
        raise SystemExit(f"{title}: libmpv takes one decryption key; the licence has "
                         f"{len(set(keys.values()))}")
    return next(iter(keys.values()))


async def bundled_direct(cp: ControlPlaneClient, title: str, profile: str,
                         session: PlaybackSession, key: bytes | None) -> Direct:
    """The bundled title on the edge the engine's first segment came from (see the module)."""
    first = _first_frame(session)
    playback = await cp.start_playback(title, profile)  # HLS: for the DASH row too
    mv = parse_multivariant(await cp.fetch_text(playback.manifest_url), playback.manifest_url)
    edge = first["edge"] if first["edge"] in {p.id for p in mv.pathways} else mv.default_pathway
    # the start rung by position: a DASH session names renditions by Representation id
    ladder = session.scheduler.fetcher.playlists.ladder if session.scheduler else ()
    rung = ladder.index(first["rendition"]) if first["rendition"] in ladder else 0
    start = mv.pathway(edge).variants[rung]
    options = {}
    if key is not None:
        options["demuxer-lavf-o"] = (f"{DEFAULTS['demuxer-lavf-o']},"
                                     f"seg_format_options=decryption_key={key.hex()}")
    master = urljoin(start.uri, "../master.m3u8")
    try:
        edge_mv = parse_multivariant(await cp.fetch_text(master), master)
    except PlayerError:
        return Direct(start.uri, options, key is not None,
                      note="libmpv direct: the start rung's media playlist (no master.m3u8 "
                           "at the edge)")
    variant = edge_mv.pathway(edge_mv.default_pathway).variant(start.rendition_id)
    return Direct(master, {**options, "hls-bitrate": str(variant.bandwidth_bps)},
                  key is not None)
