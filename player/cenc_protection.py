"""What a CENC init segment says about its protected tracks: :class:`Protection`, one
:class:`TrackProtection` per track (read by :func:`player.cenc_init.clear_init`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrackProtection:
    """One protected track, from its ``sinf``."""

    track_id: int
    scheme: str
    """``cenc`` or ``cbcs``."""
    original_format: str
    """The sample entry's clear four-character code (``avc1``, ``mp4a``…)."""
    kid: bytes
    """16 bytes: the default key ID."""
    iv_size: int
    """Per-sample IV size in the ``senc`` (0, 8 or 16); 0 with a constant IV."""
    constant_iv: bytes = b""
    crypt_blocks: int = 0
    skip_blocks: int = 0
    nal_length_size: int = 0
    """avcC/hvcC NAL length size (video), 0 otherwise: for the wrong-key check."""
    default_sample_size: int = 0
    """From ``trex``: the size of samples no ``tfhd``/``trun`` sizes."""
    aac: bool = False
    """An ``mp4a`` track whose ``esds`` says AAC (the AAC plaintext check applies)."""
    protected_entries: frozenset[int] = frozenset({1})
    """The ``stsd`` entries (1-based) that are ``encv``/``enca``; a fragment whose
    sample description index is another is clear (Shaka Packager's clear lead)."""
    default_entry: int = 1
    """``trex``'s default sample description index."""

    @property
    def check_codec(self) -> str:
        """The codec name :class:`~player.cenccheck.SampleCheck` knows (``aac``, ``avc1``…)."""
        return "aac" if self.aac else self.original_format


@dataclass(frozen=True)
class Protection:
    """The protected tracks of an init segment."""

    tracks: tuple[TrackProtection, ...]

    @property
    def kids(self) -> tuple[bytes, ...]:
        return tuple(dict.fromkeys(t.kid for t in self.tracks))

    @property
    def strongly_checked(self) -> bool:
        """Every KID has a track whose plaintext has a strong wrong-key check (AAC: see
        :mod:`player.cenccheck`), so each fragment verifies its own keys; else (video alone)
        a fragment waits for its KID to be verified by another rendition."""
        audio = {t.kid for t in self.tracks if t.aac}
        return all(t.kid in audio for t in self.tracks)

    def track(self, track_id: int) -> TrackProtection | None:
        return next((t for t in self.tracks if t.track_id == track_id), None)
