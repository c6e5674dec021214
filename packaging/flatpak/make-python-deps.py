"""Write python3-deps.json, the Flatpak module with every Python wheel Edgeplay needs.

    cd packaging/flatpak && ../../.venv/bin/python make-python-deps.py

flatpak-builder builds without network, so every wheel is listed with its URL and sha256. pip
resolves requirements.txt for the runtime's Python (org.kde.Platform 6.8: CPython 3.12) on
x86_64 and aarch64 (`pip install --dry-run --report`, which reads PyPI's metadata without
downloading the wheels); wheels for one architecture only get ``only-arches``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYTHON = "3.12"
ARCHES = ("x86_64", "aarch64")
GLIBC = (17, 28, 31, 34, 35, 36, 37, 38, 39)


def resolve(arch: str, scratch: Path) -> list[dict[str, object]]:
    report = scratch / f"report-{arch}.json"
    platforms = [f"--platform=manylinux_2_{v}_{arch}" for v in GLIBC]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
         f"--report={report}", "--only-binary=:all:", *platforms,
         f"--platform=manylinux2014_{arch}", f"--python-version={PYTHON}",
         "--implementation=cp", f"--target={scratch / 'target'}",
         "-r", str(HERE / "requirements.txt")],
        check=True)
    installs: list[dict[str, object]] = json.loads(report.read_text())["install"]
    return installs


def main() -> int:
    files: dict[str, dict[str, object]] = {}
    arches_of: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in ARCHES:
            for item in resolve(arch, Path(tmp)):
                info = item["download_info"]
                assert isinstance(info, dict)
                url = str(info["url"])
                name = url.rsplit("/", 1)[-1]
                files[name] = {"type": "file", "url": url,
                               "sha256": info["archive_info"]["hashes"]["sha256"]}
                arches_of.setdefault(name, []).append(arch)
    sources = []
    for name in sorted(files, key=str.lower):
        source = dict(files[name])
        if len(arches_of[name]) < len(ARCHES):
            source["only-arches"] = arches_of[name]
        sources.append(source)
    module = {
        "name": "python3-deps",
        "buildsystem": "simple",
        "build-commands": [
            "pip3 install --no-index --no-deps --no-build-isolation --prefix=${FLATPAK_DEST} "
            "*.whl"],
        "sources": sources,
    }
    out = HERE / "python3-deps.json"
    out.write_text(json.dumps(module, indent=2) + "\n", encoding="utf-8")
    print(f"{out.name}: {len(sources)} wheels")
    return 0


if __name__ == "__main__":
    sys.exit(main())
