"""Fixtures shared by every test folder: real control planes on loopback."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from player.bundled import BundledControlPlane, ReadyInfo
from tests.helpers.fake_catalog import make_fake_catalog

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def fake_catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fake-catalog")
    make_fake_catalog(root, titles=4)
    return root


StartControlPlane = Callable[..., BundledControlPlane]


@pytest.fixture(scope="session")
def start_controlplane(
    tmp_path_factory: pytest.TempPathFactory, fake_catalog_dir: Path
) -> Iterator[StartControlPlane]:
    """Start a control plane of one's own: ``start_controlplane(policy=[...], edges=3)``.

    It serves the fake catalog unless ``catalog_args`` says otherwise, keeps its state in a fresh
    directory, and is stopped at the end of the session (or earlier by the test).
    """
    started: list[BundledControlPlane] = []

    def start(*, policy: tuple[str, ...] = (), edges: int = 3,
              catalog_args: tuple[str, ...] | None = None,
              state_dir: Path | None = None) -> BundledControlPlane:
        state = state_dir or tmp_path_factory.mktemp("cp-state")
        args = list(catalog_args or ("--catalog-dir", str(fake_catalog_dir)))
        args += ["--state-dir", str(state), "--edges", str(edges),
                 "--request-log", str(state / "requests.jsonl")]
        for item in policy:
            args += ["--policy", item]
        cp = BundledControlPlane(args, cwd=REPO, start_timeout_s=300,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
        cp.start()
        started.append(cp)
        return cp

    yield start
    for cp in started:
        cp.stop()


@pytest.fixture(scope="session")
def controlplane(start_controlplane: StartControlPlane) -> ReadyInfo:
    """One shared control plane (default policy, 3 edges) serving the fake catalog."""
    return start_controlplane().ready


@pytest.fixture()
def admin(fleet: ReadyInfo) -> Iterator[httpx.Client]:
    """The admin API of the module's ``fleet`` (a fixture each module defines); every edge's
    faults are cleared after the test."""
    with httpx.Client(base_url=fleet.admin_url, headers=fleet.admin_headers, timeout=5.0) as client:
        yield client
        for name, _ in fleet.edges:
            client.delete(f"/admin/edges/{name}/faults").raise_for_status()


@pytest.fixture()
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client
