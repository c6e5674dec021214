"""The self-check's lines about the service: **ffmpeg**, which the bundled control plane
generates its catalog with; the **catalog** already generated in the cache; the **control plane**
(the configured URL answers the unauthenticated ``GET /v1/licenses/public-key``; with none
configured the bundled one is started on an empty catalog, asked the same and stopped)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ui.selfcheck_probes import Check

CONTROL_PLANE_TIMEOUT_S = 60.0


def _find_ffmpeg() -> tuple[str | None, str]:
    on_path = shutil.which("ffmpeg")
    if on_path:
        bundle = getattr(sys, "_MEIPASS", None)
        return on_path, "bundled" if bundle and on_path.startswith(str(bundle)) else "PATH"
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe()), "imageio-ffmpeg"
    except Exception:
        return None, ""


def _catalog_cache() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("edgeplay")) / "controlplane"


def _catalog_titles(profile: str) -> int | None:
    try:
        raw = json.loads((_catalog_cache() / f"catalog-{profile}" / "catalog.json").read_text(
            encoding="utf-8"))
        return len(raw["titles"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_ffmpeg(remote: bool) -> Check:
    exe, source = _find_ffmpeg()
    generated = _catalog_titles("default") is not None
    if exe is None:
        fix = ("install ffmpeg (Debian/Ubuntu: apt install ffmpeg) or the imageio-ffmpeg "
               "wheel (pip install imageio-ffmpeg)")
        if remote:
            return Check("ffmpeg", "ok", "none found; not needed with a remote control plane")
        if generated:
            return Check("ffmpeg", "warn", "none found: the bundled control plane serves the "
                         "catalog already generated but cannot make a new one", fix)
        return Check("ffmpeg", "FAIL", "none found: the bundled control plane cannot "
                     "generate its catalog", fix)
    try:
        banner = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True,
                                text=True, timeout=15, check=False).stdout
        encoders = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True,
                                  text=True, timeout=15, check=False).stdout
        filters = subprocess.run([exe, "-hide_banner", "-filters"], capture_output=True,
                                 text=True, timeout=15, check=False).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("ffmpeg", "FAIL" if not (remote or generated) else "warn",
                     f"{exe} does not run ({exc})", "install a working ffmpeg")
    words = (banner.splitlines() or ["?"])[0].split()
    name = f"ffmpeg {words[2]}" if words[:2] == ["ffmpeg", "version"] and len(words) > 2 \
        else " ".join(words[:3])
    detail = f"{name} ({source}: {exe})"
    if " libx264 " not in encoders:
        return Check("ffmpeg", "warn" if remote or generated else "FAIL",
                     f"{detail} has no libx264 encoder: the catalog cannot be generated",
                     "install an ffmpeg built with libx264 (Debian's is)")
    if " drawtext " not in filters:
        return Check("ffmpeg", "warn", f"{detail} has no drawtext filter: the rendition and "
                     "timecode are not burned into the picture",
                     "install an ffmpeg built with libfreetype (Debian's is)")
    return Check("ffmpeg", "ok", detail)


def check_catalog(remote: bool) -> Check:
    if remote:
        return Check("catalog", "ok", "served by the remote control plane")
    counts = {p: _catalog_titles(p) for p in ("default", "test")}
    present = ", ".join(f"{p}: {n} titles" for p, n in counts.items() if n is not None)
    where = str(_catalog_cache())
    if counts["default"] is None:
        return Check("catalog", "warn", f"the default catalog is not generated yet ({where}"
                     + (f"; {present}" if present else "") + ")",
                     "the first start generates it with ffmpeg (a few minutes), or run "
                     "`edgeplay serve` once")
    return Check("catalog", "ok", f"{present} in {where}")


def _get_public_key(base_url: str, timeout_s: float = 5.0) -> tuple[float, str]:
    """GET /v1/licenses/public-key; returns (ms, key id). Raises on any problem."""
    import httpx

    started = time.monotonic()
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        answer = client.get(base_url.rstrip("/") + "/v1/licenses/public-key")
        answer.raise_for_status()
        key_id = str(answer.json().get("key_id", "?"))
    return (time.monotonic() - started) * 1000.0, key_id


def check_control_plane(url: str | None, source: str = "") -> Check:
    if url:
        try:
            ms, key_id = _get_public_key(url)
        except Exception as exc:
            return Check("control plane", "FAIL",
                         f"{url} ({source}) does not answer GET /v1/licenses/public-key: "
                         f"{type(exc).__name__}: {exc}",
                         "check the address and that the server runs; "
                         + ("leave out --control-plane" if source == "--control-plane" else
                            "clear the URL in Settings (or settings.json)")
                         + " to use the bundled control plane")
        return Check("control plane", "ok", f"{url} ({source}) answered GET "
                     f"/v1/licenses/public-key in {ms:.0f} ms (key {key_id})")
    return _check_bundled_control_plane()


def _check_bundled_control_plane() -> Check:
    """Start the bundled control plane on an empty catalog, ask it, stop it."""
    import httpx

    from player.bundled import BundledControlPlane, ControlPlaneStartError

    with tempfile.TemporaryDirectory(prefix="edgeplay-self-check-") as tmp:
        catalog = Path(tmp) / "catalog"
        catalog.mkdir()
        (catalog / "catalog.json").write_text(
            json.dumps({"format": 1, "profile": "self-check", "titles": []}), encoding="utf-8")
        cp = BundledControlPlane(
            ["--catalog-dir", str(catalog), "--state-dir", str(Path(tmp) / "state"),
             "--edges", "1", "--request-log", os.devnull],
            start_timeout_s=CONTROL_PLANE_TIMEOUT_S)
        started = time.monotonic()
        try:
            ready = cp.start()
            start_s = time.monotonic() - started
            ms, key_id = _get_public_key(ready.base_url)
            with httpx.Client(timeout=5.0) as client:
                healthy = sum(client.get(url + "/health").status_code == 200
                              for _, url in ready.edges)
        except (ControlPlaneStartError, ValueError) as exc:
            lines = [line for line in str(exc).splitlines() if line.strip()]
            return Check("control plane", "FAIL", "the bundled control plane did not start: "
                         + " / ".join(lines[-3:]),
                         "run `edgeplay serve` to see its output; reinstall if a module is "
                         "missing")
        except Exception as exc:
            return Check("control plane", "FAIL", "the bundled control plane started but did "
                         f"not answer: {type(exc).__name__}: {exc}",
                         "a firewall or proxy on 127.0.0.1? (NO_PROXY=127.0.0.1)")
        finally:
            status = cp.stop()
    how = "this executable" if getattr(sys, "frozen", False) else "python -m controlplane"
    detail = (f"the bundled one ({how}) started in {start_s:.1f} s, answered GET "
              f"/v1/licenses/public-key in {ms:.0f} ms (key {key_id}), {healthy}/"
              f"{len(ready.edges)} edge healthy; stopped (status {status})")
    if healthy < len(ready.edges):
        return Check("control plane", "warn", detail, "an edge did not answer /health")
    return Check("control plane", "ok", detail)
