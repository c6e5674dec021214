"""DASH for CMAF titles: ``GET /v1/playback/{session_id}/manifest.mpd``.

The pipeline's MPD (Shaka Packager's, with a ClearKey ``ContentProtection``) served per session:
one MPD-level ``BaseURL`` per edge in steering order (``serviceLocation`` = the edge's name,
the URL signed like the HLS ones), the licence placeholder filled with the control plane's
ClearKey URL. Its segment templates are relative, so every edge serves every segment.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from controlplane.api.catalog import lookup_title
from controlplane.api.playback import _session, media_base, ranked_pathways
from controlplane.backend import BACKEND, Backend
from controlplane.catalog import KEY_URI_PLACEHOLDER, Title
from controlplane.errors import ApiError

routes = web.RouteTableDef()

MPD = "application/dash+xml"
FORMATS = ("hls", "dash")
"""``format`` of ``POST /v1/playback``: ``hls`` (the default) or ``dash``."""


def has_dash(b: Backend, title: Title) -> bool:
    return title.separate_audio and (b.catalog.title_dir(title.id) / "manifest.mpd").is_file()


def session_mpd(b: Backend, title: Title) -> str:
    pathways = ranked_pathways(b, title)
    if not pathways:
        raise ApiError(503, "no_edges", "no edge is serving right now")
    text = (b.catalog.title_dir(title.id) / "manifest.mpd").read_text(encoding="utf-8")
    text = text.replace(KEY_URI_PLACEHOLDER, escape(b.key_uri(title.id)))
    at = text.find("<Period")
    if at < 0:
        raise ApiError(500, "bad_manifest", f"{title.id}: the MPD has no Period")
    bases = "".join(f"<BaseURL serviceLocation={quoteattr(name)}>"
                    f"{escape(media_base(b, url, title))}/</BaseURL>\n  "
                    for name, url in pathways)
    return text[:at] + bases + text[at:]


@routes.get("/v1/playback/{session_id}/manifest.mpd")
async def manifest_mpd(request: web.Request) -> web.Response:
    b = request.app[BACKEND]
    session = _session(b, request.match_info["session_id"])
    title = lookup_title(b, session["title_id"])
    if not has_dash(b, title):
        raise ApiError(404, "no_dash", f"{title.name} has no DASH manifest (MPEG-TS title)")
    return web.Response(text=session_mpd(b, title), content_type=MPD,
                        headers={"Cache-Control": "no-store"})
