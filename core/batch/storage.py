"""Shared storage for a cluster run: every node must see the job list's files and the same project
and output folders (a token the driver writes is read back on each node)."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from core.batch.ray_session import import_ray, node_name
from core.batch.rows import BatchRow
from core.errors import DubError


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
    ray = import_ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy  # Ray's, once it is loaded

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
