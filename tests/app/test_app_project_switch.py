"""Opening another project leaves nothing of the previous one on screen, and the Dub page chooses
the lower face the project's own measurements found best (and says so)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

from core.lowerface.advice import measured_best


def _figures(sample: float, network: float) -> dict:
    return {"sample": {"psnr_mouth": sample, "mouth_sharpness": 0.95},
            "draft": {"psnr_mouth": 40.0, "mouth_sharpness": 0.3},  # starts from the truth: never advised
            "reference": {"psnr_mouth": network, "mouth_sharpness": 0.2},
            "baseline": {"psnr_mouth": 20.0}}


def test_advice_prefers_accurate_and_sharp_and_never_the_draft():
    assert measured_best(_figures(32.0, 31.0)).variant == "sample"
    # the network is more accurate but soft (0.2 of the video's sharpness): still the sample
    assert measured_best(_figures(32.0, 33.0)).variant == "sample"
    assert measured_best({"draft": {"psnr_mouth": 40.0}}) is None
    soft = {"sample": {"psnr_mouth": 30.0, "mouth_sharpness": 0.4}, "paper": {"psnr_mouth": 31.0, "mouth_sharpness": 0.3}}
    assert measured_best(soft).variant == "paper"  # none sharp enough: the most accurate
    assert "mouth PSNR 32.0 dB" in measured_best(_figures(32.0, 31.0)).describe()


def _with_evaluation(project, figures) -> None:
    folder = project.path("evaluation")
    folder.mkdir(exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps({"segment": [100, 124], "frames": 24, "figures": figures}))
    project.manifest.setdefault("reports", {})["evaluation"] = {
        "figures": figures, "segment": [100, 124],
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    project.save()


def test_opening_another_project_resets_every_page(window, prepared_project, tmp_path):
    from core.project import Project

    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(prepared_project.root, first)
    shutil.copytree(prepared_project.root, second)
    _with_evaluation(Project.open(first), {"sample": {"psnr_mouth": 32.5, "mouth_sharpness": 0.97},
                                           "draft": {"psnr_mouth": 37.0, "mouth_sharpness": 0.3}})
    window.start_page.open_project(first)
    dub, quality = window.dub_page, window.quality_page
    assert dub.renderer_choice.currentData() == "sample"
    assert "Measured best for this project: Own mouth" in dub.advice_label.text()
    assert "Measured best" in quality.status.text()
    # what a finished export and a run of Measure quality leave on screen
    dub.renderer_choice.setCurrentIndex(dub.renderer_choice.findData("draft"))
    dub.last_export = first / "export.mp4"
    dub.reveal_button.setEnabled(True)
    dub.export_progress.show_message("Wrote export.mp4", done=True)
    dub.script.show_message("5.3 s of speech", done=True)
    dub.load_audio(prepared_project.source_video)
    quality.progress.show_message("Quality measured.", done=True)

    window.start_page.open_project(second)
    assert dub.last_export is None and not dub.reveal_button.isEnabled()
    assert dub.export_progress.stage.text() == "" and dub.script.status() == ""
    assert dub.audio is None and dub.preview is None and "No audio loaded" in dub.audio_label.text()
    assert dub.advice_label.text() == "" and dub.renderer_choice.currentData() == "sample"
    assert quality.progress.stage.text() == "" and quality.table.rowCount() == 0
    assert "Train the audio model" in quality.status.text()  # the second project has no audio model yet
