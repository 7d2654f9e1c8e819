"""The batch runner on a local Ray of 2 CPUs (started once for the module): draft dubs over two
projects side by side, a bad file that fails alone, a killed worker that is retried, reruns that skip."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.batch import read_rows
from core.batch.on_ray import run_on_ray
from core.batch.ray_session import RayConfig, ray_session, session_processes
from core.batch.report import BatchReport
from tests.batch.conftest import frames_and_duration, no_parts, write_csv
from tests.conftest import REPO

FPS = 25.0  # the shared 5 s clip


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("ray-session-logs")
    with ray_session(RayConfig(num_cpus=2, max_retries=2, quiet_terminal=False), log_dir) as facts:
        facts["log_dir"] = log_dir
        yield facts
    assert not session_processes(facts["temp_dir"]), "Ray processes were left running after shutdown"
    assert (log_dir / "ray-logs").is_dir() and any((log_dir / "ray-logs").iterdir())


def run_list(rows_file: Path, report_dir: Path, **kwargs) -> BatchReport:
    rows = read_rows(rows_file)
    lines: list[str] = []
    report = BatchReport(rows, report_dir, say=lines.append, workers=2)
    report.lines = lines
    run_on_ray(rows, report, RayConfig(num_cpus=2, max_retries=2), **kwargs)
    return report


def test_four_dubs_over_two_projects_one_bad_file_then_a_rerun_skips(local_ray, two_projects, short_speech,
                                                                    tmp_path):
    from ray._common.usage.usage_lib import usage_stats_enabled

    assert local_ray["cpus"] == 2 and not usage_stats_enabled()  # offline: nothing is uploaded
    anna, bea = two_projects
    not_audio = tmp_path / "minutes-of-the-meeting.wav"
    not_audio.write_text("these are typed notes, not a recording")
    out = tmp_path / "out"
    jobs = tmp_path / "jobs.csv"
    write_csv(jobs, [
        {"kind": "dub", "project": anna.root, "audio": short_speech[0], "out": out / "anna-1.mp4", "draft": "true"},
        {"kind": "dub", "project": anna.root, "audio": not_audio, "out": out / "anna-2.mp4", "draft": "true"},
        {"kind": "dub", "project": bea.root, "audio": short_speech[1], "out": out / "bea-1.mp4", "draft": "true"},
        {"kind": "dub", "project": bea.root, "audio": short_speech[2], "out": out / "bea-2.mp4", "draft": "true"},
    ])
    report = run_list(jobs, tmp_path / "report")
    status = {r["row"]: r for r in report.table()}
    assert [status[n]["status"] for n in (1, 2, 3, 4)] == ["done", "failed", "done", "done"]
    assert "minutes-of-the-meeting.wav" in status[2]["error"] and "not a media file" in status[2]["error"]
    for name in ("anna-1", "bea-1", "bea-2"):
        frames, duration = frames_and_duration(out / f"{name}.mp4")
        assert frames == 30 and abs(duration - 1.2) < 0.1  # 1.2 s of speech at 25 fps
    assert not (out / "anna-2.mp4").exists() and no_parts(out)
    # the two projects ran side by side: bea's first dub started before anna's first ended
    assert any("bea-1.mp4: running" in line for line in report.lines[:report.lines.index(
        next(line for line in report.lines if "anna-1.mp4: done" in line))])
    assert any(line.startswith("batch: 4 of 4 jobs finished") and "ETA 00:00" in line for line in report.lines)

    table = list(csv.DictReader(open(tmp_path / "report" / "report.csv")))
    assert [(t["row"], t["status"]) for t in table] == [("1", "done"), ("2", "failed"), ("3", "done"),
                                                        ("4", "done")]
    assert all(t["start"] and float(t["seconds"]) > 0 for t in table if t["status"] == "done")
    assert json.loads((tmp_path / "report" / "report.json").read_text())["counts"] == {"done": 3, "failed": 1}

    mtimes = {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")}
    again = run_list(jobs, tmp_path / "report-again")
    assert [r["status"] for r in again.table()] == ["skipped", "failed", "skipped", "skipped"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.mp4")} == mtimes


def one_long_dub(project, speech_wav: Path, out: Path) -> tuple[list, BatchReport, Path]:
    """A job list of one draft dub of the long speech onto ``project``: (rows, report, out)."""
    jobs = out.parent / "jobs.json"
    jobs.write_text(json.dumps([{"kind": "dub", "project": str(project.root), "audio": str(speech_wav),
                                 "out": str(out), "draft": True}]))
    rows = read_rows(jobs)
    return rows, BatchReport(rows, out.parent / "report", say=lambda _: None, workers=2), out


def test_a_killed_worker_is_retried_and_the_dub_finishes(local_ray, two_projects, speech_wav, tmp_path):
    rows, report, out = one_long_dub(two_projects[0], speech_wav, tmp_path / "long.mp4")
    killed: list[int] = []

    def kill_mid_job():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not killed:
            if report.fractions.get(1, 0.0) > 0.1 and 1 in report.pids:
                os.kill(report.pids[1], signal.SIGKILL)
                killed.append(report.pids[1])
            time.sleep(0.2)

    killer = threading.Thread(target=kill_mid_job, daemon=True)
    killer.start()
    run_on_ray(rows, report, RayConfig(num_cpus=2, max_retries=2))
    killer.join(5)
    entry = report.table()[0]
    assert killed and entry["status"] == "done" and entry["attempts"] == 2
    frames, _ = frames_and_duration(out)
    from core.media import probe

    assert frames == round(probe(speech_wav).duration * FPS)
    assert no_parts(tmp_path)


def test_a_worker_killed_at_every_attempt_fails_the_row_after_max_retries(local_ray, two_projects, speech_wav,
                                                                          tmp_path):
    """max_retries=1: two attempts, both killed, then the row is failed (an ignored or unlimited
    max_retries would start a third; the killer stops after three, so that run would end done)."""
    rows, report, out = one_long_dub(two_projects[0], speech_wav, tmp_path / "killed.mp4")
    killed: list[int] = []
    finished = threading.Event()

    def kill_every_attempt():
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not finished.is_set() and len(killed) < 3:
            pid = report.pids.get(1)
            if pid is not None and pid not in killed:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.2)

    killer = threading.Thread(target=kill_every_attempt, daemon=True)
    killer.start()
    run_on_ray(rows, report, RayConfig(num_cpus=2, max_retries=1))
    finished.set()
    killer.join(5)
    entry = report.table()[0]
    assert len(killed) == 2, killed
    assert entry["status"] == "failed" and entry["attempts"] == 2, entry
    assert "stopped 2 times" in entry["error"]
    assert not out.exists()


def test_the_command_keeps_rays_lines_off_the_terminal_and_logs_them_in_the_report(two_projects, short_speech,
                                                                                  tmp_path):
    anna, _ = two_projects
    jobs = tmp_path / "jobs.csv"
    write_csv(jobs, [{"kind": "dub", "project": anna.root, "audio": short_speech[0], "out": tmp_path / "a.mp4",
                      "draft": "yes"}])
    out = subprocess.run([sys.executable, "main.py", "batch", jobs, "--report", tmp_path / "report",
                          "--workers", "1"], cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("batch: Ray ready in") and "1 CPU" in lines[0]
    assert all(line.startswith(("batch:", "row 1 dub a.mp4:", "Report:")) for line in lines), lines
    assert out.stderr == ""
    assert (tmp_path / "report" / "ray-logs").is_dir() and (tmp_path / "report" / "ray-output.log").is_file()
    assert frames_and_duration(tmp_path / "a.mp4")[0] == 30


def test_a_gpu_row_on_a_cluster_without_gpus_fails_at_once(local_ray, two_projects, short_speech, tmp_path,
                                                           monkeypatch):
    """Through run_batch (the command's path), so the GPU count is the one Ray reports, not a default."""
    import ray

    import core.batch.on_ray as on_ray

    assert local_ray["gpus"] == ray.cluster_resources().get("GPU", 0.0) == 0.0
    anna, _ = two_projects
    jobs = tmp_path / "jobs.csv"
    write_csv(jobs, [{"kind": "train-renderer", "project": anna.root, "minutes": "1", "device": "gpu"},
                     {"kind": "dub", "project": anna.root, "audio": short_speech[0], "out": tmp_path / "x.mp4"}])

    @contextlib.contextmanager
    def this_session(config, log_dir):  # the module's Ray, with the facts Ray gave when it started
        yield dict(local_ray)

    monkeypatch.setattr(on_ray, "ray_session", this_session)
    stop, done = threading.Event(), {}
    runner = threading.Thread(target=lambda: done.setdefault("report", on_ray.run_batch(
        read_rows(jobs), tmp_path / "report", RayConfig(num_cpus=2, max_retries=2, stop_grace_s=1.0),
        say=lambda _: None, stop=stop)))
    runner.start()
    runner.join(120)
    if runner.is_alive():  # a row sent to Ray asking for a GPU would wait for one forever: stop it
        stop.set()
        runner.join(60)
    report = done["report"]
    (train, dub) = report.table()
    assert train["status"] == "failed" and train["error"].startswith("the row asks for a GPU (device gpu) but no")
    assert dub["status"] == "blocked" and dub["error"].startswith("not run: row 1 (train-renderer) of the same")
