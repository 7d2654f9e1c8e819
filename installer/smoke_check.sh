#!/usr/bin/env bash
# Check a built bundle the way a user's machine would run it: from a folder outside the repository,
# with a clean environment (only PATH and HOME; no virtual environment, no PYTHONPATH), offscreen.
#
#   installer/smoke_check.sh [BUNDLE_DIR]        default: dist/portrait-dub
#   SMOKE_PREPARE=0 installer/smoke_check.sh     skip the slower `prepare` step (10-15 s)
#   SMOKE_DUB=1 installer/smoke_check.sh         also train-audio and a draft dub of typed text
#                                                (Piper voice, espeak-ng data; 1-1.5 min more)
#
# 1. `portrait-dub --version` prints the version          (the bundle starts)
# 2. `portrait-dub info <clip>` describes the clip         (PyAV / FFmpeg are bundled)
# 3. `portrait-dub prepare <clip>` tracks and fits a face  (mediapipe's models are bundled)
#    with SMOKE_DUB=1: train-audio and `dub --draft --text`  (numba, Piper voice, espeak-ng data)
# 4. the window opens offscreen and quits by itself        (PySide6 and its platform plugins)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUNDLE="$(cd "${1:-$ROOT/dist/portrait-dub}" && pwd)"
EXE="$BUNDLE/portrait-dub"
CLIP="$(cd "$ROOT/../shared/data/video" && pwd)/videoretalking__face_5.mp4"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/core/__init__.py")"
[[ -x "$EXE" ]] || { echo "no bundle at $BUNDLE: run installer/build.sh first" >&2; exit 1; }
[[ -f "$CLIP" ]] || { echo "test clip $CLIP not found" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p "$WORK/home" "$WORK/empty"
# As root with unshare(1), the checks also run in a private mount namespace where the repository's
# .venv and source folders are empty, so a bundle that still reads them fails here, not on a user's
# machine. Other processes keep seeing the real folders.
HIDE=()
if [[ $EUID -eq 0 ]] && command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
    HIDE=(unshare -m -- bash -c 'empty=$1; shift
        while [[ $1 != -- ]]; do [[ -d $1 ]] && mount --bind "$empty" "$1"; shift; done
        shift; exec "$@"' _ "$WORK/empty" "$ROOT/.venv" "$ROOT/core" "$ROOT/app" "$ROOT/gpu" "$ROOT/resources" --)
    echo "(running with $ROOT/.venv, core/, app/, gpu/ and resources/ hidden)"
fi
clean() {  # the user's view: no venv, no repository on any path, no display
    env -i PATH=/usr/bin:/bin HOME="$WORK/home" QT_QPA_PLATFORM=offscreen "${HIDE[@]}" "$@"
}
fail() { echo "SMOKE FAIL: $*" >&2; exit 1; }

echo "== 1. --version"
out="$(clean "$EXE" --version)" || fail "--version exited with an error"
echo "$out"
[[ "$out" == "portrait-dub $VERSION" ]] || fail "expected 'portrait-dub $VERSION'"

echo "== 2. info (PyAV)"
out="$(clean "$EXE" info "$CLIP")" || fail "info exited with an error"
echo "$out"
grep -q "h264, 524x524" <<<"$out" || fail "info did not describe the clip's video stream"
grep -q "frames: *122" <<<"$out" || fail "info did not count the clip's 122 frames"

if [[ "${SMOKE_PREPARE:-1}" != "0" ]]; then
    echo "== 3. prepare (mediapipe models)"
    start=$SECONDS
    clean "$EXE" prepare "$CLIP" --project "$WORK/face5" --i-have-consent 2>&1 | tail -5 \
        || fail "prepare exited with an error"
    n_files=$(find "$WORK/face5" -type f | wc -l)
    echo "prepare: $((SECONDS - start)) s, $n_files files in the project"
    for f in tracking.npz face_model.npz face_params.npz; do
        [[ -f "$WORK/face5/$f" ]] || fail "prepare wrote no $f"
    done
fi

if [[ "${SMOKE_PREPARE:-1}" != "0" && "${SMOKE_DUB:-0}" == "1" ]]; then
    echo "== 3b. train-audio (librosa/numba) and a draft dub of typed text (Piper voice, espeak-ng)"
    clean "$EXE" train-audio --project "$WORK/face5" --epochs 1 2>&1 | tail -1 \
        || fail "train-audio exited with an error"
    clean "$EXE" dub --project "$WORK/face5" --draft --text "Hello, this is the bundled voice." \
        --out "$WORK/spoken.mp4" 2>&1 | tail -2 || fail "dub --text exited with an error"
    out="$(clean "$EXE" info "$WORK/spoken.mp4")" || fail "the dubbed file cannot be read"
    grep -q "^audio: *aac" <<<"$out" || fail "the dubbed file has no audio track"
    frames=$(sed -n 's/^frames: *//p' <<<"$out")
    # The sentence takes about 2-3 s to say: at 25 fps that is well over 25 frames.
    [[ ${frames:-0} -gt 25 ]] || fail "the dubbed file has only ${frames:-0} frames"
    echo "dubbed $frames frames of synthetic speech"
fi

echo "== 4. window (PySide6, offscreen)"
# The app runs until closed; a timeout of 20 s that ends it means it started and kept running.
set +e
clean timeout 20 "$EXE" --verbose > "$WORK/gui.log" 2>&1
rc=$?
set -e
if [[ $rc -ne 124 ]]; then
    cat "$WORK/gui.log" >&2
    fail "the window exited early (code $rc)"
fi
echo "the window ran for 20 s offscreen"
# HOME is empty, so face-alignment's optional weights are missing: the app must say so and go on.
grep -q "optional face-alignment landmark backend is not available" "$WORK/gui.log" \
    || fail "the window did not note the missing face-alignment weights"
echo "it noted the missing optional face-alignment weights"
echo "SMOKE OK: $BUNDLE ($(du -sh "$BUNDLE" | cut -f1))"
