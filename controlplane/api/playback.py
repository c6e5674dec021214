"""Playback: entitlement checks, the multivariant playlist and the streaming key.

``POST /v1/playback`` opens a playback session. Its multivariant playlist lists every rendition
once per edge (one HLS pathway per edge, ``PATHWAY-ID`` = the edge's name), points at the steering
server with ``EXT-X-CONTENT-STEERING``, and carries freshly signed edge URLs on every fetch: a
client whose segment URLs expired (403 ``url_expired``) reloads it. A CMAF title (``fmp4``) also
lists, per edge, its audio renditions (``EXT-X-MEDIA TYPE=AUDIO``, group ``audio-{edge}``) and
its segmented WebVTT (``TYPE=SUBTITLES``, group ``subs-{edge}``), both served by the edge; an
MPEG-TS title muxes its audio and gets its subtitles from :func:`subtitle_playlist`.
"""

from __future__ import annotations

import math
import secrets
import sqlite3
from typing import Any

from aiohttp import web

from controlplane.api.auth import authenticate
from controlplane.api.catalog import entitled_title, lookup_title, refusal
from controlplane.backend import BACKEND, Backend
from controlplane.catalog import Title
from controlplane.errors import ApiError, field, json_body

routes = web.RouteTableDef()

SESSION_TTL_S = 6 * 3600
M3U8 = "application/vnd.apple.mpegurl"


def ranked_pathways(b: Backend, title: Title) -> list[tuple[str, str]]:
    """(edge name, edge URL) in steering order for this title."""
    if b.fleet is None:
        return []
    urls = {e.name: e.url for e in b.fleet.edges}
    caching = [e.name for e in b.fleet.edges if e.caches(title.id)]
    return [(name, urls[name]) for name in b.health.ranked(list(urls), prefer=caching)]


def media_base(b: Backend, edge_url: str, title: Title) -> str:
    return f"{edge_url}/v1/media/{b.signer.token(title.id)}/{title.id}"


def _session(b: Backend, session_id: str) -> sqlite3.Row:
    row: sqlite3.Row | None = b.db.execute(
        "SELECT * FROM playback_sessions WHERE id = ?", (session_id,)
    ).fetchone()
    if row is None or row["created_at"] + SESSION_TTL_S < b.clock.now():
        raise ApiError(404, "unknown_session", "this playback session is unknown or has ended; "
                       "start playback again")
    return row


def multivariant_playlist(b: Backend, session_id: str, title: Title) -> str:
    pathways = ranked_pathways(b, title)
    if not pathways:
        raise ApiError(503, "no_edges", "no edge is serving right now")
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-CONTENT-STEERING:SERVER-URI="{b.url(f"/v1/steering/{session_id}")}",'
        f'PATHWAY-ID="{pathways[0][0]}"',
    ]
    for name, edge_url in pathways:
        lines += rendition_groups(b, session_id, title, name, edge_url)
    for name, edge_url in pathways:
        base = media_base(b, edge_url, title)
        subs = f',SUBTITLES="subs-{name}"' if title.subtitles else ""
        if title.separate_audio and title.audio:
            subs = f',AUDIO="audio-{name}"' + subs
        for r in sorted(title.renditions, key=lambda r: r.bandwidth_bps):
            lines.append(
                f"#EXT-X-STREAM-INF:BANDWIDTH={r.bandwidth_bps},"
                f"AVERAGE-BANDWIDTH={r.average_bandwidth_bps},RESOLUTION={r.width}x{r.height},"
                f'CODECS="{r.codecs}",FRAME-RATE={r.frame_rate:.3f},PATHWAY-ID="{name}"{subs}'
            )
            lines.append(f"{base}/{r.id}/index.m3u8")
    return "\n".join(lines) + "\n"


def rendition_groups(b: Backend, session_id: str, title: Title, name: str,
                     edge_url: str) -> list[str]:
    """The EXT-X-MEDIA lines of pathway ``name``: audio (CMAF only) and subtitles."""
    lines = []
    base = media_base(b, edge_url, title)
    if title.separate_audio:
        for i, track in enumerate(title.audio):
            channels = f',CHANNELS="{track.channels}"' if track.channels else ""
            lines.append(
                f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio-{name}",NAME="{track.name}",'
                f'LANGUAGE="{track.language}",DEFAULT={"YES" if i == 0 else "NO"},'
                f'AUTOSELECT=YES{channels},URI="{base}/audio/{track.language}/index.m3u8"'
            )
    for track in title.subtitles:
        if title.separate_audio:  # CMAF: segmented WebVTT on the edge
            uri = f"{base}/subs/{track.language}/index.m3u8"
        else:
            uri = b.url(f"/v1/playback/{session_id}/subs/{name}/{track.language}.m3u8")
        lines.append(
            f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs-{name}",NAME="{track.name}",'
            f'LANGUAGE="{track.language}",DEFAULT=NO,AUTOSELECT=YES,URI="{uri}"'
        )
    return lines


@routes.post("/v1/playback")
async def start_playback(request: web.Request) -> web.Response:
    caller = authenticate(request)
    b = request.app[BACKEND]
    body = await json_body(request)
    title, profile = entitled_title(b, caller, body)
    fmt = field(body, "format", str, required=False) or "hls"
    if fmt not in ("hls", "dash"):
        raise ApiError(400, "bad_request", "field 'format' must be 'hls' or 'dash'")
    if fmt == "dash" and not title.separate_audio:
        raise ApiError(400, "format_unavailable", f"{title.name} has no DASH manifest "
                       "(MPEG-TS title); ask for hls")
    session_id = secrets.token_urlsafe(18)
    b.db.execute(
        "INSERT INTO playback_sessions VALUES (?, ?, ?, ?, ?, ?)",
        (session_id, caller.account_id, caller.device_id, profile["id"], title.id, b.clock.now()),
    )
    progress = b.db.execute(
        "SELECT position_s, watched FROM progress WHERE profile_id = ? AND title_id = ?",
        (profile["id"], title.id),
    ).fetchone()
    resume = float(progress["position_s"]) if progress and not progress["watched"] else 0.0
    pathways = ranked_pathways(b, title)
    out: dict[str, Any] = {
        "session_id": session_id,
        "title_id": title.id,
        "manifest_url": b.url(f"/v1/playback/{session_id}/master.m3u8"),
        "steering_url": b.url(f"/v1/steering/{session_id}"),
        "license_url": b.key_uri(title.id),
        # "clearkey": CENC cbcs, keys from the ClearKey licence endpoint at license_url (POST
        # {"kids": [...]}, bearer token); "aes-128": GET license_url for the 16-byte key
        "drm": "clearkey" if title.cenc else "aes-128",
        "key_ids": [title.cenc_kid] if title.cenc_kid else [],
        "resume_position_s": resume,
        "duration_s": title.duration_s,
        "segment_duration_s": title.segment_duration_s,
        "segment_durations_s": list(title.segment_durations_s),
        "segment_container": title.segment_container,
        "audio": [{"language": t.language, "name": t.name} for t in title.audio],
        "subtitles": [{"language": t.language, "name": t.name} for t in title.subtitles],
        "pathways": [{"id": name, "url": url} for name, url in pathways],
        "thumbnails": None,
        "expires_at": b.clock.now() + SESSION_TTL_S,
        # The playlist manifest_url would answer now, inline: it saves the client a round trip
        # before its first segment. Reloads (fresh tokens, new steering order) use manifest_url.
        "multivariant_playlist": multivariant_playlist(b, session_id, title) if pathways else None,
    }
    if fmt == "dash":  # the same segments, described by the MPD (controlplane/api/dash.py)
        out.update(format="dash", multivariant_playlist=None,
                   manifest_url=b.url(f"/v1/playback/{session_id}/manifest.mpd"))
    else:
        out["format"] = "hls"
    if pathways:
        base = media_base(b, pathways[0][1], title)
        out["thumbnails"] = {"interval_s": title.trickplay_interval_s,
                             "vtt_url": f"{base}/trickplay/thumbs.vtt"}
    return web.json_response(out, status=201)


@routes.get("/v1/playback/{session_id}/master.m3u8")
async def master(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    session = _session(b, request.match_info["session_id"])
    title = lookup_title(b, session["title_id"])
    return web.Response(text=multivariant_playlist(b, session["id"], title), content_type=M3U8,
                        headers={"Cache-Control": "no-store"})


@routes.get("/v1/playback/{session_id}/subs/{pathway}/{lang}.m3u8")
async def subtitle_playlist(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    session = _session(b, request.match_info["session_id"])
    title = lookup_title(b, session["title_id"])
    lang = request.match_info["lang"]
    edges = dict(ranked_pathways(b, title))
    edge_url = edges.get(request.match_info["pathway"])
    if edge_url is None or lang not in title.subtitle_languages:
        raise ApiError(404, "not_found", "no such pathway or subtitle language")
    text = "\n".join([
        "#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{math.ceil(title.duration_s)}",
        "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-MEDIA-SEQUENCE:0", f"#EXTINF:{title.duration_s:.3f},",
        f"{media_base(b, edge_url, title)}/subs/{lang}.vtt", "#EXT-X-ENDLIST",
    ]) + "\n"
    return web.Response(text=text, content_type=M3U8, headers={"Cache-Control": "no-store"})


@routes.get("/v1/steering/{session_id}")
async def steering(request: web.Request) -> web.Response:
    """An HLS Content Steering manifest (draft-pantos-hls-rfc8216bis, section 7)."""
    b = request.app[BACKEND]
    session = _session(b, request.match_info["session_id"])
    title = lookup_title(b, session["title_id"])
    pathways = [name for name, _ in ranked_pathways(b, title)]
    return web.json_response(
        {
            "VERSION": 1,
            "TTL": b.policy.steering_ttl_s,
            "RELOAD-URI": b.url(f"/v1/steering/{session['id']}"),
            "PATHWAY-PRIORITY": pathways,
        },
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/v1/licenses/streaming/{title_id}")
async def streaming_key(request: web.Request) -> web.Response:
    """The title's AES-128 key, for an authenticated device that may play it."""
    caller = authenticate(request)
    b = request.app[BACKEND]
    title = lookup_title(b, request.match_info["title_id"])
    profile = b.db.execute(
        "SELECT * FROM profiles WHERE account_id = ? ORDER BY kids LIMIT 1", (caller.account_id,)
    ).fetchone()
    reason = refusal(caller, profile, title)
    if reason is not None and reason.code != "maturity":
        raise reason
    return web.Response(body=b.catalog.content_key(title.id),
                        content_type="application/octet-stream",
                        headers={"Cache-Control": "no-store"})
