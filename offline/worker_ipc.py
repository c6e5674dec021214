"""The download worker's wire: typed commands in, typed events out, one JSON object a line.

The app (:mod:`ui.downloads`) writes commands to ``python -m offline.worker``'s stdin and reads
events from its stdout. Each message is a frozen dataclass; ``to_json()`` gives one line
(``{"type": "Pause", "download_id": "…"}``) and :func:`parse_command` / :func:`parse_event`
turn a line back into its message, or raise :class:`IpcError` saying what is wrong with it (not
JSON, not an object, an unknown type, a missing or mistyped field).

Commands: :class:`Open` (first: the library, the control plane and the credentials to use),
:class:`Add`, :class:`Pause`, :class:`Resume`, :class:`Cancel`, :class:`Delete`,
:class:`Renew`, :class:`Repair`, :class:`Shutdown`. Events: :class:`Ready`, :class:`Progress`,
:class:`Changed`, :class:`Finished`, :class:`Failed`.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from offline.progress import DownloadProgress


class IpcError(ValueError):
    """A line that is not a valid message; the text says why."""


@dataclass(frozen=True)
class Message:
    def to_json(self) -> str:
        body = {"type": type(self).__name__, **dataclasses.asdict(self)}
        return json.dumps(body, separators=(",", ":"))


# --- commands (app → worker) -------------------------------------------------------------------

@dataclass(frozen=True)
class Open(Message):
    """Open the library at ``root`` and talk to ``base_url`` with the keyring's credentials
    under ``store_key``; ``service`` is the journal's name for the control plane."""
    root: str
    device: str
    base_url: str
    store_key: str
    service: str
    config: dict[str, Any] = field(default_factory=dict)
    """:class:`offline.library.OfflineConfig` fields."""
    license_key: str | None = None
    """The bundled control plane's license key, base64 (pinned in the keyring)."""


@dataclass(frozen=True)
class Add(Message):
    title_id: str
    profile_id: str
    quality: str | None = None


@dataclass(frozen=True)
class Pause(Message):
    download_id: str


@dataclass(frozen=True)
class Resume(Message):
    download_id: str


@dataclass(frozen=True)
class Cancel(Message):
    download_id: str


@dataclass(frozen=True)
class Delete(Message):
    download_id: str


@dataclass(frozen=True)
class Renew(Message):
    download_id: str


@dataclass(frozen=True)
class Repair(Message):
    download_id: str


@dataclass(frozen=True)
class Shutdown(Message):
    """Stop the running downloads where they are (the next start resumes them) and exit."""


# --- events (worker → app) ---------------------------------------------------------------------

@dataclass(frozen=True)
class Ready(Message):
    pid: int


@dataclass(frozen=True)
class Progress(Message):
    id: str
    title_id: str
    title_name: str
    state: str
    segments_done: int
    segment_count: int
    bytes_done: int
    bytes_total: int
    rate_bps: float | None = None
    eta_s: float | None = None
    error_code: str | None = None
    error: str | None = None

    @classmethod
    def of(cls, p: DownloadProgress) -> Progress:
        return cls(**dataclasses.asdict(p))

    def progress(self) -> DownloadProgress:
        return DownloadProgress(**dataclasses.asdict(self))


@dataclass(frozen=True)
class Changed(Message):
    """The journal changed (a download was added, changed state or was removed)."""
    download_id: str | None = None


@dataclass(frozen=True)
class Finished(Message):
    download_id: str
    title_name: str


@dataclass(frozen=True)
class Failed(Message):
    """A command failed; ``message`` says what to do."""
    message: str
    code: str | None = None
    download_id: str | None = None


COMMANDS: dict[str, type[Message]] = {c.__name__: c for c in (
    Open, Add, Pause, Resume, Cancel, Delete, Renew, Repair, Shutdown)}
EVENTS: dict[str, type[Message]] = {c.__name__: c for c in (
    Ready, Progress, Changed, Finished, Failed)}

def _accepts(hint: Any, value: Any) -> bool:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return any(_accepts(h, value) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint) or hint
    if origin is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if origin is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is Any:
        return True
    return isinstance(value, origin)


def _parse(line: str | bytes, known: dict[str, type[Message]], what: str) -> Message:
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    shown = text.strip()[:80]
    try:
        body = json.loads(text)
    except ValueError:
        raise IpcError(f"not a {what}: not JSON: {shown!r}") from None
    if not isinstance(body, dict):
        raise IpcError(f"not a {what}: not a JSON object: {shown!r}")
    name = body.pop("type", None)
    cls = known.get(name) if isinstance(name, str) else None
    if cls is None:
        raise IpcError(f"not a {what}: unknown type {name!r} (known: {', '.join(known)})")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    extra = sorted(set(body) - set(fields))
    if extra:
        raise IpcError(f"{name}: unknown field(s) {', '.join(extra)}")
    for fname, f in fields.items():
        if fname not in body:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise IpcError(f"{name}: missing field {fname}")
            continue
        if not _accepts(hints[fname], body[fname]):
            raise IpcError(f"{name}: field {fname} has the wrong type "
                           f"({type(body[fname]).__name__})")
    return cls(**body)


def parse_command(line: str | bytes) -> Message:
    """The command on ``line``; :class:`IpcError` if it is not one."""
    return _parse(line, COMMANDS, "command")


def parse_event(line: str | bytes) -> Message:
    """The event on ``line``; :class:`IpcError` if it is not one."""
    return _parse(line, EVENTS, "event")
