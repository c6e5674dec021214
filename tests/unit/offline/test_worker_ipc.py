"""The download worker's wire: every message survives a round trip; bad lines are refused
with a message that says what is wrong."""

from __future__ import annotations

import pytest

from offline import worker_ipc as ipc
from offline.progress import DownloadProgress

COMMANDS = [
    ipc.Open(root="/tmp/lib", device="/tmp/data", base_url="http://127.0.0.1:1",
             store_key="http://127.0.0.1:1", service="bundled:/tmp/s",
             config={"quota_bytes": 5, "concurrent_downloads": 1}, license_key="AAAA"),
    ipc.Add("t1", "p1"), ipc.Add("t1", "p1", quality="720p"), ipc.Pause("d1"),
    ipc.Resume("d1"), ipc.Cancel("d1"), ipc.Delete("d1"), ipc.Renew("d1"), ipc.Repair("d1"),
    ipc.Shutdown(),
]
EVENTS = [
    ipc.Ready(42), ipc.Changed(), ipc.Changed("d1"), ipc.Finished("d1", "Big Buck"),
    ipc.Failed("Try again.", "net", "d1"), ipc.Failed("Nope."),
    ipc.Progress("d1", "t1", "Big Buck", "downloading", 3, 10, 3000, 10000, 1.5e6, 4.0),
]


@pytest.mark.parametrize("message", COMMANDS, ids=lambda m: type(m).__name__)
def test_commands_round_trip(message: ipc.Message) -> None:
    line = message.to_json()
    assert "\n" not in line
    assert ipc.parse_command(line) == message
    assert ipc.parse_command(line.encode() + b"\n") == message


@pytest.mark.parametrize("message", EVENTS, ids=lambda m: type(m).__name__)
def test_events_round_trip(message: ipc.Message) -> None:
    assert ipc.parse_event(message.to_json()) == message


def test_progress_carries_a_download_progress() -> None:
    p = DownloadProgress("d1", "t1", "Name", "failed", 1, 4, 10, 40, None, None, "net", "x")
    event = ipc.parse_event(ipc.Progress.of(p).to_json())
    assert isinstance(event, ipc.Progress)
    assert event.progress() == p


def test_an_int_is_a_float_but_a_bool_is_not_an_int() -> None:
    line = ('{"type":"Progress","id":"d","title_id":"t","title_name":"n","state":"queued",'
            '"segments_done":1,"segment_count":2,"bytes_done":3,"bytes_total":4,"rate_bps":5}')
    assert ipc.parse_event(line) == ipc.Progress("d", "t", "n", "queued", 1, 2, 3, 4, 5)
    with pytest.raises(ipc.IpcError, match="segments_done has the wrong type"):
        ipc.parse_event(line.replace('"segments_done":1', '"segments_done":true'))


@pytest.mark.parametrize(("line", "says"), [
    ("garbage", "not JSON"),
    ("", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    ('{"download_id": "d1"}', "unknown type None"),
    ('{"type": "Explode"}', "unknown type 'Explode'"),
    ('{"type": "Pause"}', "Pause: missing field download_id"),
    ('{"type": "Pause", "download_id": 7}', "field download_id has the wrong type"),
    ('{"type": "Pause", "download_id": "d", "why": "x"}', "unknown field"),
    ('{"type": "Ready", "pid": 1}', "unknown type 'Ready'"),
    ('{"type": "Add", "title_id": "t", "profile_id": "p", "quality": 3}', "quality"),
    ('{"type": "Open", "root": "r", "device": "d", "base_url": "u", "store_key": "k",'
     ' "service": "s", "config": []}', "config has the wrong type"),
])
def test_bad_commands_are_refused_clearly(line: str, says: str) -> None:
    with pytest.raises(ipc.IpcError, match=None) as caught:
        ipc.parse_command(line)
    assert says in str(caught.value)


def test_an_event_is_not_a_command_and_the_other_way_round() -> None:
    with pytest.raises(ipc.IpcError, match="unknown type 'Pause'"):
        ipc.parse_event(ipc.Pause("d").to_json())
    with pytest.raises(ipc.IpcError, match="unknown type 'Finished'"):
        ipc.parse_command(ipc.Finished("d", "n").to_json())
