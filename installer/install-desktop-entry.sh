#!/usr/bin/env bash
# Add portrait-dub to the desktop's application menu for this user (no root needed).
# Run it from inside the unpacked bundle folder; run it again after moving the folder.
#   ./install-desktop-entry.sh            install      ./install-desktop-entry.sh --remove   undo
set -euo pipefail

BUNDLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAME="portrait-dub"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
ENTRY="$DATA/applications/$NAME.desktop"

if [[ "${1:-}" == "--remove" ]]; then
    rm -f "$ENTRY" "$DATA"/icons/hicolor/*/apps/"$NAME".{png,svg}
    echo "removed $ENTRY"
    exit 0
fi
[[ -x "$BUNDLE/$NAME" ]] || { echo "$BUNDLE/$NAME not found: run this script from the bundle folder" >&2; exit 1; }

mkdir -p "$DATA/applications"
cp -r "$BUNDLE/share/icons" "$DATA/"
# The menu entry starts this folder's executable by its absolute path (quoted for spaces). No %f:
# the app takes no file argument (a path would be read as a command).
sed -e "s|^Exec=.*|Exec=\"$BUNDLE/$NAME\"|" -e "s|^TryExec=.*|TryExec=$BUNDLE/$NAME|" \
    "$BUNDLE/share/applications/$NAME.desktop" > "$ENTRY.tmp"
mv "$ENTRY.tmp" "$ENTRY"
command -v update-desktop-database >/dev/null && update-desktop-database "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$DATA/icons/hicolor" || true
echo "installed $ENTRY"
