"""Catalog: titles, home rows (Continue Watching first, then genres), search, artwork."""

from __future__ import annotations

import difflib
import sqlite3
from typing import Any

from aiohttp import web

from controlplane.api.auth import Caller, authenticate
from controlplane.api.profiles import owned_profile
from controlplane.api.progress import progress_json
from controlplane.backend import BACKEND, Backend
from controlplane.catalog import Title
from controlplane.errors import ApiError, field

routes = web.RouteTableDef()

KIDS_RATINGS = frozenset({"G", "PG", "TV-Y", "TV-Y7", "TV-G", "TV-PG"})
PLAN_RANK = {"basic": 0, "premium": 1}


def suitable_for(profile: sqlite3.Row, title: Title) -> bool:
    return not profile["kids"] or title.maturity_rating in KIDS_RATINGS


def refusal(caller: Caller, profile: sqlite3.Row, title: Title) -> ApiError | None:
    """Why this caller may not play the title on this profile, or None if it may."""
    if not suitable_for(profile, title):
        return ApiError(403, "maturity", f"{title.name} is rated {title.maturity_rating}, "
                        "which this kids profile cannot watch")
    if not title.playable_in(caller.region):
        where = ", ".join(title.regions)
        return ApiError(403, "region_blocked", f"{title.name} is not available in "
                        f"{caller.region} (available in {where})")
    if PLAN_RANK.get(caller.plan, 0) < PLAN_RANK.get(title.requires_plan, 0):
        return ApiError(403, "plan_required", f"{title.name} needs the {title.requires_plan} "
                        f"plan; this account has {caller.plan}")
    return None


def title_json(b: Backend, title: Title, caller: Caller | None = None,
               profile: sqlite3.Row | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": title.id,
        "name": title.name,
        "synopsis": title.synopsis,
        "year": title.year,
        "genres": list(title.genres),
        "duration_s": title.duration_s,
        "maturity_rating": title.maturity_rating,
        "audio": [{"language": t.language, "name": t.name} for t in title.audio],
        "subtitles": [{"language": t.language, "name": t.name} for t in title.subtitles],
        "audio_languages": title.audio_languages,
        "subtitle_languages": title.subtitle_languages,
        "regions": list(title.regions),
        "requires_plan": title.requires_plan,
        "poster_url": b.art_url(title.id, "poster"),
        "backdrop_url": b.art_url(title.id, "backdrop"),
        "renditions": [
            {"id": r.id, "width": r.width, "height": r.height, "bitrate_bps": r.bitrate_bps}
            for r in title.renditions
        ],
    }
    if caller is not None and profile is not None:
        reason = refusal(caller, profile, title)
        out["playable"] = reason is None
        out["unplayable_reason"] = None if reason is None else reason.code
    return out


def entitled_title(b: Backend, caller: Caller, body: dict[str, Any]) -> tuple[Title, sqlite3.Row]:
    """The title and profile a playback or download request names, if the caller may play it."""
    title = lookup_title(b, field(body, "title_id", str))
    profile = owned_profile(b, caller, field(body, "profile_id", str))
    reason = refusal(caller, profile, title)
    if reason is not None:
        raise reason
    return title, profile


def lookup_title(b: Backend, title_id: str) -> Title:
    title = b.catalog.titles.get(title_id)
    if title is None:
        raise ApiError(404, "unknown_title", f"no title {title_id!r} in the catalog")
    return title


def _profile_from_query(request: web.Request) -> tuple[Caller, sqlite3.Row]:
    caller = authenticate(request)
    profile_id = request.query.get("profile_id")
    if not profile_id:
        raise ApiError(400, "bad_request", "missing query parameter profile_id")
    return caller, owned_profile(request.app[BACKEND], caller, profile_id)


def continue_watching(b: Backend, profile_id: str) -> list[dict[str, Any]]:
    rows = b.db.execute(
        "SELECT * FROM progress WHERE profile_id = ? AND watched = 0 AND position_s > 0"
        " ORDER BY event_time_ms DESC, rowid DESC",
        (profile_id,),
    ).fetchall()
    return [progress_json(b, r) for r in rows if r["title_id"] in b.catalog.titles]


@routes.get("/v1/catalog/titles")
async def list_titles(request: web.Request) -> web.Response:
    caller, profile = _profile_from_query(request)
    b = request.app[BACKEND]
    titles = [title_json(b, t, caller, profile) for t in b.catalog.titles.values()
              if suitable_for(profile, t)]
    return web.json_response({"titles": titles})


@routes.get("/v1/catalog/titles/{title_id}")
async def get_title(request: web.Request) -> web.Response:
    caller, profile = _profile_from_query(request)
    b = request.app[BACKEND]
    title = lookup_title(b, request.match_info["title_id"])
    if not suitable_for(profile, title):
        raise ApiError(404, "unknown_title", f"no title {title.id!r} for this profile")
    out = title_json(b, title, caller, profile)
    row = b.db.execute(
        "SELECT * FROM progress WHERE profile_id = ? AND title_id = ?", (profile["id"], title.id)
    ).fetchone()
    out["progress"] = progress_json(b, row) if row else None
    out["more_like_this"] = [title_json(b, t, caller, profile)
                             for t in more_like_this(b, title, profile)]
    return web.json_response(out)


MORE_LIKE_THIS = 12
"""Most titles a details answer lists under ``more_like_this``."""


def more_like_this(b: Backend, title: Title, profile: sqlite3.Row) -> list[Title]:
    """Titles sharing a genre with ``title`` (never itself), most shared genres first, then
    those sharing its first genre, then by name; only what the profile may see."""
    genres = set(title.genres)
    first = title.genres[0] if title.genres else None
    scored = [(len(genres & set(t.genres)), first in t.genres, t)
              for t in b.catalog.titles.values()
              if t.id != title.id and suitable_for(profile, t)]
    ranked = sorted((s for s in scored if s[0]), key=lambda s: (-s[0], not s[1], s[2].name))
    return [t for _, _, t in ranked[:MORE_LIKE_THIS]]


@routes.get("/v1/catalog/rows")
async def rows(request: web.Request) -> web.Response:
    caller, profile = _profile_from_query(request)
    b = request.app[BACKEND]
    visible = {tid: t for tid, t in b.catalog.titles.items() if suitable_for(profile, t)}
    result: list[dict[str, Any]] = []
    progress = [p for p in continue_watching(b, profile["id"]) if p["title_id"] in visible]
    if progress:
        items = []
        for p in progress:
            item = title_json(b, visible[p["title_id"]], caller, profile)
            item["progress"] = p
            items.append(item)
        result.append({"id": "continue-watching", "title": "Continue Watching", "items": items})
    genres: dict[str, list[Title]] = {}
    for title in visible.values():
        for genre in title.genres:
            genres.setdefault(genre, []).append(title)
    for genre, titles in genres.items():
        result.append({
            "id": f"genre-{genre.lower().replace(' ', '-')}",
            "title": genre,
            "items": [title_json(b, t, caller, profile) for t in titles],
        })
    return web.json_response({"rows": result})


def _score(query: str, name: str) -> float:
    q, n = query.lower().strip(), name.lower()
    if q in n:
        return 2.0 - n.index(q) / max(len(n), 1)
    words = n.split()
    best = max((difflib.SequenceMatcher(None, q, w).ratio() for w in words), default=0.0)
    return max(best, difflib.SequenceMatcher(None, q, n).ratio())


@routes.get("/v1/catalog/search")
async def search(request: web.Request) -> web.Response:
    """Substring matches first, then near misses (``"aurra"`` finds "Aurora")."""
    caller, profile = _profile_from_query(request)
    b = request.app[BACKEND]
    query = request.query.get("q", "").strip()
    if not query:
        raise ApiError(400, "bad_request", "missing query parameter q")
    if len(query) > 100:
        raise ApiError(400, "bad_request", "a search query has at most 100 characters")
    scored = [(_score(query, t.name), t) for t in b.catalog.titles.values()
              if suitable_for(profile, t)]
    hits = sorted((s for s in scored if s[0] >= 0.7), key=lambda s: (-s[0], s[1].name))
    return web.json_response({
        "query": query,
        "results": [title_json(b, t, caller, profile) for _, t in hits],
    })


@routes.get("/v1/art/{title_id}/{kind}.jpg")
async def art(request: web.Request) -> web.StreamResponse:
    """Poster and backdrop art: public, cacheable."""
    b = request.app[BACKEND]
    title = lookup_title(b, request.match_info["title_id"])
    kind = request.match_info["kind"]
    if kind not in ("poster", "backdrop"):
        raise ApiError(404, "not_found", "art is poster or backdrop")
    path = b.catalog.title_dir(title.id) / f"{kind}.jpg"
    if not path.is_file():
        raise ApiError(404, "not_found", f"{title.id} has no {kind}")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=86400",
                                           "Content-Type": "image/jpeg"})
