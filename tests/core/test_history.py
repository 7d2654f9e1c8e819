"""TrainingHistory: steps across runs, evaluations kept apart, resuming from an older checkpoint."""

from __future__ import annotations

import numpy as np

from core.history import TrainingHistory, record_history
from core.jobs import Progress


class Folder:
    def __init__(self, root):
        self.root = root

    def path(self, *parts):
        return self.root.joinpath(*parts)


def job(steps, evals=(), preview_at=()):
    for s in steps:
        losses = {"l1": 1.0 / (s + 1)}
        if s in evals:
            losses["val_psnr"] = 10.0 + s
        yield Progress(0.5, "training", step=s, losses=losses,
                       preview=np.full((2, 6, 3), s, np.uint8) if s in preview_at else None)
    return "done"


def run(project, stage, generator, continues=True):
    gen = record_history(project, stage, generator, continues)
    try:
        while True:
            next(gen)
    except StopIteration as stop:
        return stop.value


def test_runs_continue_and_a_resume_drops_points_past_the_checkpoint(tmp_path):
    project = Folder(tmp_path)
    assert run(project, "renderer", job(range(0, 5), evals=(0, 4), preview_at=(4,))) == "done"
    h = TrainingHistory.load(project, "renderer")
    assert [x for x, _ in h.points] == [0, 1, 2, 3, 4]
    assert [e["step"] for e in h.evaluations] == [0, 4] and h.preview_step == 4
    # A crash after step 4 whose last checkpoint was step 2: the run resumes at step 3.
    run(project, "renderer", job(range(3, 7)))
    h = TrainingHistory.load(project, "renderer")
    assert [x for x, _ in h.points] == [0, 1, 2, 3, 4, 5, 6]
    assert [e["step"] for e in h.evaluations] == [0]  # the evaluation at 4 belonged to the lost steps
    assert int(h.preview[0, 0, 0]) == 4  # the last preview stays until a newer one


def test_a_restarting_counter_stays_monotonic_and_retraining_starts_afresh(tmp_path):
    project = Folder(tmp_path)

    def two_networks():
        yield from job([1, 2, 3], evals=(3,))
        yield from job([1, 2], evals=(2,))

    run(project, "audio_model", two_networks(), continues=False)
    h = TrainingHistory.load(project, "audio_model")
    assert [x for x, _ in h.points] == [1, 2, 3, 4, 5]
    assert [e["step"] for e in h.evaluations] == [3, 5]
    run(project, "audio_model", job([1, 2]), continues=False)
    assert [x for x, _ in TrainingHistory.load(project, "audio_model").points] == [1, 2]


def test_a_damaged_history_file_starts_afresh(tmp_path):
    project = Folder(tmp_path)
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "renderer.json").write_text("{broken")
    assert TrainingHistory.load(project, "renderer").points == []
    run(project, "renderer", job([1, 2]))
    assert len(TrainingHistory.load(project, "renderer").points) == 2
