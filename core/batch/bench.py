"""Benchmark: N short draft dubs as a loop of CLI calls, then the same dubs as one `batch` on a local Ray.

    python -m core.batch.bench --projects P1 P2 --audio SPEECH.wav --seconds 2 --dubs 8 --work /tmp/bb

Cuts ``--dubs`` different ``--seconds`` stretches of SPEECH, dubs them (draft) round-robin onto the
prepared projects, first one `main.py dub` per clip, then one `main.py batch` over all of them.
Prints wall times, Ray's start-up time (from the batch's own line) and the peak memory (summed RSS
of the batch command and every process it started, sampled every 0.2 s) as JSON.

``--cluster N`` also runs the batch on a local multi-node Ray (core.batch.bench_cluster: a head
without CPUs and N worker nodes of 1 CPU, each its own raylet) with ``--address``, and reports the
start-up of the head and of each node and every node's peak memory; ``--no-loop`` skips the CLI loop.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import soundfile as sf

from core.batch.bench_cluster import run_on_local_cluster, tree_rss_mb

REPO = Path(__file__).resolve().parents[2]


def cut_clips(audio: Path, seconds: float, count: int, folder: Path) -> list[Path]:
    data, rate = sf.read(str(audio), dtype="float32", always_2d=True)
    step = max(int(seconds * rate), (len(data) - int(seconds * rate)) // max(count - 1, 1))
    clips = []
    for i in range(count):
        a = min(i * step, max(len(data) - int(seconds * rate), 0))
        path = folder / f"clip{i + 1}.wav"
        sf.write(str(path), data[a:a + int(seconds * rate)], rate)
        clips.append(path)
    return clips


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak tree RSS in MB, stdout) of one command."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - start
    if proc.returncode not in (0,):
        raise SystemExit(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {err.strip()[-500:]}")
    return wall, peak[0], out


def write_jobs(path: Path, clips: list[Path], projects: list[Path], work: Path, prefix: str) -> Path:
    """A job list dubbing ``clips`` round-robin onto ``projects`` (draft), outputs ``prefix``-N.mp4."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["kind", "project", "audio", "out", "draft"])
        for i, clip in enumerate(clips):
            writer.writerow(["dub", projects[i % len(projects)], clip, work / f"{prefix}-{i + 1}.mp4", "true"])
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.batch.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=Path, nargs="+", required=True)
    parser.add_argument("--audio", type=Path, required=True)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--dubs", type=int, default=8)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--cluster", type=int, default=0, help="worker nodes of a local multi-node Ray")
    parser.add_argument("--no-loop", action="store_true", help="skip the loop of CLI calls")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    clips = cut_clips(args.audio, args.seconds, args.dubs, args.work)
    python = sys.executable
    loop_walls, loop_peak = [], 0.0
    for i, clip in enumerate([] if args.no_loop else clips):
        project = args.projects[i % len(args.projects)]
        wall, peak, _ = timed([python, "main.py", "dub", "--project", str(project), "--audio", str(clip),
                               "--out", str(args.work / f"loop-{i + 1}.mp4"), "--draft"])
        loop_walls.append(wall)
        loop_peak = max(loop_peak, peak)
    jobs = write_jobs(args.work / "jobs.csv", clips, args.projects, args.work, "batch")
    report = args.work / "report"
    cmd = [python, "main.py", "batch", str(jobs), "--report", str(report)]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    batch_wall, batch_peak, out = timed(cmd)
    startup = re.search(r"Ray ready in ([0-9.]+) s", out)
    table = json.loads((report / "report.json").read_text())["jobs"]
    cluster = {}
    if args.cluster:
        cluster_jobs = write_jobs(args.work / "jobs-cluster.csv", clips, args.projects, args.work, "cluster")
        cluster = run_on_local_cluster(args.cluster, lambda address: timed(
            [python, "main.py", "batch", str(cluster_jobs), "--report", str(args.work / "report-cluster"),
             "--address", address]), args.work / "report-cluster")
    figures = {
        "dubs": args.dubs, "seconds_each": args.seconds,
        "loop_wall_s": round(sum(loop_walls), 1), "loop_each_s": [round(w, 1) for w in loop_walls],
        "loop_peak_rss_mb": round(loop_peak),
        "batch_wall_s": round(batch_wall, 1), "ray_startup_s": float(startup.group(1)) if startup else None,
        "batch_job_s": [t["seconds"] for t in table], "batch_statuses": sorted({t["status"] for t in table}),
        "batch_peak_rss_mb": round(batch_peak),
        "load_average_after": os.getloadavg(),
        **cluster,
    }
    print(json.dumps(figures, indent=1))  # noqa: T201 (a benchmark's figures are its output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
