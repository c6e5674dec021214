"""TokenStore: the keyring when there is one, memory (and a message) when there is not."""

from __future__ import annotations

import json
import logging

import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from player.errors import KeyringUnavailableError
from player.tokens import SERVICE, Credentials, TokenStore

CREDS = Credentials("dev_1", "access-secret", "refresh-secret", "acct_1", 1790000900.0)


class DictKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.data[(service, username)]


class LockedKeyring(DictKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")


@pytest.fixture()
def global_keyring() -> object:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


def test_round_trip_through_the_default_keyring(global_keyring: object) -> None:
    fake = DictKeyring()
    keyring.set_keyring(fake)
    store = TokenStore("http://cp.test:8000/")
    assert store.persistent and store.message is None and store.load() is None
    store.save(CREDS)
    raw = json.loads(fake.data[(SERVICE, "http://cp.test:8000")])
    assert raw["refresh_token"] == "refresh-secret"
    assert TokenStore("http://cp.test:8000").load() == CREDS  # a new process would see it
    assert TokenStore("http://other.test").load() is None     # one entry per control plane
    store.clear()
    assert fake.data == {} and store.load() is None
    store.clear()  # nothing left: still fine


def test_fail_backend_falls_back_to_memory_with_a_message(
        global_keyring: object, caplog: pytest.LogCaptureFixture) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    with caplog.at_level(logging.INFO):
        store = TokenStore("http://cp.test")
        assert not store.persistent
        assert store.message is not None and "gnome-keyring" in store.message
        store.save(CREDS)
        assert store.load() == CREDS
    with pytest.raises(KeyringUnavailableError):
        store.require_persistent()
    assert "secret" not in caplog.text  # tokens never reach the log


def test_an_error_on_use_switches_to_memory(caplog: pytest.LogCaptureFixture) -> None:
    store = TokenStore("http://cp.test", backend=LockedKeyring())
    assert store.persistent
    with caplog.at_level(logging.WARNING, logger="net"):
        store.save(CREDS)
    assert not store.persistent and store.load() == CREDS
    assert "KeyringLocked" in caplog.text and "secret" not in caplog.text


def test_garbage_in_the_keyring_reads_as_signed_out() -> None:
    backend = DictKeyring()
    backend.set_password(SERVICE, "http://cp.test", "{not json")
    assert TokenStore("http://cp.test", backend=backend).load() is None
