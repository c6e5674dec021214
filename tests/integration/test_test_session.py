"""The test session itself (``scripts/in-test-session.sh``): its Secret Service outlives a crash.

Every keyring test after a lost gnome-keyring would otherwise meet a locked, new keyring that
wants a password prompt no one can answer, and fail. The session bus knows how to start the
daemon again on the same keyring, unlocked; this kills the daemon and checks that.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

pytestmark = pytest.mark.skipif(not os.environ.get("EDGEPLAY_TEST_BUS"),
                                reason="runs inside scripts/in-test-session.sh")

BUS = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus",
                  interface="org.freedesktop.DBus")


def _owner_pid() -> int | None:
    with open_dbus_connection(bus="SESSION") as conn:
        has = conn.send_and_get_reply(new_method_call(BUS, "NameHasOwner", "s",
                                                      ("org.freedesktop.secrets",)))
        if not has.body[0]:
            return None
        reply = conn.send_and_get_reply(new_method_call(
            BUS, "GetConnectionUnixProcessID", "s", ("org.freedesktop.secrets",)))
        return int(reply.body[0])


def test_a_killed_secret_service_comes_back_unlocked_with_its_secrets() -> None:
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    service = f"edgeplay-test-session-{time.time_ns()}"
    backend.set_password(service, "user", "kept")
    first = _owner_pid()
    assert first is not None
    try:
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _owner_pid() == first and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _owner_pid() != first, "the killed daemon still owns the name"

        # The next call activates a new daemon on the same keyring file, with no prompt.
        assert backend.get_password(service, "user") == "kept"
        second = _owner_pid()
        assert second is not None and second != first
        backend.set_password(service, "user", "changed")
        assert backend.get_password(service, "user") == "changed"
    finally:
        backend.delete_password(service, "user")
