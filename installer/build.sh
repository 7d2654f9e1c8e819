#!/usr/bin/env bash
# Build the self-contained desktop bundle: dist/portrait-dub/ (Linux: an executable, its _internal/
# folder, the .desktop entry, icons and install-desktop-entry.sh).
#
#   installer/build.sh                 uses .venv/bin/python of the repository
#   PYTHON=/path/to/python installer/build.sh
#
# Needs the project's environment (setup.sh) in that Python; installs PyInstaller into it the same
# way each time (the pinned version of the [bundle] extra). Takes several minutes and 1-2 GB.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
PYINSTALLER_VERSION="6.22.3"
NAME="portrait-dub"
DIST="$ROOT/dist"
WORK="$ROOT/build"

cd "$ROOT"
if ! "$PYTHON" -c "import PyInstaller, sys; sys.exit(PyInstaller.__version__ != '$PYINSTALLER_VERSION')" 2>/dev/null; then
    "$PYTHON" -m pip install "pyinstaller==$PYINSTALLER_VERSION"
fi

QT_QPA_PLATFORM=offscreen "$PYTHON" installer/render_icon.py "$WORK/icons" 48 128 256

"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK/pyinstaller" installer/portrait-dub.spec

BUNDLE="$DIST/$NAME"
if [[ "$(uname -s)" == "Linux" ]]; then
    mkdir -p "$BUNDLE/share/applications" "$BUNDLE/share/icons/hicolor/scalable/apps"
    cp installer/portrait-dub.desktop "$BUNDLE/share/applications/$NAME.desktop"
    cp resources/icon.svg "$BUNDLE/share/icons/hicolor/scalable/apps/$NAME.svg"
    for size in 48 128 256; do
        mkdir -p "$BUNDLE/share/icons/hicolor/${size}x${size}/apps"
        cp "$WORK/icons/$NAME-$size.png" "$BUNDLE/share/icons/hicolor/${size}x${size}/apps/$NAME.png"
    done
    cp installer/install-desktop-entry.sh "$BUNDLE/install-desktop-entry.sh"
    chmod +x "$BUNDLE/install-desktop-entry.sh"
fi
du -sh "$BUNDLE"
echo "built $BUNDLE; check it with installer/smoke_check.sh"
