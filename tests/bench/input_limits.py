"""Peak RSS of the headless player on hostile input: an endless playlist, a huge one,
single-file byte-range HLS from a server that ignores Range, and DASH MPDs: the largest one
parsed, a timeline of millions of segments, an entity bomb.

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

from player.dash import MAX_MPD_BYTES
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


def _mpd(body: str) -> str:
    return ('<?xml version="1.0"?><MPD type="static" mediaPresentationDuration="PT100000H">'
            '<Period><AdaptationSet contentType="video" mimeType="video/mp4">'
            f'<Representation id="v" bandwidth="1">{body}</Representation>'
            "</AdaptationSet></Period></MPD>")


def _write_mpds(root: Path) -> None:
    """``large.mpd``: just under :data:`MAX_MPD_BYTES` of SegmentURLs (refused for its segment
    count once parsed); ``timeline.mpd``: one S with r=50,000,000; ``bomb.mpd``: nested
    entities."""
    url = '<SegmentURL mediaRange="100-1099"/>'
    count = (MAX_MPD_BYTES - 600) // len(url)
    (root / "large.mpd").write_text(_mpd(f'<SegmentList timescale="1" duration="2">'
                                         f"{url * count}</SegmentList>"))
    (root / "timeline.mpd").write_text(_mpd(
        '<SegmentTemplate media="$Number$.m4s"><SegmentTimeline><S t="0" d="1" r="50000000"/>'
        "</SegmentTimeline></SegmentTemplate>"))
    entities = '<!ENTITY e0 "' + "x" * 1000 + '">' + "".join(
        f'<!ENTITY e{i} "' + f"&e{i - 1};" * 10 + '">' for i in range(1, 9))
    (root / "bomb.mpd").write_text(f'<?xml version="1.0"?><!DOCTYPE MPD [{entities}]>'
                                   + _mpd("&e8;")[len('<?xml version="1.0"?>'):])


def main() -> int:
    missed = 0
    with tempfile.TemporaryDirectory(prefix="input-limits-") as tmp:
        root = Path(tmp)
        make_single_file(root)
        huge = ["#EXTM3U", "#EXT-X-TARGETDURATION:2"]
        huge += ["#EXTINF:2.0,\nsf/all.ts"] * (FetchConfig().max_playlist_segments + 1)
        (root / "huge.m3u8").write_text("\n".join([*huge, "#EXT-X-ENDLIST", ""]))
        _write_mpds(root)
        with serve(root, "ignore") as (base, log):
            for name, path in (("endless playlist", "/endless.m3u8"),
                               ("huge playlist", "/huge.m3u8"),
                               ("single-file, Range ignored", "/sf/index.m3u8"),
                               ("largest MPD (SegmentList)", "/large.mpd"),
                               ("MPD timeline, 50 M segments", "/timeline.mpd"),
                               ("MPD entity bomb", "/bomb.mpd")):
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
