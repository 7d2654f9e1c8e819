"""Starting and stopping Ray for a batch run: a local Ray started for the run (one worker per core)
in a short temporary folder, or an existing cluster joined; offline (no usage statistics), its
logs copied into the report folder, and no process left behind on leaving."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.batch.ray_output import ray_output_to, route_ray_logging, unroute_ray_logging
from core.errors import DubError

log = logging.getLogger(__name__)

OFFLINE_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}  # no usage statistics upload (no internet at run time)
NODE_ID_CHARS = 8  # of the 56 hex digits of a Ray node id, in the report's node column
REPO_ROOT = Path(__file__).resolve().parents[2]  # the folder holding core/, for the workers' imports
STARTUP_ATTEMPTS = 3  # Ray gives its raylet 30 s to register: on a machine busy with other work, retry


@dataclass(frozen=True)
class RayConfig:
    """address: None starts a local Ray for the run; 'auto' or 'HOST:PORT' joins a running cluster.
    num_cpus: workers of the local Ray (None: every core). max_retries: restarts of a job whose
    worker died. stop_grace_s: how long a stop waits for running jobs to reach a checkpoint.
    quiet_terminal: what Ray's processes print goes to the report folder, not the terminal."""

    address: str | None = None
    num_cpus: int | None = None
    max_retries: int = 3
    stop_grace_s: float = 120.0
    quiet_terminal: bool = True  # False: leave file descriptors 1 and 2 alone (tests under pytest's capture)


def import_ray():
    os.environ.update(OFFLINE_ENV)
    try:
        import ray  # lazy: Ray (and its start-up cost) only for a batch run
    except ImportError as exc:  # pragma: no cover - ray is a pinned dependency
        raise DubError("Ray is not installed: run 'bash setup.sh only' to install the pinned packages.") from exc
    return ray


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Fail fast, in one line, when nothing listens at HOST:PORT (Ray itself would retry for long)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise DubError(f"--address {address!r}: use 'auto' or HOST:PORT of the Ray head (e.g. 10.0.0.5:6379).")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise DubError(f"cannot reach a Ray cluster at {address} ({reason}). Start one with 'ray start --head' "
                       "on the head machine, or leave out --address to run on this machine.") from None


@contextlib.contextmanager
def ray_session(config: RayConfig, log_dir: Path | None) -> Iterator[dict]:
    """Start (or join) Ray for a run; yields facts about it (start-up seconds, workers, GPUs).

    A local Ray keeps its session files in a temporary folder whose logs are copied to
    ``log_dir``/ray-logs at the end; the whole local Ray is shut down on leaving.
    """
    if config.address not in (None, "auto"):
        check_reachable(config.address)
    t0 = time.monotonic()
    ray = import_ray()
    handler = route_ray_logging(log_dir)
    temp_dir = None
    output = contextlib.ExitStack()
    output.callback(unroute_ray_logging, handler)
    quiet = log_dir is not None and config.quiet_terminal
    output.enter_context(ray_output_to(log_dir / "ray-output.log" if quiet else None))
    env = {"PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p),
           **OFFLINE_ENV}
    kwargs = dict(include_dashboard=False, log_to_driver=False, configure_logging=False,
                  runtime_env={"env_vars": env}, namespace="portrait-dub")
    try:
        if config.address is None:
            temp_dir = _start_local(ray, config, kwargs)
        else:
            ray.init(address=config.address, **kwargs)
    except BaseException as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
        if temp_dir:
            shutil.rmtree(temp_dir, ignore_errors=True)
        output.close()
        if not isinstance(exc, Exception):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        where = f"the Ray cluster at {config.address}" if config.address else "a local Ray"
        raise DubError(f"cannot start {where}: {first}") from None
    route_ray_logging(log_dir, handler)
    resources = ray.cluster_resources()
    facts = {"startup_s": time.monotonic() - t0, "cpus": resources.get("CPU", 0.0),
             "gpus": resources.get("GPU", 0.0), "nodes": len([n for n in ray.nodes() if n.get("Alive")]),
             "address": config.address or "local", "temp_dir": temp_dir}
    try:
        yield facts
    finally:
        ray.shutdown()
        if temp_dir:
            _end_leftovers(temp_dir)
        output.close()
        if temp_dir:
            _keep_logs(Path(temp_dir), log_dir)
            shutil.rmtree(temp_dir, ignore_errors=True)


def node_name() -> str:
    """This Ray node as the report names it: its IP and the start of its node id (several nodes can
    share one machine's IP)."""
    ray = import_ray()
    ip = ray.util.get_node_ip_address()
    return f"{ip}/{ray.get_runtime_context().get_node_id()[:NODE_ID_CHARS]}" if ray.is_initialized() else ip


def session_processes(marker: str) -> list[int]:
    """Processes of the local Ray whose session folder is ``marker`` (Linux /proc; elsewhere none)."""
    found = []
    proc = Path("/proc")
    for entry in proc.iterdir() if proc.is_dir() else ():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            with contextlib.suppress(OSError):
                if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
    return found


def _end_leftovers(marker: str, wait_s: float = 15.0) -> None:
    """After ray.shutdown, a worker that was still starting can outlive its raylet for a while;
    the local Ray started for this run leaves no process behind."""
    deadline = time.monotonic() + wait_s
    while (left := session_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.25)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            log.info("ended Ray process %d left after shutdown", pid)


def _start_local(ray, config: RayConfig, kwargs: dict) -> str:
    """Start the local Ray in a new short temporary folder (Ray's socket paths must stay short);
    returns the folder."""
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        temp_dir = tempfile.mkdtemp(prefix="pd-ray-")
        try:
            ray.init(address="local", num_cpus=config.num_cpus or os.cpu_count() or 1, _temp_dir=temp_dir,
                     **kwargs)
            return temp_dir
        except Exception as exc:  # noqa: BLE001
            with contextlib.suppress(Exception):
                ray.shutdown()
            _end_leftovers(temp_dir, wait_s=5.0)
            shutil.rmtree(temp_dir, ignore_errors=True)
            if attempt == STARTUP_ATTEMPTS or "timed out during startup" not in str(exc):
                raise
            log.warning("the local Ray did not start in time (attempt %d): %s; trying again", attempt, exc)
    raise AssertionError("unreachable")


def _keep_logs(temp_dir: Path, log_dir: Path | None) -> None:
    if log_dir is None:
        return
    for logs in temp_dir.glob("session_*/logs"):
        if logs.parent.is_symlink():
            continue
        with contextlib.suppress(OSError, shutil.Error):
            shutil.copytree(logs, log_dir / "ray-logs", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.sock", "*.err.*"))
