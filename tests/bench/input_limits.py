"""Peak RSS of the headless player on hostile input: an endless playlist, a huge one, and
single-file byte-range HLS from a server that ignores Range.

    .venv/bin/python tests/bench/input_limits.py

Each case runs ``edgeplay play URL --headless --json`` as a child process against a loopback
server (tests/integration/hls_servers.py); its peak RSS is the ``ru_maxrss`` of ``os.wait4``
for that child alone (ffmpeg, which makes the media, is another child). Prints one line per case:
peak RSS, exit status, the report's ``ok`` / ``error_code`` and the end of the error line; for
the single-file case, how many times the server sent the whole file. Exits 1 if a case misses
its target (peak RSS under 200 MiB; the endless and huge playlists end in a clear error; the
single-file stream plays to its end with one whole-file request).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from player.failover import FetchConfig
from tests.integration.hls_servers import make_single_file, serve

REPO = Path(__file__).resolve().parents[2]
TARGET_MIB = 200.0


def run_player(url: str) -> tuple[float, int, dict[str, object], str]:
    """Peak RSS (MiB), exit status, the JSON report and stderr's ``edgeplay:`` line."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, "-m", "ui.cli", "play", url, "--headless",
                                  "--json"], cwd=REPO, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = out.read().strip().splitlines()
        report = json.loads(lines[-1]) if lines else {}
        error = next((x for x in err.read().splitlines() if x.startswith("edgeplay:")), "")
    return usage.ru_maxrss / 1024, child.returncode, report, error


def main() -> int:
    missed = 0
    with tempfile.TemporaryDirectory(prefix="input-limits-") as tmp:
        root = Path(tmp)
        make_single_file(root)
        huge = ["#EXTM3U", "#EXT-X-TARGETDURATION:2"]
        huge += ["#EXTINF:2.0,\nsf/all.ts"] * (FetchConfig().max_playlist_segments + 1)
        (root / "huge.m3u8").write_text("\n".join([*huge, "#EXT-X-ENDLIST", ""]))
        with serve(root, "ignore") as (base, log):
            for name, path in (("endless playlist", "/endless.m3u8"),
                               ("huge playlist", "/huge.m3u8"),
                               ("single-file, Range ignored", "/sf/index.m3u8")):
                rss, code, report, error = run_player(base + path)
                line = (f"{name:28} peak RSS {rss:6.1f} MiB  exit {code}  ok={report.get('ok')}"
                        f"  error_code={report.get('error_code')}")
                if path == "/sf/index.m3u8":
                    whole = len(log.of("/sf/all.ts"))
                    line += f"  played {report.get('played_s')} s  whole-file requests {whole}"
                    good = code == 0 and report.get("ok") is True and whole == 1
                else:
                    line += f"  {error[-70:]}"
                    good = code == 1 and report.get("error_code") == "manifest"
                good = good and rss < TARGET_MIB
                missed += not good
                print(line + ("" if good else "  MISSED"), flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
