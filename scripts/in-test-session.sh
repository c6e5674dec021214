#!/usr/bin/env bash
# Inside dbus-run-session: unlock a fresh gnome-keyring and start Xvfb, then run the command.
set -euo pipefail
export XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_STATE_HOME
scratch=$(mktemp -d)
XDG_DATA_HOME="$scratch/data"; XDG_CONFIG_HOME="$scratch/config"; XDG_STATE_HOME="$scratch/state"
# The generated catalogs are worth keeping between runs: leave the cache where it was.
XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
if command -v gnome-keyring-daemon >/dev/null; then
  eval "$(printf 'edgeplay-test\n' | gnome-keyring-daemon --unlock --components=secrets 2>/dev/null)" || true
  export GNOME_KEYRING_CONTROL
fi
xvfb_pid=""
if [ -z "${DISPLAY:-}" ] && command -v Xvfb >/dev/null; then
  for n in $(seq 99 140); do
    if [ ! -e "/tmp/.X$n-lock" ]; then
      Xvfb ":$n" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
      xvfb_pid=$!
      export DISPLAY=":$n"
      for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$n" ] && break; sleep 0.1; done
      break
    fi
  done
fi
status=0
"$@" || status=$?
[ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
rm -rf "$scratch"
exit $status
