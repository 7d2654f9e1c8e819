"""Pick the compute device and thread count once, explicitly."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ComputeContext:
    """Where tensors live. Pass it explicitly; never read a global device."""

    device: torch.device

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"


def select_device(preference: str = "auto") -> ComputeContext:
    """``auto`` uses CUDA when torch sees it, else the CPU; ``cpu`` / ``cuda`` force one."""
    if preference not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {preference!r}")
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("CUDA was requested but torch sees no CUDA device on this machine.")
    use_cuda = preference == "cuda" or (preference == "auto" and torch.cuda.is_available())
    configure_threads()
    return ComputeContext(torch.device("cuda" if use_cuda else "cpu"))


def configure_threads() -> int:
    """Use every core for torch's CPU kernels (torch's default can be lower in containers)."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


@contextlib.contextmanager
def torch_threads(n: int, enabled: bool = True) -> Iterator[None]:
    """Run torch's CPU kernels on ``n`` threads inside the block; the caller's count comes back after.
    (Small tensors gain little from threads, and on a busy machine OpenMP's waiting can make each op
    many times slower.)"""
    if not enabled:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def on_threads(steps: Generator, n: int = 1) -> Generator:
    """Drive a generator (a job) with ``n`` torch threads while it computes; while it is suspended at
    a yield, the caller's thread count holds (torch's setting is process-wide). Returns its value."""
    try:
        while True:
            try:
                with torch_threads(n):
                    item = next(steps)
            except StopIteration as stop:
                return stop.value
            yield item
    finally:
        steps.close()
