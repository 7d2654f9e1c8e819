"""TrainingHistory: steps across runs, evaluations kept apart, resuming from an older checkpoint."""

from __future__ import annotations

import numpy as np

from core.project.history import TrainingHistory, record_history
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


def trainer_like_job(steps, eval_every, stop_after=None):
    """Records as core.renderer.train yields them: step 0 is an evaluation with its preview; every
    step carries its losses and the last held-out figures again; a new evaluation (and preview)
    every ``eval_every`` steps."""
    figures = {"val_l1_255": 40.0, "val_psnr": 18.0}
    yield Progress(0.1, "Training renderer", step=0, losses=dict(figures), preview=np.zeros((2, 6, 3), np.uint8))
    for s in range(1, steps + 1):
        preview = None
        if s % eval_every == 0:
            figures = {"val_l1_255": 40.0 - s, "val_psnr": 18.0 + s / 10}
            preview = np.full((2, 6, 3), s, np.uint8)
        yield Progress(0.1 + 0.9 * s / steps, "Training renderer", step=s, total=steps,
                       losses={"l1": 1.0 / s, "gan": 0.7, "mouth": 0.1, **figures}, preview=preview)
    return "done"


def test_the_curves_are_on_disk_while_training_runs_so_a_killed_training_keeps_them(tmp_path, monkeypatch):
    import core.project.history

    monkeypatch.setattr(core.project.history, "SAVE_EVERY_S", 0.0)  # save at every record
    project = Folder(tmp_path)
    gen = record_history(project, "renderer", trainer_like_job(10, eval_every=4))
    for _ in range(8):  # steps 0..7 taken; the job is still running (or killed right here)
        next(gen)
    on_disk = TrainingHistory.load(project, "renderer")
    assert [x for x, _ in on_disk.points] == [1, 2, 3, 4, 5, 6, 7]
    assert set(on_disk.points[-1][1]) == {"l1", "gan", "mouth"}  # the held-out figures are kept apart
    assert [e["step"] for e in on_disk.evaluations] == [0, 4]  # once per evaluation, not every step
    assert on_disk.evaluations[1]["figures"] == {"val_l1_255": 36.0, "val_psnr": 18.4}
    assert on_disk.preview_step == 4 and int(on_disk.preview[0, 0, 0]) == 4
    # The killed run is never closed: a new run resumes from its checkpoint (step 5) and extends it.
    run(project, "renderer", (r for r in trainer_like_job(10, eval_every=4) if r.step >= 5))
    h = TrainingHistory.load(project, "renderer")
    assert [x for x, _ in h.points] == list(range(1, 11)) and [e["step"] for e in h.evaluations] == [0, 4, 8]


def test_the_cli_s_audio_training_keeps_its_curves(project_copy):
    """train-audio as the CLI builds it (core.commands.build_job) records the training history."""
    from core.commands import JobSpec, build_job
    from core.jobs import run_job

    run_job(build_job(JobSpec("train-audio", project=project_copy.root, model="improved", epochs=2), project_copy))
    h = TrainingHistory.load(project_copy, "audio_model")
    assert h.points and all("loss" in losses for _, losses in h.points)
    assert len(h.evaluations) >= 2  # one per epoch of each network trained
    assert all(set(e["figures"]) == {"val_mouth_nmse"} for e in h.evaluations)
    assert h.points[-1][0] >= h.evaluations[-1]["step"]
