"""Rows on Ray: a local Ray started for the run (one worker per core), or an existing cluster.

Each row is one Ray task running :func:`core.batch.execute.execute_job` (the same core jobs as the
CLI). A task whose worker process dies is retried by Ray (``max_retries``); the retried job finds
the checkpoints and skips what it finished. A small actor (``Board``) carries state changes and
progress from the workers to the driver, and the driver's stop request back to them. Ray's own log
lines go to the report folder, never to the terminal; usage statistics are never sent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.batch.execute import Outcome, execute_job, stopped_message
from core.batch.plan import Plan
from core.batch.report import BatchReport
from core.batch.rows import BatchRow
from core.commands import JobSpec
from core.errors import DubError, JobCancelled
from core.jobs import CancelToken, run_job

log = logging.getLogger(__name__)

OFFLINE_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}  # no usage statistics upload (no internet at run time)
TRAINING_KINDS = ("train-renderer", "run")
PROGRESS_EVERY_S = 1.0
NODE_ID_CHARS = 8  # of the 56 hex digits of a Ray node id, in the report's node column
REPO_ROOT = Path(__file__).resolve().parents[2]  # the folder holding core/, for the workers' imports


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


# ---- starting and stopping Ray ---------------------------------------------------------------------
def _import_ray():
    os.environ.update(OFFLINE_ENV)
    try:
        import ray
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


def _route_ray_logging(log_dir: Path | None, handler: logging.Handler | None = None) -> logging.Handler:
    """Ray's Python log lines go to ray-driver.log in the report folder, not to the terminal."""
    ray_logger = logging.getLogger("ray")
    ray_logger.propagate = False
    for old in list(ray_logger.handlers):
        ray_logger.removeHandler(old)
    if handler is None and log_dir is None:
        handler = logging.NullHandler()
    elif handler is None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / "ray-driver.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    ray_logger.addHandler(handler)
    return handler


@contextlib.contextmanager
def _ray_output_to(log_file: Path | None) -> Iterator[None]:
    """Send what Ray's C++ core and the processes it starts write to stdout/stderr into ``log_file``
    (file descriptors 1 and 2), while Python's own sys.stdout/sys.stderr keep reaching the terminal."""
    if log_file is None:
        yield
        return
    import sys

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    target = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    streams = sys.stdout, sys.stderr
    # ray.init drops the handlers of the "ray" logger for a moment; what it logs then would reach
    # the terminal through logging's last-resort handler
    last_resort = logging.lastResort
    logging.lastResort = logging.FileHandler(log_file, encoding="utf-8")
    mine = []
    try:
        mine = [open(os.dup(saved[fd]), "w", buffering=1, encoding=getattr(s, "encoding", None) or "utf-8")
                for fd, s in ((1, streams[0]), (2, streams[1]))]
        sys.stdout, sys.stderr = mine
        for fd in (1, 2):
            os.dup2(target, fd)
        with _ray_messages_to(log_file):
            yield
    finally:
        for stream in mine:
            with contextlib.suppress(Exception):
                stream.flush()
                stream.close()
        if sys.stdout is (mine[0] if mine else None):
            sys.stdout = streams[0]
        if sys.stderr is (mine[1] if len(mine) > 1 else None):
            sys.stderr = streams[1]
        logging.lastResort.close()
        logging.lastResort = last_resort
        for fd, copy in saved.items():
            os.dup2(copy, fd)
            os.close(copy)
        os.close(target)


@contextlib.contextmanager
def _ray_messages_to(log_file: Path) -> Iterator[None]:
    """The driver prints the cluster's error messages (a node died, with its raylet's last log
    lines) through Python's sys.stdout, which stays the terminal's: they go to ``log_file`` too."""
    try:
        import ray._private.worker as ray_worker

        original = ray_worker.print_to_stdstream
    except (ImportError, AttributeError):  # another Ray: its messages may reach the terminal
        yield
        return

    def to_log(data, ignore_prefix: bool = False) -> None:
        with contextlib.suppress(OSError), open(log_file, "a", encoding="utf-8") as fh:
            fh.write("".join(f"({data.get('pid', 'ray')}) {line}\n" for line in data.get("lines", [])))

    ray_worker.print_to_stdstream = to_log
    try:
        yield
    finally:
        ray_worker.print_to_stdstream = original


@contextlib.contextmanager
def ray_session(config: RayConfig, log_dir: Path | None) -> Iterator[dict]:
    """Start (or join) Ray for a run; yields facts about it (start-up seconds, workers, GPUs).

    A local Ray keeps its session files in a temporary folder whose logs are copied to
    ``log_dir``/ray-logs at the end; the whole local Ray is shut down on leaving.
    """
    if config.address not in (None, "auto"):
        check_reachable(config.address)
    t0 = time.monotonic()
    ray = _import_ray()
    handler = _route_ray_logging(log_dir)
    temp_dir = None
    output = contextlib.ExitStack()
    output.callback(_unroute_ray_logging, handler)
    quiet = log_dir is not None and config.quiet_terminal
    output.enter_context(_ray_output_to(log_dir / "ray-output.log" if quiet else None))
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
    _route_ray_logging(log_dir, handler)
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
    import signal

    deadline = time.monotonic() + wait_s
    while (left := session_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.25)
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
            log.info("ended Ray process %d left after shutdown", pid)


def _unroute_ray_logging(handler: logging.Handler) -> None:
    logging.getLogger("ray").removeHandler(handler)
    handler.close()


STARTUP_ATTEMPTS = 3  # Ray gives its raylet 30 s to register: on a machine busy with other work, retry


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


# ---- worker side -------------------------------------------------------------------------------------
class Board:
    """A Ray actor: state changes and progress from the workers, the stop request from the driver."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.starts: dict[int, int] = {}
        self.stopping = False

    def started(self, number: int, node: str, pid: int) -> tuple[int, bool]:
        self.starts[number] = self.starts.get(number, 0) + 1
        self.events.append(("running", number, self.starts[number], node, pid))
        return self.starts[number], self.stopping

    def progress(self, number: int, fraction: float | None) -> bool:
        self.events.append(("progress", number, fraction))
        return self.stopping

    def stop(self) -> None:
        self.stopping = True

    def take(self) -> list[tuple]:
        events, self.events = self.events, []
        return events


def node_name() -> str:
    """This Ray node as the report names it: its IP and the start of its node id (several nodes can
    share one machine's IP)."""
    import ray

    ip = ray.util.get_node_ip_address()
    return f"{ip}/{ray.get_runtime_context().get_node_id()[:NODE_ID_CHARS]}" if ray.is_initialized() else ip


def run_row(spec: JobSpec, number: int, board) -> dict:
    """A Ray task: one row, its progress sent to ``board`` at most once a second."""
    import ray

    node = node_name()
    attempt, stopping = ray.get(board.started.remote(number, node, os.getpid()))
    token = CancelToken()
    if stopping:
        token.cancel()
    last = [0.0]

    def on_progress(record) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            if ray.get(board.progress.remote(number, record.fraction)):
                token.cancel()

    try:
        outcome = run_job(execute_job(spec), on_progress, token)
    except JobCancelled:
        outcome = Outcome("cancelled", message=stopped_message(spec))
    outcome.attempts, outcome.node = attempt, node
    return outcome.to_json()


def probe_storage(paths: list[str], tokens: dict[str, str]) -> list[str]:
    """A Ray task on one node: the problems it has seeing ``paths`` and the driver's token files."""
    node = node_name()
    problems = []
    for path in paths:
        if not os.path.exists(path):
            problems.append(f"node {node} does not see {path}")
    for path, content in tokens.items():
        try:
            seen = Path(path).read_text(encoding="utf-8")
        except OSError:
            seen = None
        if seen != content:
            problems.append(f"node {node} sees another folder at {Path(path).parent} (not shared storage)")
    return problems


# ---- driver side ---------------------------------------------------------------------------------------
def _storage_paths(rows: list[BatchRow]) -> tuple[list[str], set[Path]]:
    """Files every node must see, and folders where the driver leaves a token to prove they are shared."""
    files, folders = set(), set()
    for row in rows:
        s = row.spec
        for p in (s.audio, s.video):
            if p is not None and Path(p).exists():
                files.add(str(Path(p).resolve()))
        project = s.project_dir
        folders.add(project if project.is_dir() else project.parent)
        if s.out is not None:
            folders.add(Path(s.out).expanduser().resolve().parent)
    return sorted(files), folders


def check_shared_storage(rows: list[BatchRow]) -> None:
    """Every alive node must see the job list's files and folders, and the same folders (a token the
    driver writes is read back on each node). Raises DubError naming what is not shared."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    files, folders = _storage_paths(rows)
    stamp = uuid.uuid4().hex
    tokens: dict[str, str] = {}
    try:
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
                token = folder / f".portrait-dub-storage-check-{stamp}"
                token.write_text(stamp, encoding="utf-8")
                tokens[str(token)] = stamp
            except OSError as exc:
                raise DubError(f"{folder}: cannot write there ({exc.strerror or exc}).") from None
        probe = ray.remote(probe_storage)
        refs = [probe.options(num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))
                .remote(files, tokens) for n in ray.nodes() if n.get("Alive")]
        try:
            problems = [p for found in ray.get(refs, timeout=120) for p in found]
        except Exception as exc:  # noqa: BLE001
            raise DubError(f"a cluster node could not run portrait-dub ({type(exc).__name__}: "
                           f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}). Install the "
                           "same portrait-dub on every node.") from None
    finally:
        for token in tokens:
            with contextlib.suppress(OSError):
                os.unlink(token)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise DubError(f"the project folders and outputs must be on storage every node sees: {shown}. "
                       "Put them on a shared file system (NFS, SMB, a cluster file system) mounted at the "
                       "same path on every machine.")


def _wants_gpu(spec: JobSpec, cluster_gpus: float) -> bool:
    """Training asks for a GPU on the GPU profile (device gpu, or auto where the cluster has GPUs);
    other jobs only when their row says gpu."""
    if spec.kind not in TRAINING_KINDS:
        return spec.uses_gpu
    return spec.uses_gpu or (spec.device == "auto" and cluster_gpus > 0)


def run_on_ray(rows: list[BatchRow], report: BatchReport, config: RayConfig,
               stop: threading.Event | None = None, cluster_gpus: float = 0.0) -> BatchReport:
    """Run ``rows`` on the Ray this process is connected to; the report follows every change.

    Setting ``stop`` asks running jobs to stop at their next progress record (training saves its
    checkpoint), waits up to ``config.stop_grace_s``, then ends the rest; rows not started stay
    queued for the next run.
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    stop = stop or threading.Event()
    plan = Plan(rows)
    # the board lives on the driver's own node: a worker node lost mid-batch must not take it along
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    board = ray.remote(Board).options(num_cpus=0, scheduling_strategy=here).remote()
    task = ray.remote(run_row)
    pending: dict = {}
    by_number = {r.number: r for r in rows}
    stopping_since = None
    try:
        while pending or (not plan.done and stopping_since is None):
            if stopping_since is None:
                for row in plan.ready():
                    gpu = _wants_gpu(row.spec, cluster_gpus)
                    if gpu and cluster_gpus <= 0:  # Ray would wait for a GPU forever
                        outcome = Outcome("failed", error="the row asks for a GPU (device gpu) but no machine "
                                          "of the Ray cluster has one; use device auto or cpu")
                        report.ended(row, outcome)
                        for blocked_row, blocked in plan.finished(row, outcome):
                            report.ended(blocked_row, blocked)
                        continue
                    ref = task.options(num_cpus=1, num_gpus=1 if gpu else 0, max_retries=config.max_retries,
                                       name=f"row-{row.number}").remote(row.spec, row.number, board)
                    pending[ref] = row
            finished, _ = ray.wait(list(pending), num_returns=1, timeout=0.5) if pending else ([], [])
            _relay(ray.get(board.take.remote()), by_number, report)
            for ref in finished:
                row = pending.pop(ref)
                outcome = _outcome_of(ray, ref, config)
                report.ended(row, outcome)
                for blocked_row, blocked in plan.finished(row, outcome):
                    report.ended(blocked_row, blocked)
            if stop.is_set() and stopping_since is None:
                stopping_since = time.monotonic()
                board.stop.remote()
                report.say(f"batch: stopping; {len(pending)} running job(s) save their work first")
            if stopping_since is not None and time.monotonic() - stopping_since > config.stop_grace_s:
                for ref, row in pending.items():
                    ray.cancel(ref, force=True)
                    report.ended(row, Outcome("cancelled", message="stopped before it finished"))
                pending.clear()
        _relay(ray.get(board.take.remote()), by_number, report)
    except (ray.exceptions.RayError, ConnectionError) as exc:  # the head (or this node's Ray) went away
        raise _cluster_lost(exc, config, pending, plan, report) from None
    finally:
        with contextlib.suppress(Exception):
            ray.kill(board)
    for row in plan.remaining():
        report.state[row.number].message = "not started; runs on the next run of the same list"
    report.write()
    return report


def _cluster_lost(exc: Exception, config: RayConfig, pending: dict, plan: Plan, report: BatchReport) -> DubError:
    """The Ray cluster stopped answering mid-batch: the running rows are marked to run again, the
    report is written, and one line says what happened and what to do."""
    for row in pending.values():
        report.state[row.number] = Outcome("cancelled", start=report.state[row.number].start,
                                           attempts=report.state[row.number].attempts,
                                           node=report.state[row.number].node,
                                           message="the Ray cluster was lost while it ran; it runs again on the next run")
    pending.clear()
    for row in plan.remaining():
        if report.state[row.number].status == "queued":
            report.state[row.number].message = "not started; runs on the next run of the same list"
    report.write()
    finished = sum(1 for o in report.state.values() if o.status in ("done", "skipped"))
    where = f"the Ray head at {config.address}" if config.address else "the local Ray"
    log.info("cluster lost: %s", exc)
    return DubError(f"{where} stopped answering mid-batch ({type(exc).__name__}); {finished} of {len(report.state)} "
                    f"job(s) finished, report in {report.folder}. Start the head again and run the same "
                    "command: it runs only what is missing.")


def _relay(events: list[tuple], by_number: dict[int, BatchRow], report: BatchReport) -> None:
    for event in events:
        if event[0] == "running":
            _, number, attempt, node, pid = event
            report.pids[number] = pid
            report.running(by_number[number], attempt, node)
        elif event[0] == "progress":
            report.progress(by_number[event[1]], event[2])


def _outcome_of(ray, ref, config: RayConfig) -> Outcome:
    try:
        return Outcome.from_json(ray.get(ref))
    except ray.exceptions.TaskCancelledError:
        return Outcome("cancelled", message="stopped before it finished")
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.RayTaskError,
            ray.exceptions.RaySystemError) as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Outcome("failed", error=f"its worker stopped {config.max_retries + 1} times (out of memory, or "
                       f"killed?): {cause[:200]}", attempts=config.max_retries + 1)


def run_batch(rows: list[BatchRow], report_dir: Path, config: RayConfig, say=log.info,
              stop: threading.Event | None = None) -> BatchReport:
    """The `batch` command: start or join Ray, check the storage, run every row, write the report."""
    report_dir = Path(report_dir)
    with ray_session(config, report_dir) as facts:
        say(f"batch: Ray ready in {facts['startup_s']:.1f} s ({facts['address']}, {facts['nodes']} node(s), "
            f"{facts['cpus']:.0f} CPU, {facts['gpus']:.0f} GPU); {len(rows)} job(s); Ray's logs in {report_dir}")
        if config.address is not None:
            check_shared_storage(rows)
        report = BatchReport(rows, report_dir, say=say, workers=int(facts["cpus"]) or 1)
        report.facts = facts
        run_on_ray(rows, report, config, stop, cluster_gpus=facts["gpus"])
    return report
