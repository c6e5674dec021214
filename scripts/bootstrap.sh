#!/usr/bin/env bash
# Idempotent set-up shared by ./run.sh and ./test.sh: system libraries (through apt when we are
# root or have sudo), a virtual environment in .venv, and the Python packages from pyproject.toml.
# Usage: scripts/bootstrap.sh [app|test]
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-app}

say() { printf 'edgeplay setup: %s\n' "$*" >&2; }

# --- system packages -------------------------------------------------------------------------
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
missing=()
have_lib 'libmpv\.so\.[12]' || missing+=(libmpv)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
have_lib 'libEGL\.so\.1' || missing+=(libegl1)
# Qt's X11 platform plugin (libQt6XcbQpa) links these.
for pair in libxkbcommon-x11:libxkbcommon-x11-0 libxcb-cursor:libxcb-cursor0 \
            libxcb-icccm:libxcb-icccm4 libxcb-keysyms:libxcb-keysyms1 libxcb-image:libxcb-image0 \
            libxcb-render-util:libxcb-render-util0 libxcb-randr:libxcb-randr0 \
            libxcb-shape:libxcb-shape0 libxcb-xkb:libxcb-xkb1 libX11-xcb:libx11-xcb1; do
  have_lib "${pair%%:*}\.so" || missing+=("${pair#*:}")
done
have_lib 'libfontconfig\.so' || missing+=(libfontconfig1)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ "$want" = test ]; then
  command -v Xvfb >/dev/null || missing+=(xvfb xauth)
  command -v gnome-keyring-daemon >/dev/null || missing+=(gnome-keyring)
  command -v dbus-run-session >/dev/null || missing+=(dbus)
  [ -e /usr/lib/x86_64-linux-gnu/dri/swrast_dri.so ] || [ -d /usr/lib/*/dri ] || missing+=(libgl1-mesa-dri)
fi

if [ ${#missing[@]} -gt 0 ]; then
  pkgs=()
  for p in "${missing[@]}"; do
    if [ "$p" = libmpv ]; then
      # Debian 12 / Ubuntu 24.04 ship libmpv2; older releases libmpv1.
      if apt-cache show libmpv2 >/dev/null 2>&1 || ! apt-cache show libmpv1 >/dev/null 2>&1; then
        pkgs+=(libmpv2); else pkgs+=(libmpv1); fi
    else
      pkgs+=("$p")
    fi
  done
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; fi
  fi
  if [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
    if command -v apt-get >/dev/null; then
      say "installing system packages: ${pkgs[*]}"
      $sudo apt-get update -qq >/dev/null
      # libmpv names differ by release: resolve again now that the lists are fresh.
      for i in "${!pkgs[@]}"; do
        if [ "${pkgs[$i]}" = libmpv2 ] && ! apt-cache show libmpv2 >/dev/null 2>&1; then
          pkgs[$i]=libmpv1
        fi
      done
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${pkgs[@]}" >/dev/null
    else
      say "missing system packages (${pkgs[*]}) and no apt-get here; install them and rerun"
      exit 1
    fi
  else
    say "missing system packages: ${pkgs[*]}"
    say "install them with:  sudo apt-get install ${pkgs[*]}   (then rerun this command)"
    exit 1
  fi
fi

# --- Python and the virtual environment ------------------------------------------------------
python=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null &&
     "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    python=$candidate; break
  fi
done
if [ -z "$python" ]; then
  say "Edgeplay needs Python 3.11 or newer; install python3 (>= 3.11) and python3-venv"
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment in .venv"
  if ! "$python" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    say "python's venv module is missing: install python3-venv (sudo apt-get install python3-venv)"
    exit 1
  fi
fi

extras=""
[ "$want" = test ] && extras="[test]"
stamp=".venv/.edgeplay-$want-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  say "installing Python packages${extras:+ (with test tools)}"
  log=.venv/pip-install.log
  if ! { .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip &&
         .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extras"; } >"$log" 2>&1
  then
    tail -n 25 "$log" >&2
    say "installing the Python packages failed (full log: $log)"
    exit 1
  fi
  touch "$stamp"
fi
