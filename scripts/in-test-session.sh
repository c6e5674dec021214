#!/usr/bin/env bash
# Run a command in the test session: a private D-Bus session bus, an unlocked gnome-keyring on
# it, and a virtual X server. State (XDG data/config/state, the keyring) lives in a scratch folder
# removed at the end; the cache stays where it was (the generated catalogs are worth keeping).
#
# The Secret Service (gnome-keyring) is started by the bus, unlocked, from a service file of our
# own: if the daemon ever goes away mid-run, the next keyring call starts it again on the same
# (still unlocked) keyring instead of the system's daemon, which would want a password prompt
# that cannot be shown and so fail every keyring test after it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ "${EDGEPLAY_TEST_BUS:-}" = "" ]; then
  bus_dir=$(mktemp -d)
  mkdir -p "$bus_dir/services"
  # Our service folder comes first, so it wins over the system's org.freedesktop.secrets.
  cat > "$bus_dir/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <servicedir>$bus_dir/services</servicedir>
  <include>/usr/share/dbus-1/session.conf</include>
</busconfig>
CONF
  status=0
  EDGEPLAY_TEST_BUS="$bus_dir" dbus-run-session --config-file="$bus_dir/bus.conf" -- \
    "$here/in-test-session.sh" "$@" || status=$?
  rm -rf "$bus_dir"
  exit $status
fi

export XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_STATE_HOME
scratch=$(mktemp -d)
XDG_DATA_HOME="$scratch/data"; XDG_CONFIG_HOME="$scratch/config"; XDG_STATE_HOME="$scratch/state"
XDG_CACHE_HOME="${XDG_CACHE_HOME:-$HOME/.cache}"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"
if command -v gnome-keyring-daemon >/dev/null; then
  # Started by the bus (so it is the bus's child, never an orphan), now and whenever it is gone.
  keyring="$EDGEPLAY_TEST_BUS/keyring.sh"
  cat > "$keyring" <<SH
#!/bin/sh
export XDG_DATA_HOME='$XDG_DATA_HOME' XDG_CONFIG_HOME='$XDG_CONFIG_HOME' XDG_CACHE_HOME='$XDG_CACHE_HOME'
printf 'edgeplay-test\n' | exec gnome-keyring-daemon --unlock --foreground --components=secrets \
  > '$EDGEPLAY_TEST_BUS/keyring.env'
SH
  chmod +x "$keyring"
  printf '[D-BUS Service]\nName=org.freedesktop.secrets\nExec=%s\n' "$keyring" \
    > "$EDGEPLAY_TEST_BUS/services/org.freedesktop.secrets.service"
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.StartServiceByName string:org.freedesktop.secrets uint32:0 >/dev/null; then
    eval "export $(grep "^GNOME_KEYRING_CONTROL=" "$EDGEPLAY_TEST_BUS/keyring.env" || true)"
  else
    echo "in-test-session: gnome-keyring did not start; the keyring tests will skip or fail" >&2
  fi
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
