"""Which rows may start: rows of one project run in list order, different projects side by side.

When a job that makes something the later jobs need (prepare, training, run) fails, the later rows
of that project are not run ("blocked") rather than failing one by one on a half-made project.
A failed dub or evaluation blocks nothing.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from pathlib import Path

from core.batch.execute import Outcome
from core.batch.rows import BatchRow
from core.commands import KINDS



class Plan:
    def __init__(self, rows: list[BatchRow]) -> None:
        self.chains: OrderedDict[Path, deque[BatchRow]] = OrderedDict()
        for row in rows:
            self.chains.setdefault(row.spec.project_dir, deque()).append(row)
        self.busy: set[Path] = set()

    def ready(self) -> list[BatchRow]:
        """Rows that may start now (each marked as running on its project)."""
        out = []
        for project, chain in self.chains.items():
            if chain and project not in self.busy:
                out.append(chain.popleft())
                self.busy.add(project)
        return out

    def take_one(self) -> BatchRow | None:
        """The next row that may start (for one worker): projects take turns in list order."""
        for project, chain in self.chains.items():
            if chain and project not in self.busy:
                self.busy.add(project)
                self.chains.move_to_end(project)
                return chain.popleft()
        return None

    def finished(self, row: BatchRow, outcome: Outcome) -> list[tuple[BatchRow, Outcome]]:
        """Record the end of ``row``; returns the rows it blocks, with their outcomes."""
        project = row.spec.project_dir
        self.busy.discard(project)
        if outcome.status != "failed" or not KINDS[row.spec.kind].changes_project:
            return []
        chain = self.chains[project]
        blocked = [(r, Outcome("blocked", error=f"not run: row {row.number} ({row.spec.kind}) of the same "
                                             "project failed")) for r in chain]
        chain.clear()
        return blocked

    def remaining(self) -> list[BatchRow]:
        return [r for chain in self.chains.values() for r in chain]

    @property
    def done(self) -> bool:
        return not self.busy and not self.remaining()
