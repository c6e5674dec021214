"""Generation profiles: which titles, which ladder and which encoding settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from controlplane.pipeline.errors import PipelineError
from controlplane.pipeline.ladder import DEFAULT_LADDER, TEST_LADDER, Rung
from controlplane.pipeline.titles import DEFAULT_TITLES, TEST_TITLES, TitleSpec
from controlplane.pipeline.titles_shared import SHARED_TITLES

PIPELINE_VERSION = 3
"""Bump when the pipeline's output changes; cached catalogs with another version are rebuilt.
2: CMAF (fMP4 video, separate audio, segmented WebVTT) by Shaka Packager; TS as an option.
3: CMAF titles in CENC ``cbcs`` by the packager (ClearKey licences), not AES-128."""

ART_VERSION = 2
"""Bump when only the poster and backdrop art change: a cached catalog of another art version
keeps its media and has its art redrawn (:mod:`controlplane.pipeline.art_refresh`). Not part of
the fingerprint. 1: posters printed the year, genres and rating. 2: posters carry the title
only (the app prints year and genre under the tile)."""

CMAF = "cmaf"
"""Fragmented MP4 video renditions, one audio rendition per language, segmented WebVTT, packaged
by Shaka Packager (HLS playlists and a DASH MPD over the same segments)."""
TS = "ts"
"""MPEG-TS segments with the video and every audio track muxed (the format-1 layout)."""
CONTAINERS = (CMAF, TS)


@dataclass(frozen=True)
class Track:
    language: str
    """BCP 47 code in catalog.json and playlists (``"en"``)."""
    iso639_2: str
    """Three-letter code for ffmpeg's stream metadata (``"eng"``)."""
    name: str


AUDIO_TRACKS: tuple[Track, ...] = (
    Track("en", "eng", "English"),
    Track("es", "spa", "Español"),
)
SUBTITLE_TRACKS: tuple[Track, ...] = AUDIO_TRACKS


@dataclass(frozen=True)
class EncodeSettings:
    frame_rate: int = 24
    """Frames per second of every rendition (default 24)."""
    segment_duration_s: int = 4
    """Target segment length in seconds; a keyframe (closed GOP) starts every segment."""
    x264_preset: str = "ultrafast"
    """x264 speed preset; ultrafast keeps the default catalog within its time budget."""
    qp_min: int = 18
    """Lowest x264 quantiser. Synthetic pictures need few bits; without a floor x264 spends the
    CBR budget on ever finer quantisation (slow), with it the rest is cheap filler data."""
    audio_bitrate_bps: int = 48_000
    """Bitrate of each (mono, 48 kHz) AAC track."""
    trickplay_interval_s: int = 4
    """Seconds between trick-play thumbnails (one per segment)."""
    thumb_width: int = 240
    """Width of one trick-play thumbnail in pixels (height below; 16:9)."""
    thumb_height: int = 135
    sprite_columns: int = 5
    """Thumbnails per row of a sprite sheet."""
    sprite_rows: int = 5
    """Rows per sprite sheet (so 25 thumbnails, 100 s of video, per sheet)."""


@dataclass(frozen=True)
class Profile:
    name: str
    titles: tuple[TitleSpec, ...]
    ladder: tuple[Rung, ...]
    encode: EncodeSettings
    poster_size: tuple[int, int]
    backdrop_size: tuple[int, int]
    container: str = CMAF
    """How titles are packaged: :data:`CMAF` (the default) or :data:`TS`."""

    def fingerprint(self) -> str:
        """Changes whenever the output would: pipeline version or any setting or title."""
        sharing = [(t.id, t.shares_media_with) for t in self.titles if t.shares_media_with]
        text = f"{PIPELINE_VERSION}|{self!r}" + (f"|shares={sharing!r}" if sharing else "")
        digest = hashlib.sha256(text.encode()).hexdigest()
        return digest[:16]


_BASE_PROFILES: dict[str, Profile] = {
    "default": Profile(
        name="default",
        titles=DEFAULT_TITLES + SHARED_TITLES,
        ladder=DEFAULT_LADDER,
        encode=EncodeSettings(),
        poster_size=(600, 900),
        backdrop_size=(1280, 720),
    ),
    "test": Profile(
        name="test",
        titles=TEST_TITLES,
        ladder=TEST_LADDER,
        encode=EncodeSettings(thumb_width=160, thumb_height=90),
        poster_size=(200, 300),
        backdrop_size=(320, 180),
    ),
}


PROFILES: dict[str, Profile] = {
    **_BASE_PROFILES,
    **{f"{name}-ts": replace(p, name=f"{name}-ts", container=TS)
       for name, p in _BASE_PROFILES.items()},
}
"""``default`` and ``test`` in CMAF; ``default-ts`` and ``test-ts`` the same titles in MPEG-TS
(for what needs TS: the TS checks of the pipeline tests, users of older players)."""


def get_profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise PipelineError(f"unknown catalog profile {name!r} (known: {known})") from None
