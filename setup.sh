#!/usr/bin/env bash
# One script for a fresh Debian machine with Python 3.11:
#   bash setup.sh app    set everything up, then open the app (the default)
#   bash setup.sh test   set everything up, then run the whole test suite
#   bash setup.sh only   set everything up and stop
# Idempotent: apt runs only for missing packages, pip only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")"
action="${1:-app}"
shift || true

APT_PACKAGES=(
  libportaudio2                                  # sounddevice (microphone recording)
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libglib2.0-0 libdbus-1-3 fonts-dejavu-core  # Qt
  libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0
  libxcb-xkb1 libxcb-util1                       # Qt's xcb platform (a real window)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating the virtual environment in $VENV"
  "$PYTHON" -m venv "$VENV" || { echo "setup: python3-venv is missing: apt-get install python3-venv" >&2; exit 1; }
fi

stamp_now=$(cat pyproject.toml setup.sh | sha256sum | cut -d' ' -f1)
stamp_file="$VENV/.portrait-dub-installed"
if [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp_now" ]; then
  echo "setup: installing the pinned Python packages (a few minutes the first time)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e ".[test]"
  nodeps=$("$VENV/bin/python" -c 'import tomllib;print(" ".join(tomllib.load(open("pyproject.toml","rb"))["tool"]["portrait-dub"]["no-deps"]["packages"]))')
  "$VENV/bin/python" -m pip install -q --no-deps $nodeps
  echo "$stamp_now" > "$stamp_file"
fi

case "$action" in
  app)  exec "$VENV/bin/python" main.py "$@" ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    "$VENV/bin/lint-imports" --no-cache
    exec "$VENV/bin/python" -m pytest "$@" ;;
  only) echo "setup: ready. Start the app with: .venv/bin/python main.py" ;;
  *) echo "usage: bash setup.sh [app|test|only] [arguments]" >&2; exit 2 ;;
esac
