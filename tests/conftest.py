"""Fixtures shared by every test folder: real control planes on loopback."""

from __future__ import annotations

import os
import sys
import threading
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


class ControlPlanes:
    """Starts control planes of one's own and stops every one of them (:meth:`stop_all`)."""

    def __init__(self, tmp: pytest.TempPathFactory, catalog_dir: Path) -> None:
        self.tmp = tmp
        self.catalog_dir = catalog_dir
        self.started: list[BundledControlPlane] = []

    def start(self, *, policy: tuple[str, ...] = (), edges: int = 3,
              catalog_args: tuple[str, ...] | None = None,
              state_dir: Path | None = None) -> BundledControlPlane:
        """``start(policy=[...], edges=3)``: the fake catalog unless ``catalog_args`` says
        otherwise, its state in a fresh directory."""
        state = state_dir or self.tmp.mktemp("cp-state")
        args = list(catalog_args or ("--catalog-dir", str(self.catalog_dir)))
        args += ["--state-dir", str(state), "--edges", str(edges),
                 "--request-log", str(state / "requests.jsonl")]
        for item in policy:
            args += ["--policy", item]
        cp = BundledControlPlane(args, cwd=REPO, start_timeout_s=300,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
        self.started.append(cp)  # before start(): a failed start is stopped too
        cp.start()
        return cp

    def stop_all(self) -> None:
        while self.started:
            self.started.pop().stop()

    def __enter__(self) -> ControlPlanes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()  # passed or failed


@pytest.fixture
def start_controlplane(tmp_path_factory: pytest.TempPathFactory,
                       fake_catalog_dir: Path) -> Iterator[StartControlPlane]:
    """A test's own control planes, stopped when the test ends (passed or failed)."""
    with ControlPlanes(tmp_path_factory, fake_catalog_dir) as planes:
        yield planes.start


@pytest.fixture(scope="module")
def start_module_controlplane(tmp_path_factory: pytest.TempPathFactory,
                              fake_catalog_dir: Path) -> Iterator[StartControlPlane]:
    """Control planes for a module's ``fleet`` fixture, stopped when the module ends."""
    with ControlPlanes(tmp_path_factory, fake_catalog_dir) as planes:
        yield planes.start


@pytest.fixture(scope="session")
def shared_controlplane(tmp_path_factory: pytest.TempPathFactory,
                        fake_catalog_dir: Path) -> Iterator[BundledControlPlane]:
    """The one control plane shared by the whole session (default policy, 3 edges)."""
    with ControlPlanes(tmp_path_factory, fake_catalog_dir) as planes:
        yield planes.start()


@pytest.fixture(scope="session")
def controlplane(shared_controlplane: BundledControlPlane) -> ReadyInfo:
    """The shared control plane's ready line. Tests that change its state (faults, policy,
    clocks) start one of their own instead."""
    return shared_controlplane.ready


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


# --- what a test session leaves behind --------------------------------------------------------

OWNED_THREADS = ("engine", "controlplane-", "art-decode", "trickplay-decode", "lifeline")
"""Names of threads that Edgeplay objects start and must stop (daemon or not)."""


def pytest_configure(config: pytest.Config) -> None:
    # A crashing child (a control plane, a CLI under test) prints every thread's stack too.
    os.environ["PYTHONFAULTHANDLER"] = "1"


def _live_children() -> list[str]:
    if not sys.platform.startswith("linux"):
        return []
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except (OSError, IndexError):
            continue
        if fields[1] == str(os.getpid()) and fields[0] != "Z":
            found.append(f"{entry.name} {cmd[:160]}")
    return found


def _leftover_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate()
            if t is not threading.main_thread()
            and (not t.daemon or t.name.startswith(OWNED_THREADS))]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a thread or a child process outlived the fixtures that owned it."""
    threads = _leftover_threads()
    for thread in threads:
        thread.join(2.0)  # one that is on its way out
    threads = [t for t in threads if t.is_alive()]
    children = _live_children()
    if not threads and not children:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["Left running when the session ended (every thread and process needs an owner "
             "that stops it):"]
    lines += [f"  thread {t.name!r} (daemon={t.daemon})" for t in threads]
    lines += [f"  child process {c}" for c in children]
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, red=True)
        else:
            print(line, file=sys.stderr)
    if session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
