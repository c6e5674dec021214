"""Render Edgeplay's icon in every size from its one SVG, with QtSvg and no display.

    .venv/bin/python packaging/make-icons.py

Source: assets/icons/hicolor/scalable/apps/io.github.edgeplay.Edgeplay.svg. Writes the
freedesktop hicolor PNGs, 16 to 512 px (assets/icons/hicolor/NxN/apps/APP_ID.png),
assets/icons/edgeplay.ico (Windows: 16-256 px, PNG-compressed entries) and
assets/icons/edgeplay.icns (macOS: 16-512 px). Run it again after editing the SVG.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

APP_ID = "io.github.edgeplay.Edgeplay"
REPO = Path(__file__).resolve().parent.parent
ICONS = REPO / "assets" / "icons"
SOURCE = ICONS / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 32, 48, 64, 128, 256)
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08", 512: b"ic09"}


def render(renderer: QSvgRenderer, size: int, out: Path) -> bytes:
    """Render ``size`` px into the PNG ``out``; returns its bytes."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    out.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(out)):
        raise SystemExit(f"could not write {out}")
    return out.read_bytes()


def ico(pngs: dict[int, bytes]) -> bytes:
    """An ICO file whose entries are PNGs (Windows Vista and later read these)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = b"", b""
    for size, png in pngs.items():
        side = 0 if size >= 256 else size  # 0 means 256
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
        blobs += png
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size]
                    for size, kind in ICNS_TYPES.items())
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"make-icons: cannot read {SOURCE}", file=sys.stderr)
        return 1
    pngs: dict[int, bytes] = {}
    for size in SIZES:
        out = ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        pngs[size] = render(renderer, size, out)
        print(f"{out.relative_to(REPO)}  {len(pngs[size]):>7} bytes")
    (ICONS / "edgeplay.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (ICONS / "edgeplay.icns").write_bytes(icns(pngs))
    print("assets/icons/edgeplay.ico, assets/icons/edgeplay.icns")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
