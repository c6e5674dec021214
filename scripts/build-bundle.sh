#!/usr/bin/env bash
# Build the Linux one-folder bundle with PyInstaller: dist/edgeplay/ (run dist/edgeplay/edgeplay).
#
#   scripts/build-bundle.sh                 # -> dist/edgeplay/
#   scripts/build-bundle.sh --tar           # also dist/edgeplay-VERSION-linux-ARCH.tar.gz
#   scripts/build-bundle.sh --dist DIR --work DIR
#
# Needs the project's .venv (./run.sh or ./test.sh create it), libmpv (apt install libmpv2) and
# ffmpeg (apt install ffmpeg) on the build machine; installs PyInstaller (the `bundle` extra of
# pyproject.toml) into .venv when it is missing. See docs/packaging.md.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
dist=dist
work=build/pyinstaller
make_tar=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dist) dist=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --tar) make_tar=1; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build-bundle: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ ! -x "$py" ]; then
  echo "build-bundle: no $py; run ./run.sh or ./test.sh once to create .venv" >&2
  exit 1
fi
if ! /sbin/ldconfig -p | grep -q 'libmpv\.so\.2 '; then
  echo "build-bundle: libmpv.so.2 not found; install it: apt-get install libmpv2" >&2
  exit 1
fi
command -v ffmpeg >/dev/null || echo "build-bundle: no ffmpeg on PATH: the bundle will need" \
  "one on the target machine to generate its catalog (apt-get install ffmpeg)" >&2
if ! "$py" -c 'import PyInstaller' 2>/dev/null; then
  echo "Installing PyInstaller (the bundle extra) into $py…"
  "$py" -m pip install --quiet 'pyinstaller>=6,<7'
fi
start=$(date +%s)
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work" packaging/pyinstaller/edgeplay.spec
version=$("$dist/edgeplay/edgeplay" --version)
echo "$version: $dist/edgeplay/ ($(du -sh "$dist/edgeplay" | cut -f1), built in" \
  "$(( $(date +%s) - start )) s)"
if [ "$make_tar" = 1 ]; then
  tarball="$dist/edgeplay-${version#Edgeplay }-linux-$(uname -m).tar.gz"
  tar -C "$dist" -czf "$tarball" edgeplay
  echo "$tarball ($(du -sh "$tarball" | cut -f1))"
fi
