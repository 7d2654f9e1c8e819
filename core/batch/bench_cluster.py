"""The batch bench on a local multi-node Ray: a head without CPUs and N worker nodes of 1 CPU, each
its own raylet on this machine (ray.cluster_utils.Cluster, as Ray's own tests use it).

Measures what a cluster adds per node: the head's start-up, each worker node's start-up (until it
is registered), and every node's peak memory while the batch runs (summed RSS of the node's own
processes and of every process they started: its workers).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from core.batch.on_ray import OFFLINE_ENV, session_processes


def _node_pids(node) -> list[int]:
    return [info.process.pid for infos in node.all_processes.values() for info in infos
            if info.process is not None]


def run_on_local_cluster(workers: int, run, report_dir: Path) -> dict:
    """Start the cluster, call ``run(address)`` -> (wall s, driver peak RSS MB, stdout), return figures."""
    from ray.cluster_utils import Cluster

    from core.batch.bench import _tree_rss_mb

    os.environ.update(OFFLINE_ENV)
    temp = tempfile.mkdtemp(prefix="pd-rb-")
    saved = os.environ.get("RAY_TMPDIR")
    os.environ["RAY_TMPDIR"] = temp  # the address file stays out of /tmp/ray
    (Path(temp) / "ray").mkdir()
    cluster = None
    try:
        t0 = time.perf_counter()
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "temp_dir": temp,
                                                                "include_dashboard": False})
        head_s = time.perf_counter() - t0
        node_s = []
        for _ in range(workers):
            t = time.perf_counter()
            cluster.add_node(num_cpus=1, temp_dir=temp)
            node_s.append(time.perf_counter() - t)
        nodes = {"head": cluster.head_node, **{f"worker{i + 1}": n for i, n in enumerate(cluster.worker_nodes)}}
        idle = {name: round(sum(_tree_rss_mb(p) for p in _node_pids(n))) for name, n in nodes.items()}
        peak = dict(idle)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                for name, n in nodes.items():
                    peak[name] = max(peak[name], round(sum(_tree_rss_mb(p) for p in _node_pids(n))))
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
    finally:
        if cluster is not None:
            cluster.shutdown()
        if saved is None:
            os.environ.pop("RAY_TMPDIR", None)
        else:
            os.environ["RAY_TMPDIR"] = saved
        deadline = time.monotonic() + 30
        while session_processes(temp) and time.monotonic() < deadline:
            time.sleep(0.25)
        for pid in session_processes(temp):
            with contextlib.suppress(OSError):
                os.kill(pid, 9)
        shutil.rmtree(temp, ignore_errors=True)
