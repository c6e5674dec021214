"""Start the control plane and its edges, print the ready line, stop cleanly on a signal."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from controlplane.api.auth import seed_demo_accounts
from controlplane.app import build_admin_app, build_api_app
from controlplane.backend import Backend
from controlplane.catalog import Catalog
from controlplane.clock import Clock
from controlplane.config import Policy
from controlplane.edge import EdgeFleet
from controlplane.health import monitor
from controlplane.httpserver import JsonErrorRunner
from controlplane.keys import b64, load_server_keys
from controlplane.signing import UrlSigner
from controlplane.store import open_store

log = logging.getLogger("controlplane")

READY_FORMAT = 1


@dataclass
class ServerOptions:
    catalog: Catalog
    state_dir: Path
    policy: Policy = field(default_factory=Policy)
    host: str = "127.0.0.1"
    port: int = 0
    admin_port: int = 0
    edges: int = 3
    request_log: TextIO | None = None


async def _listen(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = JsonErrorRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return runner, f"http://{host}:{bound}"


def ready_line(backend: Backend, admin_url: str, admin_token: str = "") -> dict[str, Any]:
    assert backend.fleet is not None
    return {
        "event": "ready",
        "format": READY_FORMAT,
        "pid": os.getpid(),
        "base_url": backend.base_url,
        "admin_url": admin_url,
        "admin_token": admin_token,
        "edges": [{"name": e.name, "url": e.url} for e in backend.fleet.edges],
        "catalog": {"profile": backend.catalog.profile, "titles": len(backend.catalog.titles),
                    "root": str(backend.catalog.root)},
        "license_public_key": b64(backend.keys.public_key_raw),
        "license_key_id": backend.keys.key_id,
    }


async def serve(options: ServerOptions, out: TextIO = sys.stdout) -> None:
    """Run until SIGINT/SIGTERM (or cancellation); the edges stop with the control plane."""
    policy = options.policy
    db = open_store(options.state_dir / "controlplane.sqlite3")
    keys = load_server_keys(options.state_dir)
    clock = Clock()
    signer = UrlSigner(keys.url_secret, clock, policy.signed_url_ttl_s)
    backend = Backend(options.catalog, db, policy, clock, signer, keys)
    seed_demo_accounts(backend)

    api_runner, backend.base_url = await _listen(build_api_app(backend), options.host,
                                                 options.port)
    fleet = EdgeFleet(options.catalog, signer, clock, key_uri=backend.key_uri,
                      count=options.edges, host=options.host, log_stream=options.request_log)
    await fleet.start()
    backend.fleet = fleet
    for edge in fleet.edges:
        backend.health.track(edge.name, edge.url)
    admin_token = secrets.token_urlsafe(24)
    admin_runner, admin_url = await _listen(build_admin_app(backend, admin_token), options.host,
                                            options.admin_port)
    watcher = asyncio.create_task(monitor(backend.health, policy.health_interval_s,
                                          policy.health_timeout_s, policy.health_failures_to_down))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    out.write(json.dumps(ready_line(backend, admin_url, admin_token)) + "\n")
    out.flush()
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await admin_runner.cleanup()
        await fleet.stop()
        await api_runner.cleanup()
        db.close()
