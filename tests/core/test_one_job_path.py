"""One job path (core.commands): the CLI, the app, a batch row and the export queue hand the same
JobSpec to the one builder, and every default the front ends use is the stage config's own."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import pytest

import app.jobs
import core.commands
import main
from core.batch import read_rows
from core.batch.queue import ExportQueue
from core.commands import JobSpec
from core.dubbing.run_all import RunConfig
from core.lowerface import DEFAULT as DEFAULT_LOWER_FACE
from core.prepare import PrepareConfig
from core.renderer.config import DEFAULT_RENDERER, RendererTrainConfig
from core.renderer.train import budget_after
from core.tracking.track import TrackingConfig
from core.tts.config import DEFAULT_VOICE, TtsConfig


@pytest.fixture
def handed_over(monkeypatch):
    """Every JobSpec given to core.commands.build_job, from any front end (the job itself does nothing)."""
    specs = []

    def build_job(spec, project=None):
        specs.append(spec)
        yield from ()
        return "built"

    monkeypatch.setattr(core.commands, "build_job", build_job)
    return specs


@pytest.fixture
def files(tmp_path):
    project, audio, out = tmp_path / "actor", tmp_path / "line.wav", tmp_path / "dubbed.mp4"
    project.mkdir()
    audio.write_bytes(b"RIFF")
    return SimpleNamespace(project=project, audio=audio, out=out, csv=tmp_path / "jobs.csv")


def _batch_row(csv: Path, header: str, values: str) -> JobSpec:
    csv.write_text(f"{header}\n{values}\n", encoding="utf-8")
    (row,) = read_rows(csv)
    return row.spec


def test_train_renderer_from_the_cli_the_app_and_a_batch_row_is_one_spec(handed_over, files):
    assert main.main(["train-renderer", "--project", str(files.project), "--minutes", "5",
                      "--renderer", "paper"]) == 0
    next(app.jobs.train_renderer(SimpleNamespace(root=files.project), minutes=5, renderer="paper"), None)
    cli, from_app = handed_over
    row = _batch_row(files.csv, "kind,project,minutes,renderer", f"train-renderer,{files.project},5,paper")
    assert cli == from_app == row
    assert cli.minutes == 5 and cli.renderer == "paper" and cli.device == "auto"


def test_dub_and_export_from_every_front_end_is_one_spec(handed_over, files):
    assert main.main(["dub", "--project", str(files.project), "--audio", str(files.audio), "--out",
                      str(files.out), "--renderer", "sample"]) == 0
    next(app.jobs.export(SimpleNamespace(root=files.project), files.audio, files.out, renderer="sample"), None)
    cli, export = handed_over
    row = _batch_row(files.csv, "kind,project,audio,out,renderer",
                     f"dub,{files.project},{files.audio},{files.out},sample")
    queued = ExportQueue(files.project).add(files.out, audio=files.audio, renderer="sample").spec(files.project)
    assert cli == export == row == queued
    assert cli.voice == DEFAULT_VOICE and cli.rate == TtsConfig.rate


def test_the_front_ends_leave_every_default_to_the_stage_configs(handed_over, files):
    video = files.audio  # never opened: the builder is stubbed
    main.main(["prepare", str(video), "--project", str(files.project), "--i-have-consent"])
    main.main(["dub", "--project", str(files.project), "--text", "Hello.", "--out", str(files.out)])
    main.main(["run", str(video), str(files.audio), "--out", str(files.out), "--i-have-consent"])
    next(app.jobs.prepare(SimpleNamespace(root=files.project)), None)
    prepare, dub, run, app_prepare = handed_over
    assert prepare == app_prepare.replace(video=video, consent=True)
    assert prepare.backend == PrepareConfig.backend == TrackingConfig.backend
    assert dub.voice == TtsConfig.voice == DEFAULT_VOICE and dub.rate == TtsConfig.rate
    assert run.minutes is None and run.renderer is None  # RunConfig's budget, the default lower face
    assert RunConfig.minutes > 0 and DEFAULT_LOWER_FACE in core.lowerface.names()
    assert RendererTrainConfig.for_device().renderer == DEFAULT_RENDERER
    renderer_field = next(f for f in dataclasses.fields(RendererTrainConfig) if f.name == "renderer")
    assert renderer_field.default is dataclasses.MISSING  # one default: for_device's
    assert [f.default for f in dataclasses.fields(JobSpec) if f.name in ("voice", "backend", "rate")] == \
        [DEFAULT_VOICE, TtsConfig.rate, PrepareConfig.backend]


def _project(renderer_record: dict, fitting_key: str = "f1"):
    records = {"fitting": SimpleNamespace(key=fitting_key),
               "renderer": SimpleNamespace(inputs={"fitting": "f1"}, **renderer_record)}
    return SimpleNamespace(stage=records.__getitem__)


def test_renderer_minutes_are_more_training_for_every_front_end():
    trained = _project({"status": "done", "settings": {"renderer": "paper"},
                        "metrics": {"elapsed_s": 600.0, "steps": 120}})
    assert budget_after(trained, "paper", 5.0, None) == (15.0, None)
    assert budget_after(trained, "paper", None, 30) == (None, 150)
    assert budget_after(trained, "paper", None, None) == (10.0 + RendererTrainConfig.minutes, None)
    # the other network, or a face captured again, starts afresh: nothing is added
    assert budget_after(trained, "reference", 5.0, None) == (5.0, None)
    recaptured = _project({"status": "done", "settings": {"renderer": "paper"},
                           "metrics": {"elapsed_s": 600.0, "steps": 120}}, fitting_key="f2")
    assert budget_after(recaptured, "paper", 5.0, None) == (5.0, None)
    # a record from before the renderer setting existed trained the paper's network
    legacy = _project({"status": "done", "settings": {}, "metrics": {"elapsed_s": 60.0, "steps": 9}})
    assert budget_after(legacy, "paper", 1.0, None) == (2.0, None)
