"""The app's export queue in core: saved in the project, run in-process through the batch core."""

from __future__ import annotations

import json

from core.batch.queue import QUEUE_FILE, ExportQueue, queue_job
from core.jobs import CancelToken, run_job
from core.errors import JobCancelled
from tests.batch.conftest import frames_and_duration, no_parts


def test_queued_exports_run_one_after_another_and_a_bad_one_fails_alone(two_projects, short_speech, tmp_path):
    _, bea = two_projects
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("not a recording")
    queue = ExportQueue(bea.root)
    first = queue.add(tmp_path / "one.mp4", audio=short_speech[0], draft=True)
    bad = queue.add(tmp_path / "bad.mp4", audio=not_audio, draft=True)
    second = queue.add(tmp_path / "two.mp4", audio=short_speech[1], draft=True)
    stages = []
    summary = run_job(queue_job(bea.root), lambda p: stages.append(p.stage))
    assert summary.counts == {"done": 2, "failed": 1}
    saved = {e["id"]: e for e in json.loads((bea.root / QUEUE_FILE).read_text())["entries"]}
    assert [saved[e.id]["status"] for e in (first, bad, second)] == ["done", "failed", "done"]
    assert "notes.mp3" in saved[bad.id]["error"]
    assert frames_and_duration(tmp_path / "one.mp4")[0] == 30 and frames_and_duration(tmp_path / "two.mp4")[0] == 30
    assert any(s.startswith("1 of 3: speech0.wav") for s in stages)
    assert any(s.startswith("3 of 3: speech1.wav") for s in stages)
    again = queue.add(tmp_path / "one.mp4", audio=short_speech[0], draft=True)  # the same export again
    run_job(queue_job(bea.root))
    assert queue.entries()[-1].id == again.id and queue.entries()[-1].status == "skipped"


def test_a_stopped_queue_keeps_its_export_waiting_for_the_next_run(two_projects, short_speech, tmp_path):
    anna, _ = two_projects
    queue = ExportQueue(anna.root)
    for e in queue.entries():
        queue.remove(e.id)
    entry = queue.add(tmp_path / "stopped.mp4", audio=short_speech[2], draft=True)
    token = CancelToken()
    seen = []

    def stop_midway(p):
        seen.append(p.fraction)
        if p.fraction and p.fraction > 0.3:
            token.cancel()

    try:
        run_job(queue_job(anna.root), stop_midway, token)
        raise AssertionError("the queue was not stopped")
    except JobCancelled:
        pass
    assert ExportQueue(anna.root).entries()[0].status == "queued"
    assert not (tmp_path / "stopped.mp4").exists() and no_parts(tmp_path)
    # an app that was killed leaves the entry "running": opening the queue again puts it back
    queue.update(entry.id, status="running")
    assert ExportQueue(anna.root).requeue_interrupted() == 1
    summary = run_job(queue_job(anna.root))
    assert summary.counts == {"done": 1} and frames_and_duration(tmp_path / "stopped.mp4")[0] == 30
