"""The batch bench on a local multi-node Ray: a head without CPUs and N worker nodes of 1 CPU, each
its own raylet on this machine (ray.cluster_utils.Cluster, as Ray's own tests use it).

Measures what a cluster adds per node: the head's start-up, each worker node's start-up (until it
is registered), and every node's peak memory while the batch runs (summed RSS of the node's own
processes and of every process they started: its workers).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from core.batch.ray_session import OFFLINE_ENV, session_processes

log = logging.getLogger(__name__)


def tree_rss_mb(root_pid: int) -> float:
    """Summed RSS of ``root_pid`` and all its descendants (Ray's raylet, GCS, workers)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid, ppid = int(entry.name), int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 1024


@contextlib.contextmanager
def local_head(prefix: str, **head_args) -> Iterator[tuple]:
    """A Ray head without CPUs on this machine (ray.cluster_utils.Cluster, as Ray's own tests use it),
    offline, in a short new temporary folder (Ray's socket paths must stay short) that also holds the
    cluster's address file, not /tmp/ray where other Rays of this machine look. Yields (cluster,
    folder); on leaving, the cluster is shut down, its stragglers ended and the folder removed."""
    from ray.cluster_utils import Cluster  # lazy: Ray only for a cluster bench or test

    os.environ.update(OFFLINE_ENV)
    temp = tempfile.mkdtemp(prefix=prefix)
    saved = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp
    (Path(temp) / "ray").mkdir()
    cluster = None
    try:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "temp_dir": temp,
                                                                "include_dashboard": False, **head_args})
        yield cluster, temp
    finally:
        if cluster is not None:
            cluster.shutdown()
        if saved is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = saved
        for ended in end_stragglers(temp):
            log.warning("ended Ray process %s left after the cluster's shutdown", ended)
        shutil.rmtree(temp, ignore_errors=True)


def end_stragglers(temp: str, wait_s: float = 30.0) -> list[str]:
    """Cluster.shutdown kills every node's processes; on a busy machine a few of them (agents of a
    removed node) take long to go: wait, then end what is left; returns them (pid and command)."""
    deadline = time.monotonic() + wait_s
    while session_processes(temp) and time.monotonic() < deadline:
        time.sleep(0.25)
    ended = []
    for pid in session_processes(temp):
        with contextlib.suppress(OSError):
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            os.kill(pid, signal.SIGKILL)
            ended.append(f"{pid} ({command[:160]})")
    return ended


def _node_pids(node) -> list[int]:
    return [info.process.pid for infos in node.all_processes.values() for info in infos
            if info.process is not None]


def run_on_local_cluster(workers: int, run, report_dir: Path) -> dict:
    """Start the cluster, call ``run(address)`` -> (wall s, driver peak RSS MB, stdout), return figures."""
    t0 = time.perf_counter()
    with local_head("pd-rb-") as (cluster, temp):
        head_s = time.perf_counter() - t0
        node_s = []
        for _ in range(workers):
            t = time.perf_counter()
            cluster.add_node(num_cpus=1, temp_dir=temp)
            node_s.append(time.perf_counter() - t)
        nodes = {"head": cluster.head_node, **{f"worker{i + 1}": n for i, n in enumerate(cluster.worker_nodes)}}
        idle = {name: round(sum(tree_rss_mb(p) for p in _node_pids(n))) for name, n in nodes.items()}
        peak = dict(idle)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for name, n in nodes.items():
                    peak[name] = max(peak[name], round(sum(tree_rss_mb(p) for p in _node_pids(n))))
                done.wait(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            wall, driver_peak, _ = run(cluster.address)
        finally:
            done.set()
            sampler.join()
        table = json.loads((Path(report_dir) / "report.json").read_text())["jobs"]
        return {"cluster_nodes": 1 + workers, "cluster_head_startup_s": round(head_s, 1),
                "cluster_node_startup_s": [round(s, 1) for s in node_s],
                "cluster_idle_rss_mb": idle, "cluster_peak_rss_mb": peak,
                "cluster_batch_wall_s": round(wall, 1), "cluster_driver_peak_rss_mb": round(driver_peak),
                "cluster_job_s": [t["seconds"] for t in table],
                "cluster_nodes_used": sorted({t["node"] for t in table}),
                "cluster_statuses": sorted({t["status"] for t in table})}
