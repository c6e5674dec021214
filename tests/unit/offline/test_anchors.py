"""The local user rewrites the journal (as with sqlite3): every edit of a license-relevant row is
found on the next play, says "renew it online", and costs nothing else."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline.anchors import RECORDS_CHANGED, TrustAnchors
from offline.errors import OfflineError
from offline.journal import Download
from offline.library import OfflineLibrary
from offline.license import verify
from player.errors import KeyringUnavailableError
from tests.unit.offline.test_license import PUBLIC, SIGNER, b64, wrap
from tests.unit.player.test_tokens import DictKeyring

WINDOW_S = 100.0


def license_for(lib: OfflineLibrary, license_id: str, *, signer: Ed25519PrivateKey = SIGNER,
                expires_at: float = 5000.0, first: float | None = None) -> dict[str, str]:
    payload = {"format": 1, "license_id": license_id, "title_id": f"t-{license_id}",
               "account_id": "a", "device_id": "d", "profile_id": "p", "issued_at": 1000.0,
               "expires_at": expires_at, "playback_window_s": WINDOW_S,
               "first_played_at": first, "server_time": 1000.0,
               "wrapped_key": wrap(b"k" * 16, lib.device_key().public_raw, license_id)}
    raw = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return {"license": b64(raw), "signature": b64(signer.sign(raw)), "key_id": "k1"}


def add(lib: OfflineLibrary, license_id: str) -> Download:
    lic = verify(license_for(lib, license_id), PUBLIC)
    d = Download(id=f"dl-{license_id}", title_id=lic.title_id, title_name=license_id,
                 profile_id="p", account_id="a", device_id="d", service="svc", rung=0,
                 rendition="r0", bandwidth_bps=1000, state="completed", error_code=None,
                 error=None, duration_s=8.0, created_at=1000.0, completed_at=1000.0,
                 license=lic.to_json(), license_id=lic.license_id, expires_at=lic.expires_at,
                 first_played_at=None, position_s=0.0)
    d = lib.add(d, [4.0, 4.0])
    for i in range(2):
        lib.journal.segment_done(d.id, i, 10, "0" * 64)
    return lib.get(d.id)


class World:
    def __init__(self, root: Path) -> None:
        self.keyring = DictKeyring()
        self.wall = [1000.0]
        self.lib = self.open(root)
        self.lib.pin("svc", PUBLIC)
        self.a = add(self.lib, "lic_a")
        self.b = add(self.lib, "lic_b")

    def open(self, root: Path) -> OfflineLibrary:
        return OfflineLibrary(root, device="dev-1", keyring_backend=self.keyring,
                              wall=lambda: self.wall[0])

    def sql(self, statement: str, *args: object) -> None:
        db = sqlite3.connect(self.lib.journal.path)
        db.execute(statement, args)
        db.commit()
        db.close()

    def play(self, d: Download) -> bytes:
        return self.lib.content_key(self.lib.get(d.id), first_play=True)

    def refused(self, d: Download) -> OfflineError:
        with pytest.raises(OfflineError) as caught:
            self.play(d)
        return caught.value


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    w = World(tmp_path / "lib")
    yield w
    w.lib.close()


def assert_records_changed(error: OfflineError) -> None:
    assert error.code == "records_changed", error
    assert RECORDS_CHANGED in error.message and "renew" in error.message


def renew(w: World, d: Download, *, expires_at: float = 9000.0) -> None:
    """What ``DownloadManager.renew`` does once the server answered."""
    current = w.lib.get(d.id)
    w.lib.store_license(current, verify(license_for(w.lib, str(d.license_id),
                                                    expires_at=expires_at), PUBLIC))


def test_a_public_key_written_into_the_journal_is_not_trusted(world: World) -> None:
    """HIGH: re-sign the license with one's own key and put that key into the journal."""
    world.play(world.a)
    world.wall[0] = 6000.0
    assert world.refused(world.a).code == "license_expired"
    attacker = Ed25519PrivateKey.generate()
    raw = attacker.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw)
    forged = license_for(world.lib, "lic_a", signer=attacker, expires_at=10**10)
    world.sql("INSERT OR REPLACE INTO meta VALUES ('pin:svc', ?)", base64.b64encode(raw).decode())
    world.sql("UPDATE downloads SET license = ?, expires_at = ? WHERE id = ?",
              json.dumps(forged), 10**10, world.a.id)
    assert_records_changed(world.refused(world.a))
    assert world.lib.pinned_key("svc") == PUBLIC  # the keyring's, not the journal's


def test_a_forged_license_with_a_recomputed_row_fails_its_signature(world: World) -> None:
    """Even with the seal left intact (a row written through the library), only the key the
    keyring holds verifies a license."""
    attacker = Ed25519PrivateKey.generate()
    forged = license_for(world.lib, "lic_a", signer=attacker, expires_at=10**10)
    world.lib.journal.write_sealed(world.a.id, world.lib.anchors.seal,
                                   license=json.dumps(forged))
    assert world.refused(world.a).code == "license_invalid"


def test_nulling_the_first_play_is_detected_and_renew_restores_it(world: World) -> None:
    """MEDIUM: ``UPDATE downloads SET first_played_at=NULL`` after the window closed."""
    world.play(world.a)
    world.wall[0] = 1000.0 + WINDOW_S + 1
    assert world.refused(world.a).code == "window_expired"
    world.sql("UPDATE downloads SET first_played_at = NULL WHERE id = ?", world.a.id)
    assert_records_changed(world.refused(world.a))
    assert world.play(world.b)  # nothing else is lost
    renew(world, world.a)  # online: the license comes again, the records are sealed again
    assert world.refused(world.a).code == "window_expired"  # the first play was kept
    assert world.lib.get(world.a.id).first_played_at == 1000.0


def test_deleting_the_trusted_time_row_keeps_the_rollback_check(world: World) -> None:
    """MEDIUM: ``DELETE FROM meta WHERE key='trusted_time'`` removed the rollback check."""
    world.wall[0] = 4000.0
    world.play(world.a)
    world.sql("DELETE FROM meta")
    world.wall[0] = 1500.0  # the clock is moved back to before the expiry of a license
    assert world.refused(world.b).code == "clock_rollback"


@pytest.mark.parametrize("statement", [
    "UPDATE downloads SET expires_at = 10000000000 WHERE id = ?",
    "UPDATE downloads SET play_count = 0 WHERE id = ?",
    "UPDATE downloads SET first_played_at = 999999 WHERE id = ?",
    "UPDATE downloads SET service = 'elsewhere' WHERE id = ?",
    "UPDATE downloads SET seal = NULL WHERE id = ?",
])
def test_any_edit_of_a_license_relevant_column_is_detected(world: World,
                                                           statement: str) -> None:
    world.play(world.a)
    world.sql(statement, world.a.id)
    assert_records_changed(world.refused(world.a))
    assert world.play(world.b)


def test_an_earlier_copy_of_the_journal_put_back_is_detected(world: World,
                                                             tmp_path: Path) -> None:
    """Saving the journal before the first play and restoring it once the window closed."""
    world.lib.close()
    saved = tmp_path / "saved.sqlite3"
    shutil.copy(world.lib.journal.path, saved)
    world.lib = world.open(world.lib.root)
    world.play(world.a)
    world.lib.close()
    shutil.copy(saved, world.lib.journal.path)
    world.lib = world.open(world.lib.root)
    assert_records_changed(world.refused(world.a))


def test_play_counts_are_kept_and_sealed(world: World) -> None:
    for _ in range(3):
        world.play(world.a)
    assert world.lib.get(world.a.id).play_count == 3
    assert world.lib.anchors.plays("lic_a") == (1000.0, 3)


def test_the_window_is_the_earlier_of_the_server_and_this_device(world: World) -> None:
    world.wall[0] = 1050.0
    world.play(world.a)  # this device's first play: 1050
    current = world.lib.get(world.a.id)
    world.lib.store_license(current, verify(license_for(world.lib, "lic_a", first=1010.0),
                                            PUBLIC))
    world.wall[0] = 1010.0 + WINDOW_S + 1  # inside our window, past the server's
    assert world.refused(world.a).code == "window_expired"


def test_the_data_folder_and_its_files_are_private(world: World) -> None:
    """LOW: client data files were world-readable (0644)."""
    root = world.lib.root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(world.lib.journal.path.stat().st_mode) == 0o600
    world.lib.store.prepare(world.a.id)
    sub = world.lib.store.subtitle_path(world.a.id, "en")
    world.lib.store.write_file(sub, b"WEBVTT\n")
    assert stat.S_IMODE(sub.stat().st_mode) == 0o600
    assert stat.S_IMODE(sub.parent.stat().st_mode) == 0o700


def test_sizes_are_never_rounded_away() -> None:
    """LOW: the disk-full message said "25 MB free" with 360 KiB free."""
    from offline.store import size_text
    assert size_text(360 * 1024) == "360 KiB"
    assert size_text(25_000_000) == "25.0 MB"
    assert size_text(300) == "300 bytes"


class FlakyKeyring(DictKeyring):
    """Fails ``fails`` reads, as Secret Service does when another process replaces the item
    between the lookup and the read ("Item does not exist")."""

    def __init__(self, fails: int) -> None:
        super().__init__()
        self.fails = fails

    def get_password(self, service: str, username: str) -> str | None:
        if self.fails:
            self.fails -= 1
            raise RuntimeError("Item does not exist!")
        return super().get_password(service, username)


def test_a_read_that_fails_once_is_tried_again_twice_is_an_error() -> None:
    backend = FlakyKeyring(fails=1)
    backend.set_password("svc", "dev", "value")
    assert TrustAnchors("dev", backend=backend)._get("svc", "dev") == "value"
    backend.fails = 2
    with pytest.raises(KeyringUnavailableError, match=r"could not be read \(Item does not exist"):
        TrustAnchors("dev", backend=backend)._get("svc", "dev")
