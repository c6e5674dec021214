"""player.api against the real bundled control plane: the play path up to the key."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from player.api import ControlPlaneClient
from player.bundled import ReadyInfo
from player.errors import AuthError, EntitlementError, LicenseError, NotFoundError
from player.manifest import parse_media_playlist, parse_multivariant
from player.steering import SteeringClient
from player.tokens import Credentials, MemoryStore, TokenStore
from tests.conftest import StartControlPlane
from tests.integration.cp_client import advance_clock

T = TypeVar("T")
_seq = itertools.count()


def run(base_url: str, body: Callable[[ControlPlaneClient], Awaitable[T]],
        store: MemoryStore | None = None) -> T:
    async def main() -> T:
        async with ControlPlaneClient(base_url, store=store or MemoryStore()) as client:
            return await body(client)
    return asyncio.run(main())


async def sign_up(client: ControlPlaneClient, plan: str = "premium") -> str:
    """A new account and device; returns the first profile's id."""
    email = f"player{next(_seq)}-{time.time_ns()}@example.test"
    public_key = X25519PrivateKey.generate().public_key().public_bytes_raw()
    await client.register_device(email, "secret-pw", "pytest", platform="linux",
                                 public_key=public_key, create_account=True, plan=plan)
    return str((await client.profiles())[0]["id"])


def test_play_path_up_to_the_key(controlplane: ReadyInfo, fake_catalog_dir: Path) -> None:
    async def body(client: ControlPlaneClient) -> None:
        profile = await sign_up(client)
        me = await client.me()
        assert me["device"]["has_public_key"] is True
        rows = await client.rows(profile)
        assert rows and any(item["id"] == "title0" for row in rows for item in row["items"])
        assert (await client.title("title0", profile))["name"] == "Fake Title 0"
        assert any(t["id"] == "title3" for t in await client.search("Title 3", profile))
        playback = await client.start_playback("title0", profile)
        assert playback.title_id == "title0" and len(playback.pathways) == 3

        mv = parse_multivariant(await client.fetch_text(playback.manifest_url),
                                playback.manifest_url)
        assert set(mv.pathway_ids) == {"edge-1", "edge-2", "edge-3"}
        assert mv.steering_uri == playback.steering_url
        assert mv.default_pathway == playback.pathways[0][0]
        for pathway in mv.pathways:
            assert [v.rendition_id for v in pathway.variants] == ["360p", "720p"]
        assert mv.subtitles  # one group per pathway

        steering = SteeringClient(mv.steering_uri or "", client.fetch_json, clock=time.monotonic)
        manifest = await steering.reload(mv.default_pathway, 10e6)
        assert set(manifest.pathway_priority) == set(mv.pathway_ids) and manifest.ttl_s > 0
        assert not steering.reload_due()

        variant = mv.pathway(manifest.pathway_priority[0]).variants[0]
        media = parse_media_playlist(await client.fetch_text(variant.uri), variant.uri)
        assert media.endlist and len(media.segments) == 4
        assert media.key is not None and media.key.uri == playback.license_url
        key = await client.streaming_key(media.key.uri)
        assert key == (fake_catalog_dir / "titles" / "title0" / "key.bin").read_bytes()
        assert client.last_server_time is not None
        assert abs(client.last_server_time - time.time()) < 60

    run(controlplane.base_url, body)


def test_progress_telemetry_and_licenses(controlplane: ReadyInfo) -> None:
    async def body(client: ControlPlaneClient) -> None:
        profile = await sign_up(client)
        put = await client.put_progress(profile, "title0", position_s=4.0, duration_s=16.0,
                                        event_time_ms=1000)
        assert put["applied"] is True
        batch = await client.progress_batch([
            {"profile_id": profile, "title_id": "title3", "position_s": 2.0, "event_time_ms": 5}])
        assert batch[0]["applied"] is True
        assert {p["title_id"] for p in await client.progress_list(profile)} == {"title0", "title3"}
        assert (await client.progress(profile, "title0"))["position_s"] == 4.0
        with pytest.raises(NotFoundError) as info:
            await client.progress(profile, "title2")
        assert info.value.server_code == "no_progress"
        assert await client.post_telemetry([{"type": "pytest"}]) == 1
        lic = await client.issue_offline_license("title0", profile)
        license_id = lic["payload"]["license_id"]
        assert [x["id"] for x in (await client.offline_licenses())["licenses"]] == [license_id]
        assert "license" in await client.renew_offline_license(license_id, time.time())
        assert (await client.release_offline_license(license_id))["released"] == license_id
        assert (await client.release_offline_license(license_id))["released"] == license_id

    run(controlplane.base_url, body)


def test_entitlement_refusals_carry_the_server_code(controlplane: ReadyInfo) -> None:
    async def body(client: ControlPlaneClient) -> dict[str, Any]:
        profile = await sign_up(client, plan="basic")
        kids = (await client.create_profile("Kid", kids=True))["id"]
        found: dict[str, Any] = {}
        for title, prof in (("title1", profile), ("title2", profile), ("title2", kids)):
            try:
                await client.start_playback(title, prof)
            except EntitlementError as exc:
                found[f"{title}/{prof == kids}"] = exc
        with pytest.raises(LicenseError) as info:
            await client.streaming_key(f"{controlplane.base_url}/v1/licenses/streaming/title2")
        assert info.value.server_code == "plan_required"
        with pytest.raises(NotFoundError):
            await client.start_playback("no-such-title", profile)
        return found

    found = run(controlplane.base_url, body)
    assert found["title1/False"].code == "region_blocked"
    assert "GB" in found["title1/False"].message
    assert found["title2/False"].code == "plan_required"
    assert found["title2/True"].code == "maturity"


def test_bad_password_is_an_auth_error(controlplane: ReadyInfo) -> None:
    async def body(client: ControlPlaneClient) -> None:
        await client.register_device("demo@edgeplay.test", "wrong-password", "pytest")

    with pytest.raises(AuthError) as info:
        run(controlplane.base_url, body)
    assert info.value.server_code == "bad_credentials" and info.value.message


def test_expired_access_token_is_refreshed_transparently(
        start_controlplane: StartControlPlane) -> None:
    ready = start_controlplane(policy=("access_token_ttl_s=1",), edges=1).ready
    store = MemoryStore()

    async def body(client: ControlPlaneClient) -> None:
        profile = await sign_up(client)
        first = store.load()
        assert first is not None
        with httpx.Client() as admin:
            advance_clock(admin, ready, 2)  # past the access token's 1 s
        assert await client.rows(profile)
        second = store.load()
        assert second is not None and second.access_token != first.access_token
        assert second.refresh_token != first.refresh_token  # rotated
        assert second.device_id == first.device_id
        # A revoked session cannot be refreshed: the user is asked to sign in again.
        await client.logout()
        with pytest.raises(AuthError, match="sign in"):
            await client.rows(profile)

    run(ready.base_url, body, store)


def test_real_secret_service_round_trip() -> None:
    try:
        from keyring.backends import SecretService

        backend = SecretService.Keyring()
        backend.priority  # noqa: B018  (raises when no Secret Service is reachable)
        backend.get_password("edgeplay", "probe")
    except Exception as exc:
        pytest.skip(f"no Secret Service reachable (run under ./test.sh for gnome-keyring): {exc}")
    url = f"http://secret-service-test.invalid:{time.time_ns() % 60000}"
    store = TokenStore(url, backend=backend)
    creds = Credentials("dev_x", "acc", "ref", "acct_x", 1.0)
    try:
        store.save(creds)
        assert store.persistent
        assert TokenStore(url, backend=SecretService.Keyring()).load() == creds
    finally:
        store.clear()
    assert TokenStore(url, backend=SecretService.Keyring()).load() is None


def test_unreachable_control_plane_is_a_network_error() -> None:
    from player.api import RetryPolicy
    from player.errors import NetworkError

    async def main() -> None:
        async with ControlPlaneClient("http://127.0.0.1:9", retry=RetryPolicy(
                attempts=2, base_delay_s=0.01)) as client:
            with pytest.raises(NetworkError) as info:
                await client.license_public_key()
            assert "127.0.0.1:9" in info.value.message
            assert isinstance(info.value.__cause__, httpx.ConnectError)

    asyncio.run(main())
