"""What Edgeplay says over MPRIS 2.2: names, the introspection data, and the property values,
computed from the :class:`ui.playback.PlayerController` (pure functions, no D-Bus).

Decisions:
- **Status.** ``Playing`` once the first frame is up and not paused, ``Paused`` when paused,
  ``Stopped`` before the first frame, after the end, an error or a stop.
- **No track list, no next/previous.** The player plays one title and has no queue; a "next
  title in the row" would need the window's rows, and series/episodes are not in the catalog.
  ``CanGoNext``/``CanGoPrevious`` are false and ``Next``/``Previous`` do nothing, as the
  specification asks of a player that cannot.
- **Volume** is the player's 0–100 % as 0.0–1.0 (0.0 while muted).
- **Track id** ``/io/github/edgeplay/Edgeplay/title/<id>`` (characters outside ``[A-Za-z0-9]``
  written as ``_XX`` hex), or the specification's ``…/TrackList/NoTrack`` with nothing loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtDBus import QDBusObjectPath

from ui.desktop.bus import Int64
from ui.playback import PlayerController

BUS_NAME = "org.mpris.MediaPlayer2.edgeplay"
PATH = "/org/mpris/MediaPlayer2"
ROOT = "org.mpris.MediaPlayer2"
PLAYER = "org.mpris.MediaPlayer2.Player"
IDENTITY = "Edgeplay"
DESKTOP_ENTRY = "io.github.edgeplay.Edgeplay"
NO_TRACK = "/org/mpris/MediaPlayer2/TrackList/NoTrack"
TRACK_PREFIX = "/io/github/edgeplay/Edgeplay/title/"
WRITABLE = {(PLAYER, "Volume"), (PLAYER, "Rate")}

_FLAGS = "".join(f'  <property name="{name}" type="b" access="read"/>\n' for name in (
    "CanGoNext", "CanGoPrevious", "CanPlay", "CanPause", "CanSeek"))
INTROSPECTION = f"""
<interface name="{ROOT}">
  <method name="Raise"/>
  <method name="Quit"/>
  <property name="CanQuit" type="b" access="read"/>
  <property name="CanRaise" type="b" access="read"/>
  <property name="HasTrackList" type="b" access="read"/>
  <property name="Identity" type="s" access="read"/>
  <property name="DesktopEntry" type="s" access="read"/>
  <property name="SupportedUriSchemes" type="as" access="read"/>
  <property name="SupportedMimeTypes" type="as" access="read"/>
</interface>
<interface name="{PLAYER}">
  <method name="Next"/>
  <method name="Previous"/>
  <method name="Pause"/>
  <method name="PlayPause"/>
  <method name="Stop"/>
  <method name="Play"/>
  <method name="Seek"><arg name="Offset" type="x" direction="in"/></method>
  <method name="SetPosition">
    <arg name="TrackId" type="o" direction="in"/>
    <arg name="Position" type="x" direction="in"/>
  </method>
  <method name="OpenUri"><arg name="Uri" type="s" direction="in"/></method>
  <signal name="Seeked"><arg name="Position" type="x"/></signal>
  <property name="PlaybackStatus" type="s" access="read"/>
  <property name="Rate" type="d" access="readwrite"/>
  <property name="Metadata" type="a{{sv}}" access="read"/>
  <property name="Volume" type="d" access="readwrite"/>
  <property name="Position" type="x" access="read">
    <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="false"/>
  </property>
  <property name="MinimumRate" type="d" access="read"/>
  <property name="MaximumRate" type="d" access="read"/>
{_FLAGS}  <property name="CanControl" type="b" access="read">
    <annotation name="org.freedesktop.DBus.Property.EmitsChangedSignal" value="const"/>
  </property>
</interface>
"""


def track_id(title_id: str) -> str:
    """The object path naming a title (``NO_TRACK`` for an empty id)."""
    if not title_id:
        return NO_TRACK
    safe = "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):02X}" for c in title_id)
    return TRACK_PREFIX + safe


def status(c: PlayerController) -> str:
    if not c.playing:
        return "Stopped"
    return "Paused" if c.paused else "Playing"


def art_url(title: dict[str, Any], art_folder: Path | None) -> str | None:
    """The poster as the art cache's file when it holds it, else the poster URL if absolute."""
    url = str(title.get("poster_url") or "")
    if not url:
        return None
    if art_folder is not None:
        from ui.artwork import ArtCache
        cached = art_folder / ArtCache.cache_name(url)
        if cached.is_file():
            return cached.resolve().as_uri()
    return url if url.startswith(("http://", "https://", "file://")) else None


def metadata(c: PlayerController, art_folder: Path | None) -> dict[str, Any]:
    title = c.title if c.session is not None or c.playing else {}
    tid = str(title.get("id") or "")
    meta: dict[str, Any] = {"mpris:trackid": QDBusObjectPath(track_id(tid))}
    if not tid:
        return meta
    meta["xesam:title"] = str(title.get("name") or tid)
    if c.duration_s > 0:
        meta["mpris:length"] = Int64(round(c.duration_s * 1_000_000))
    art = art_url(title, art_folder)
    if art:
        meta["mpris:artUrl"] = art
    return meta


def root_properties(*, can_raise: bool, can_quit: bool) -> dict[str, Any]:
    return {"CanQuit": can_quit, "CanRaise": can_raise, "HasTrackList": False,
            "Identity": IDENTITY, "DesktopEntry": DESKTOP_ENTRY,
            "SupportedUriSchemes": [], "SupportedMimeTypes": []}


def player_properties(c: PlayerController, art_folder: Path | None) -> dict[str, Any]:
    """Every Player property but ``Position`` (which never signals; see :func:`position`)."""
    loaded = c.session is not None
    return {
        "PlaybackStatus": status(c), "Rate": 1.0, "Metadata": metadata(c, art_folder),
        "Volume": 0.0 if c.muted else c.volume / 100.0,
        "MinimumRate": 1.0, "MaximumRate": 1.0, "CanGoNext": False, "CanGoPrevious": False,
        "CanPlay": loaded, "CanPause": loaded and c.playing,
        "CanSeek": loaded and c.playing and c.duration_s > 0, "CanControl": True}


def position(c: PlayerController) -> Int64:
    return Int64(round(max(0.0, c.position_s) * 1_000_000) if c.playing else 0)


def same_path(a: Any, b: str) -> bool:
    """A track id argument (an object path, or a string from a client without introspection)."""
    return (a.path() if isinstance(a, QDBusObjectPath) else str(a)) == b
