"""The one place a page (or panel) wires the session's job runner: its own jobs' records reach its
``job_*`` hooks, the others' never do.

A page lists the jobs it runs (``wire_jobs(session, "prepare")``) and overrides the hooks it needs;
``show_job_progress`` fills a ProgressPanel with a record and the job's elapsed time. Most pages
only show their job's progress in one panel and refresh their buttons when any job starts or
ends: ``wire_jobs(..., panel=..., on_busy=...)`` does that without overriding a hook.
"""

from __future__ import annotations


class RunsJobs:
    """Mixin for a QWidget that runs named jobs on ``session.runner`` (app.workers.JobRunner)."""

    job_names: frozenset[str] = frozenset()
    job_panel = None  # the ProgressPanel the default job_progress fills
    _on_busy = None

    def wire_jobs(self, session, *names: str, panel=None, on_busy=None) -> None:
        """panel: the ProgressPanel showing these jobs' progress; on_busy(): called when any job
        starts while none ran or the last one ends (default: the jobs_busy hook)."""
        self.job_names = frozenset(names)
        self.job_panel, self._on_busy = panel, on_busy
        runner = session.runner
        runner.progress.connect(self._relay_progress)
        runner.finished_ok.connect(self._relay_done)
        runner.failed.connect(self._relay_failed)
        runner.cancelled.connect(self._relay_cancelled)
        runner.stopped.connect(self._relay_stopped)
        runner.paused.connect(self._relay_paused)
        runner.busy_changed.connect(self.jobs_busy)

    def show_job_progress(self, panel, name: str, record) -> None:
        """``panel`` (a ProgressPanel) shows ``record`` of job ``name`` and the time it has run."""
        handle = self.session.runner.jobs.get(name)
        panel.show_progress(record, handle.elapsed_s if handle else 0.0)

    # ---- hooks: override what the page needs --------------------------------------------------------
    def job_progress(self, name: str, record) -> None:
        """A Progress record of one of this page's jobs (shown in ``job_panel`` if there is one)."""
        if self.job_panel is not None:
            self.show_job_progress(self.job_panel, name, record)

    def job_done(self, name: str, result) -> None:
        """The job returned ``result``."""

    def job_failed(self, name: str, exc) -> None:
        """The job raised ``exc`` (not a cancel)."""

    def job_cancelled(self, name: str) -> None:
        """The job was cancelled."""

    def job_stopped(self, name: str) -> None:
        """The job ended, whatever the way (always after done, failed or cancelled)."""

    def job_paused(self, name: str, paused: bool) -> None:
        """The job was paused (True) or resumed."""

    def jobs_busy(self, busy: bool) -> None:
        """Any job (this page's or another's) started while none ran (True) or the last one ended."""
        if self._on_busy is not None:
            self._on_busy()

    # ---- the runner's signals, for this page's jobs only ---------------------------------------------
    def _relay_progress(self, name: str, record) -> None:
        if name in self.job_names:
            self.job_progress(name, record)

    def _relay_done(self, name: str, result) -> None:
        if name in self.job_names:
            self.job_done(name, result)

    def _relay_failed(self, name: str, exc) -> None:
        if name in self.job_names:
            self.job_failed(name, exc)

    def _relay_cancelled(self, name: str) -> None:
        if name in self.job_names:
            self.job_cancelled(name)

    def _relay_stopped(self, name: str) -> None:
        if name in self.job_names:
            self.job_stopped(name)

    def _relay_paused(self, name: str, paused: bool) -> None:
        if name in self.job_names:
            self.job_paused(name, paused)
