#!/usr/bin/env bash
# Launch Edgeplay on the bundled control plane (installs what is missing on first run).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/scripts/bootstrap.sh" app
exec "$here/.venv/bin/edgeplay" "$@"
