"""The batch command on a real multi-node Ray: ray.cluster_utils.Cluster starts a head and worker
nodes on this machine, each node its own raylet with its own resources. The head has no CPU (it is
the driver's node and holds the batch's board), so every row runs on a worker node of 1 CPU.

Each test starts its own cluster in a short temporary folder and checks that no process of it is
left afterwards. A slow machine skips them with PORTRAIT_DUB_SKIP_CLUSTER_TESTS=1 (or -m "not multinode").
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.batch import read_rows
from core.batch.bench_cluster import local_head
from core.batch.on_ray import run_batch
from core.batch.ray_session import NODE_ID_CHARS, RayConfig, session_processes
from core.batch.rows import BatchRow
from core.commands import JobSpec
from tests.batch.conftest import cut_speech, frames_and_duration, no_parts, write_csv
from tests.conftest import REPO, copy_project, media

pytestmark = [
    pytest.mark.multinode,
    pytest.mark.skipif(bool(os.environ.get("PORTRAIT_DUB_SKIP_CLUSTER_TESTS")),
                       reason="PORTRAIT_DUB_SKIP_CLUSTER_TESTS is set: the multi-node Ray tests start three "
                              "raylets on this machine (about 3 GB, a minute each), too much for a slow machine"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the multi-node Ray tests need at least 2 cores"),
]

FPS = 25.0  # the shared 5 s clip
WAIT_S = 110.0  # a test that waits longer than this for the batch has failed (each test < 2 minutes)
# The head learns of a dead node within ~3 s (Ray's defaults: 5 missed checks 3 s apart, after 5 s)
FAST_DEATH = {"health_check_initial_delay_ms": 0, "health_check_period_ms": 1000,
              "health_check_failure_threshold": 3}


@contextlib.contextmanager
def local_cluster(workers: int):
    """A head (0 CPU) and ``workers`` nodes of 1 CPU; yields (cluster, add_worker)."""
    with local_head("pd-rc-", _system_config=FAST_DEATH) as (cluster, temp):

        def add_worker():
            return cluster.add_node(num_cpus=1, temp_dir=temp)

        for _ in range(workers):
            add_worker()
        cluster.wait_for_nodes()
        yield cluster, add_worker
    left = session_processes(temp)
    assert not left, f"Ray processes {left} of the test cluster were left running"


def short_id(node) -> str:
    return node.node_id[:NODE_ID_CHARS]


def node_of(line: str) -> str:
    """The node id part of 'row N ...: running on IP/ID'."""
    return line.rsplit(" on ", 1)[1].rsplit("/", 1)[1]


class Batch(threading.Thread):
    """run_batch (the command's own path) on the cluster, in a thread; ``lines`` is what it says."""

    def __init__(self, rows: list[BatchRow], report_dir: Path, address: str, max_retries: int = 2):
        super().__init__(daemon=True)
        self.rows, self.report_dir, self.address, self.max_retries = rows, report_dir, address, max_retries
        self.lines: list[str] = []
        self.report = self.error = None

    def run(self) -> None:
        try:
            self.report = run_batch(self.rows, self.report_dir, RayConfig(
                address=self.address, max_retries=self.max_retries, quiet_terminal=False), say=self.lines.append)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            self.error = exc

    def running_line(self, needle: str) -> str | None:
        return next((line for line in list(self.lines) if needle in line and ": running" in line), None)

    def finish(self) -> dict[int, dict]:
        self.join(WAIT_S)
        assert not self.is_alive(), f"the batch did not end within {WAIT_S:.0f} s: {self.lines[-5:]}"
        assert self.error is None, self.error
        return {int(r["row"]): r for r in csv.DictReader(open(self.report_dir / "report.csv"))}


def wait_for(condition, what: str, batch: Batch, timeout_s: float = WAIT_S):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        assert batch.is_alive() or batch.error is None, batch.error
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout_s:.0f} s: {batch.lines[-5:]}")


def node_by_id(cluster, node_id: str):
    return next(n for n in cluster.worker_nodes if short_id(n) == node_id)


def test_dubs_of_two_projects_run_across_the_nodes_and_the_report_names_each_node(two_projects, short_speech,
                                                                                 tmp_path):
    anna, bea = two_projects
    out = tmp_path / "out"
    jobs = tmp_path / "jobs.csv"
    write_csv(jobs, [
        {"kind": "dub", "project": anna.root, "audio": short_speech[0], "out": out / "anna-1.mp4", "draft": "true"},
        {"kind": "dub", "project": anna.root, "audio": short_speech[1], "out": out / "anna-2.mp4", "draft": "true"},
        {"kind": "dub", "project": bea.root, "audio": short_speech[1], "out": out / "bea-1.mp4", "draft": "true"},
        {"kind": "dub", "project": bea.root, "audio": short_speech[2], "out": out / "bea-2.mp4", "draft": "true"},
    ])
    with local_cluster(workers=2) as (cluster, _):
        workers = {short_id(n) for n in cluster.worker_nodes}
        batch = Batch(read_rows(jobs), tmp_path / "report", cluster.address)
        batch.start()
        table = batch.finish()
    assert any("3 node(s), 2 CPU" in line for line in batch.lines), batch.lines[:2]
    assert [table[n]["status"] for n in (1, 2, 3, 4)] == ["done"] * 4
    for name in ("anna-1", "anna-2", "bea-1", "bea-2"):
        assert frames_and_duration(out / f"{name}.mp4")[0] == 30  # 1.2 s of speech at 25 fps
    ran_on = {n: table[n]["node"].rsplit("/", 1)[1] for n in table}
    # every row names the worker node that ran it; the two projects ran side by side, one a node
    assert set(ran_on.values()) == workers, (ran_on, workers)
    assert all(line.rsplit("/", 1)[1] in workers for line in batch.lines if ": running on " in line)


def test_a_node_lost_mid_dub_is_retried_on_another_node_and_leaves_no_part_file(two_projects, tmp_path):
    anna, _ = two_projects
    speech = cut_speech(media("audio/iplap__audio2.wav"), tmp_path / "long.wav", 16.0)
    out = tmp_path / "out"
    rows = [BatchRow(1, JobSpec(kind="dub", project=anna.root, audio=speech, out=out / "anna-long.mp4",
                                draft=True))]
    with local_cluster(workers=2) as (cluster, _):
        batch = Batch(rows, tmp_path / "report", cluster.address)
        batch.start()
        line = wait_for(lambda: batch.running_line("anna-long.mp4"), "the dub starting", batch)
        victim = node_of(line)
        # the dub is writing its video (a .part beside the output) when its machine dies
        wait_for(lambda: list(out.glob(".anna-long.mp4.*.part")), "the dub writing", batch)
        cluster.remove_node(node_by_id(cluster, victim), allow_graceful=False)
        table = batch.finish()
    row = table[1]
    assert row["status"] == "done" and int(row["attempts"]) == 2, row
    assert row["node"].rsplit("/", 1)[1] != victim
    assert any("attempt 2" in line for line in batch.lines)
    assert frames_and_duration(out / "anna-long.mp4")[0] == 400  # 16 s at 25 fps
    assert no_parts(out) and [p.name for p in out.iterdir()] == ["anna-long.mp4"]


def test_training_on_a_lost_node_resumes_from_its_checkpoint_on_another(trained_project, tmp_path):
    import torch

    project = copy_project(trained_project, tmp_path / "carl")
    shutil.rmtree(project.path("history"), ignore_errors=True)
    spec = JobSpec(kind="train-renderer", project=project.root, minutes=0.5, checkpoint_minutes=0.05,
                   device="cpu")
    last, history = project.path("renderer", "last.pt"), project.path("history", "renderer.json")
    with local_cluster(workers=2) as (cluster, _):
        batch = Batch([BatchRow(1, spec)], tmp_path / "report", cluster.address)
        batch.start()
        line = wait_for(lambda: batch.running_line("carl"), "the training starting", batch)
        victim = node_of(line)

        def checkpointed():  # a checkpoint of this run (not the fixture's) and the curves on disk
            if not (last.exists() and history.exists()):
                return None
            with contextlib.suppress(Exception):
                state = torch.load(last, map_location="cpu", weights_only=False)
                return state["step"] if state["config"]["size"] != 64 and state["step"] > 0 else None
            return None

        killed_at = wait_for(checkpointed, "a checkpoint", batch)
        cluster.remove_node(node_by_id(cluster, victim), allow_graceful=False)
        table = batch.finish()
    row = table[1]
    assert row["status"] == "done" and int(row["attempts"]) == 2, row
    assert row["node"].rsplit("/", 1)[1] != victim
    final = torch.load(last, map_location="cpu", weights_only=False)
    assert final["step"] > killed_at and final["elapsed_s"] >= 0.5 * 60
    # the retry started where a checkpoint of the first attempt left off, not from scratch
    assert len(final["starts"]) == 2 and killed_at <= final["starts"][1] <= final["step"], final["starts"]
    assert project.stage("renderer").status == "done"
    # a fresh start evaluates at step 0: the retry did not, it went on from the checkpoint
    evaluations = json.loads(history.read_text())["evaluations"]
    assert [e["step"] for e in evaluations].count(0) == 1, [e["step"] for e in evaluations]


def test_a_node_added_mid_batch_takes_work(two_projects, tmp_path):
    anna, bea = two_projects
    speech = [cut_speech(media("audio/iplap__audio2.wav"), tmp_path / f"s{i}.wav", 4.0, start_s=4.0 * i)
              for i in range(3)]
    out = tmp_path / "out"
    specs = [JobSpec(kind="dub", project=p.root, audio=speech[i], out=out / f"{name}-{i}.mp4", draft=True)
             for p, name in ((anna, "anna"), (bea, "bea")) for i in range(3)]
    rows = [BatchRow(n, spec) for n, spec in enumerate(specs, start=1)]
    with local_cluster(workers=1) as (cluster, add_worker):
        first = {short_id(n) for n in cluster.worker_nodes}
        batch = Batch(rows, tmp_path / "report", cluster.address)
        batch.start()
        wait_for(lambda: batch.running_line("-0.mp4"), "the first dub starting", batch)
        added = short_id(add_worker())
        table = batch.finish()
    assert [table[n]["status"] for n in range(1, 7)] == ["done"] * 6
    for p in ("anna", "bea"):
        for i in range(3):
            assert frames_and_duration(out / f"{p}-{i}.mp4")[0] == 100  # 4 s at 25 fps
    ran_on = [table[n]["node"].rsplit("/", 1)[1] for n in range(1, 7)]
    assert added in ran_on and set(ran_on) <= first | {added}, (ran_on, first, added)


def batch_command(jobs: Path, report: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "main.py", "batch", str(jobs), "--report", str(report),
                             "--address", address], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def test_the_head_lost_mid_batch_ends_in_one_line_and_a_rerun_does_only_what_is_missing(two_projects, tmp_path):
    anna, _ = two_projects
    speech = [cut_speech(media("audio/iplap__audio2.wav"), tmp_path / f"s{i}.wav", 2.0, start_s=2.0 * i)
              for i in range(3)]
    out, report = tmp_path / "out", tmp_path / "report"
    jobs = tmp_path / "jobs.csv"
    write_csv(jobs, [{"kind": "dub", "project": anna.root, "audio": speech[i], "out": out / f"anna-{i}.mp4",
                      "draft": "true"} for i in range(3)])
    lines = []
    with local_cluster(workers=1) as (cluster, _):
        command = batch_command(jobs, report, cluster.address)
        try:
            for line in command.stdout:
                lines.append(line.rstrip())
                if "anna-0.mp4: done" in line:  # the rows of one project run in order: 1 and 2 remain
                    cluster.remove_node(cluster.head_node, allow_graceful=False)
                    break
            lines += [line.rstrip() for line in command.stdout]
            code = command.wait(WAIT_S)
        finally:
            if command.poll() is None:
                command.kill()
    assert code == 2, lines[-5:]
    last = lines[-1]
    assert last.startswith("error: the Ray head at ") and "stopped answering mid-batch" in last, lines[-5:]
    assert "1 of 3 job(s) finished" in last and str(report) in last and "Traceback" not in "\n".join(lines)
    assert not [line for line in lines if "(raylet)" in line], lines  # Ray's messages go to the report folder
    first = {int(r["row"]): r for r in csv.DictReader(open(report / "report.csv"))}
    assert first[1]["status"] == "done" and {first[2]["status"], first[3]["status"]} <= {"queued", "cancelled"}
    assert not (out / "anna-2.mp4").exists()

    with local_cluster(workers=1) as (cluster, _):  # a new head (another port), the same list again
        again = batch_command(jobs, report, cluster.address)
        rerun = again.communicate(timeout=WAIT_S)[0]
    assert again.returncode == 0, rerun[-2000:]
    table = {int(r["row"]): r for r in csv.DictReader(open(report / "report.csv"))}
    assert [table[n]["status"] for n in (1, 2, 3)] == ["skipped", "done", "done"], rerun[-2000:]
    for i in range(3):
        assert frames_and_duration(out / f"anna-{i}.mp4")[0] == 50  # 2 s at 25 fps
    assert no_parts(out)
