"""Long-media benchmark (issue 8): a 10-minute target through prepare and training, then a dub driven
by 30 minutes of speech, each step run through the CLI with its wall time and peak memory printed.

    .venv/bin/python tests/long_media.py --work /tmp/long [--target-minutes 10] [--speech-minutes 30]
        [--renderer-minutes 5] [--target-clip video/latentsync__demo3_video.mp4]

--renderer-minutes 0 trains no network: the dub uses the default, sample-based lower face.

The long media are made from the real clips in ../shared/data (the target clip looped, the speech
clip tiled) into --work, never into the repository. Not collected by pytest: it runs for about 30 minutes.
Peak memory is the process's anonymous resident memory (what it really holds); mapped project files
are listed apart, as they are page cache the system can drop.

Measured on the 2-core development machine (session 2; "busy" = another job shared the cores):
    prepare         160 s (94 frames/s)      721 MB  (+ 3040 MB mapped)
    train-audio      27 s                    415 MB  (+  319 MB mapped)
    train-renderer  431 s (5 min, busy)      678 MB  (+ 4664 MB mapped)
    dub (30 min)    782 s (57.6 frames/s)   1247 MB  (+ 2402 MB mapped): 1800.000 s, 45000 frames
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.media import VideoReader, VideoWriter, load_audio, probe  # noqa: E402
from tests.conftest import media  # noqa: E402

TARGET = "video/edtalk__pose_source2.mp4"
SPEECH = "audio/musetalk__eng.wav"


def loop_clip(src: Path, dst: Path, minutes: float) -> Path:
    """``src`` played again and again (video and audio) until ``minutes`` long."""
    reader = VideoReader(src)
    rate = 48000
    audio = load_audio(src, rate, mono=False)
    n_frames = int(round(minutes * 60 * reader.fps))
    loops = int(np.ceil(n_frames / len(reader)))
    samples = int(round(n_frames / reader.fps * rate))

    def chunks():
        left = samples
        for _ in range(loops):
            piece = audio[:, : min(left, audio.shape[1])]
            left -= piece.shape[1]
            if piece.shape[1]:
                yield piece

    first = next(reader.frames(0, 1))
    written = 0
    with VideoWriter(dst, first.shape[1], first.shape[0], reader.fps, audio=chunks(), audio_rate=rate) as out:
        while written < n_frames:
            for frame in reader.frames(0, min(len(reader), n_frames - written)):
                out.write(frame)
                written += 1
    return dst


def loop_packets(src: Path, dst: Path, minutes: float) -> Path:
    """``src`` repeated until ``minutes`` long without decoding: its compressed packets copied again
    and again with shifted time stamps (seconds, where re-encoding a 1080p clip takes most of an
    hour on two cores). The clip must start on a key frame, as camera and phone clips do."""
    import av

    with av.open(str(src)) as probe_in:
        length = float(probe_in.duration) / av.time_base
    loops = int(np.ceil(minutes * 60 / length))
    tmp = dst.with_suffix(".part.mp4")
    with av.open(str(src)) as inp, av.open(str(tmp), "w") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        first: dict[int, int] = {}
        end: dict[int, int] = {}  # per stream: where its first pass ends (time-base units)
        for k in range(loops):
            inp.seek(0)
            for packet in inp.demux(*[s for s in inp.streams if s.index in streams]):
                if packet.dts is None:
                    continue
                i = packet.stream.index
                if k == 0:
                    first.setdefault(i, packet.dts)
                    end[i] = max(end.get(i, packet.dts), packet.dts + (packet.duration or 0))
                shift = k * (end[i] - first[i])
                packet.pts, packet.dts = packet.pts + shift, packet.dts + shift
                packet.stream = streams[i]
                out.mux(packet)
    tmp.replace(dst)
    return dst


def tile_speech(src: Path, dst: Path, minutes: float) -> Path:
    rate = 16000
    speech = load_audio(src, rate)
    total = int(minutes * 60 * rate)
    with sf.SoundFile(dst, "w", rate, 1, "PCM_16") as out:
        left = total
        while left > 0:
            piece = speech[:left]
            out.write(piece)
            left -= len(piece)
    return dst


def _memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process: (anonymous, file-backed) in MB. Memory-mapped project files
    (crops, render caches) count as file-backed: page cache the system can drop, not RAM in use."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "RssShmem"):
                fields[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return fields.get("RssAnon", 0.0), fields.get("RssFile", 0.0) + fields.get("RssShmem", 0.0)


def run_step(name: str, *args) -> dict:
    """One CLI command: its wall time and its peak memory, sampled twice a second."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), *map(str, args)], cwd=REPO,
                            env=dict(os.environ, GLOG_minloglevel="2"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    peak_anon = peak_file = 0.0
    while proc.poll() is None:
        anon, file_backed = _memory_mb(proc.pid)
        peak_anon, peak_file = max(peak_anon, anon), max(peak_file, file_backed)
        time.sleep(0.5)
    out = proc.stdout.read().decode(errors="replace").strip()
    figures = {"step": name, "seconds": time.monotonic() - start, "peak_anon_mb": peak_anon,
               "peak_file_mb": peak_file, "exit": proc.returncode,
               "said": out.splitlines()[-1] if out else ""}
    print(f"{name:<16} exit {figures['exit']}  {figures['seconds']:8.1f} s  peak memory {peak_anon:6.0f} MB "
          f"(+ {peak_file:5.0f} MB of mapped files)  {figures['said']}", flush=True)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--target-minutes", type=float, default=10.0)
    parser.add_argument("--speech-minutes", type=float, default=30.0)
    parser.add_argument("--renderer-minutes", type=float, default=5.0,
                        help="minutes of renderer training; 0 trains none (the dub uses the default lower face)")
    parser.add_argument("--target-clip", default=TARGET, help="the clip of ../shared/data to loop")
    parser.add_argument("--copy-packets", action="store_true",
                        help="loop the clip's compressed packets instead of re-encoding it (fast; starts on a key frame)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    target = args.work / "target.mp4"
    speech = args.work / "speech.wav"
    if not target.exists():
        (loop_packets if args.copy_packets else loop_clip)(media(args.target_clip), target, args.target_minutes)
    if not speech.exists():
        tile_speech(media(SPEECH), speech, args.speech_minutes)
    print(f"target: {probe(target).describe()}\nspeech: {probe(speech).describe()}", flush=True)

    project, out = args.work / "project", args.work / "dubbed.mp4"
    run_step("prepare", "prepare", target, "--project", project, "--i-have-consent")
    run_step("train-audio", "train-audio", "--project", project)
    if args.renderer_minutes > 0:
        run_step("train-renderer", "train-renderer", "--project", project, "--minutes", args.renderer_minutes)
    dub = run_step("dub", "dub", "--project", project, "--audio", speech, "--out", out)
    info = probe(out)
    print(f"output: {info.describe()}\ndub speed: {info.frame_count / dub['seconds']:.1f} frames/s", flush=True)


if __name__ == "__main__":
    main()
