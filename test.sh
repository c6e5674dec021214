#!/usr/bin/env bash
# Run the whole test suite: lint, type checks, then pytest inside a private D-Bus session with an
# unlocked gnome-keyring (for the keyring tests) and a virtual X server (for real OpenGL).
# Extra arguments go to pytest, e.g. ./test.sh -k edge
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
scripts/bootstrap.sh test
.venv/bin/ruff check .
.venv/bin/mypy
exec scripts/in-test-session.sh .venv/bin/python -m pytest "$@"
