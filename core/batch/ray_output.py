"""Ray's output kept out of the terminal: its Python log lines, what its processes write to file
descriptors 1 and 2, and the cluster's error messages go to files in the report folder."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path


def route_ray_logging(log_dir: Path | None, handler: logging.Handler | None = None) -> logging.Handler:
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
def ray_output_to(log_file: Path | None) -> Iterator[None]:
    """Send what Ray's C++ core and the processes it starts write to stdout/stderr into ``log_file``
    (file descriptors 1 and 2), while Python's own sys.stdout/sys.stderr keep reaching the terminal."""
    if log_file is None:
        yield
        return
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
        with ray_messages_to(log_file):
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
def ray_messages_to(log_file: Path) -> Iterator[None]:
    """The driver prints the cluster's error messages (a node died, with its raylet's last log
    lines) through Python's sys.stdout, which stays the terminal's: they go to ``log_file`` too."""
    try:
        import ray._private.worker as ray_worker  # lazy: Ray loads only for a batch (and may differ)

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


def unroute_ray_logging(handler: logging.Handler) -> None:
    logging.getLogger("ray").removeHandler(handler)
    handler.close()
