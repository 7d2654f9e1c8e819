"""The Dub page's export queue: several exports run one after another in the background, each listed
with its progress and result, and the queue survives closing the app."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QThreadPool

import app.dialogs
import app.pages.dub_export
import core.batch.execute
from app_fakes import fake_export, FakePreview
from app.widgets.export_queue import ExportQueuePanel
from core.batch.queue import ExportQueue


@pytest.fixture
def fake_dubs(monkeypatch):
    """Exports without face synthesis (app_fakes.fake_export), run by the real queue and batch core."""
    import app.jobs

    monkeypatch.setattr(app.jobs, "dub_preview", FakePreview)
    monkeypatch.setattr(core.batch.execute, "build_job",
                        lambda spec, project: fake_export(project, spec.audio, spec.out, spec.renderer))


@pytest.fixture
def short_clips(tmp_path, shared_data):
    """Two different 1 s stretches of real speech (short exports keep the test fast)."""
    import soundfile as sf

    data, rate = sf.read(str(shared_data / "audio/videoretalking__audio_2.wav"), dtype="float32")
    paths = []
    for i in range(2):
        path = tmp_path / f"take{i + 1}.wav"
        sf.write(str(path), data[int((0.5 + 1.5 * i) * rate):int((1.5 + 1.5 * i) * rate)], rate)
        paths.append(path)
    return paths


def gated_export(gate, started):
    """An export that waits at every frame until ``gate`` is set (so it is surely running)."""
    from core.jobs import ProgressClock

    def job(spec, project):
        clock = ProgressClock("Dubbing (gated)", 10)
        started.set()
        for i in range(10):
            gate.wait(0.5)
            yield clock.step(i + 1)
        raise AssertionError("the gate was never opened")
    return job


def frames(path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def open_project(window, root):
    window.session.open_project(root)
    window.actions_by_id["page_dub"].trigger()
    return window.dub_page


def test_two_exports_queue_up_and_run_one_after_another(window, qtbot, tmp_path, short_video, fake_dubs,
                                                       monkeypatch, short_clips):
    from core.project import Project

    project = Project.create(tmp_path / "project", short_video, consent=True)
    page = open_project(window, project.root)
    outs = iter([tmp_path / "first.mp4", tmp_path / "second.mp4"])
    monkeypatch.setattr(app.pages.dub_export, "ask_save_path", lambda parent, suggested: next(outs))
    assert not page.queue_button.isEnabled()  # no audio yet
    page.load_audio(short_clips[0])
    qtbot.mouseClick(page.queue_button, Qt.MouseButton.LeftButton)
    page.load_audio(short_clips[1])
    qtbot.mouseClick(page.queue_button, Qt.MouseButton.LeftButton)
    panel = page.export_queue
    # Adding only adds (the README: *Run queue* starts it)
    assert panel.list.topLevelItemCount() == 2 and not panel.running
    assert [e.status for e in panel.entries] == ["queued", "queued"]
    assert panel.run_button.text() == "Run queue" and panel.run_button.isEnabled()
    assert "Press Run queue" in panel.summary.text()
    statuses = []
    panel.changed.connect(lambda: statuses.append([e.status for e in panel.entries]))
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.running and panel.run_button.text() == "Stop queue"
    qtbot.waitUntil(lambda: not panel.running, timeout=300000)
    assert [e.status for e in panel.entries] == ["done", "done"]
    assert ["done", "running"] in statuses  # one after the other, never both at once
    assert not any(s == ["running", "running"] for s in statuses)
    assert frames(tmp_path / "first.mp4") == 25 and frames(tmp_path / "second.mp4") == 25  # 1 s each
    assert [panel.list.topLevelItem(i).text(2).split(" (")[0] for i in range(2)] == ["done", "done"]
    assert panel.summary.text() == "2 exported, 0 waiting"
    window.grab().save(str(tmp_path / "queue.png"))


def test_the_queue_survives_closing_the_app(qtbot, app_settings, tmp_path, short_video, fake_dubs, monkeypatch,
                                           short_clips):
    import threading

    from app.main_window import MainWindow
    from core.project import Project

    gate, started = threading.Event(), threading.Event()
    monkeypatch.setattr(core.batch.execute, "build_job", gated_export(gate, started))
    monkeypatch.setattr(app.dialogs, "ask", lambda *a, **k: True)
    project = Project.create(tmp_path / "project", short_video, consent=True)
    win = MainWindow(app_settings)
    qtbot.addWidget(win)
    win.show()
    page = open_project(win, project.root)
    panel = page.export_queue
    panel.add(tmp_path / "later.mp4", audio=short_clips[0])
    assert not panel.running
    panel.start()
    qtbot.waitUntil(started.is_set, timeout=60000)
    assert [e.status for e in ExportQueue(project.root).entries()] == ["running"]
    win.close()  # cancels the queue job; its export goes back to the queue
    QThreadPool.globalInstance().waitForDone(30000)
    entries = ExportQueue(project.root).entries()
    assert [e.status for e in entries] == ["queued"] and not (tmp_path / "later.mp4").exists()
    monkeypatch.setattr(core.batch.execute, "build_job",
                        lambda spec, project: fake_export(project, spec.audio, spec.out, spec.renderer))

    again = MainWindow(app_settings)
    qtbot.addWidget(again)
    again.show()
    panel = open_project(again, project.root).export_queue
    assert panel.list.topLevelItem(0).text(2) == "waiting"
    assert "Press Run queue" in panel.summary.text() and panel.run_button.isEnabled()
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=300000)
    assert panel.entries[0].status == "done" and frames(tmp_path / "later.mp4") == 25
    again.close()
    QThreadPool.globalInstance().waitForDone(30000)
