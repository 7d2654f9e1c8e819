"""The project folder and its manifest."""

from __future__ import annotations

import json
import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import atomic
from core.errors import MediaError, ProjectError
from core.project import MANIFEST_NAME, Project


@pytest.fixture
def project(tmp_path, short_video):
    return Project.create(tmp_path / "actor", short_video, consent=True)


def test_create_records_source_fingerprint_and_consent(project, short_video):
    data = json.loads((project.root / MANIFEST_NAME).read_text())
    assert data["version"] == 1
    assert data["source"]["path"] == str(short_video.resolve())
    assert data["source"]["fingerprint"]["size"] == short_video.stat().st_size
    assert data["source"]["info"]["frame_count"] == 122
    assert data["consent"]["confirmed"] is True
    assert not project.source_changed()


def test_create_needs_consent(tmp_path, short_video):
    with pytest.raises(ProjectError, match="right to use"):
        Project.create(tmp_path / "p", short_video, consent=False)
    assert not (tmp_path / "p").exists()


def test_create_refuses_audio_only_and_existing_project(tmp_path, project, speech_wav, short_video):
    with pytest.raises(MediaError, match="no video"):
        Project.create(tmp_path / "audio", speech_wav, consent=True)
    with pytest.raises(ProjectError, match="already holds a project"):
        Project.create(project.root, short_video, consent=True)


def test_stage_keys_invalidate_what_follows(project):
    project.set_stage("tracking", "done", settings={"crop": 256})
    project.set_stage("fitting", "done", settings={"k": 32}, inputs=("tracking",))
    reopened = Project.open(project.root)
    assert reopened.is_current("tracking") and reopened.is_current("fitting")
    reopened.set_stage("tracking", "done", settings={"crop": 128})
    assert reopened.is_current("tracking")
    assert not reopened.is_current("fitting")  # it read the old tracking


def test_crash_during_manifest_write_keeps_the_previous_manifest(project, monkeypatch):
    project.set_stage("tracking", "done", settings={"crop": 256})

    def crash(*args, **kwargs):
        raise OSError("simulated power cut in the middle of the write")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(ProjectError, match="previous save is intact"):
        project.set_stage("fitting", "done", settings={"k": 1})
    monkeypatch.undo()
    reopened = Project.open(project.root)
    assert reopened.stage("tracking").status == "done"
    assert reopened.stage("fitting").status == "pending"
    assert [p.name for p in project.root.iterdir() if p.name.endswith(".part")] == []


def test_damaged_manifest_falls_back_to_the_backup(project):
    project.set_stage("tracking", "done", settings={"crop": 256})
    project.set_stage("fitting", "running", settings={"k": 1})
    (project.root / MANIFEST_NAME).write_text('{"format": "portrait-dub pro')  # torn by another tool
    reopened = Project.open(project.root)
    assert reopened.stage("tracking").status == "done"


@pytest.mark.parametrize("content, message", [
    ("{not json", "damaged"),
    ('{"format": "something else", "version": 1}', "not a portrait-dub project"),
    ('{"format": "portrait-dub project", "version": 99, "source": {}, "stages": {}}', "newer version"),
    ('{"format": "portrait-dub project", "version": 0, "source": {}, "stages": {}}', "old format"),
    ('{"format": "portrait-dub project", "version": 1, "source": {}, "stages": {"x": {"status": "??"}}}',
     "damaged"),
])
def test_bad_manifests_give_clear_messages(tmp_path, content, message):
    (tmp_path / MANIFEST_NAME).write_text(content)
    with pytest.raises(ProjectError, match=message):
        Project.open(tmp_path)


def test_missing_project_and_missing_source(tmp_path, project):
    with pytest.raises(ProjectError, match="no project"):
        Project.open(tmp_path)
    data = json.loads((project.root / MANIFEST_NAME).read_text())
    data["source"]["path"] = str(tmp_path / "moved.mp4")
    data["source"].pop("relative_path")  # else the video is found again there (tests/core/test_relink.py)
    (project.root / MANIFEST_NAME).write_text(json.dumps(data))
    with pytest.raises(ProjectError, match="missing"):
        Project.open(project.root).source_video


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400) | st.text(max_size=400).map(str.encode)
       | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                      lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                      max_leaves=20).map(lambda o: json.dumps(o).encode()))
def test_any_manifest_bytes_open_or_raise_project_error(tmp_path_factory, data):
    root = tmp_path_factory.mktemp("fuzz")
    (root / MANIFEST_NAME).write_bytes(data)
    try:
        Project.open(root)
    except ProjectError:
        pass


def test_atomic_write_never_leaves_partial_files(tmp_path):
    target = tmp_path / "x.json"
    atomic.write_json(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert os.listdir(tmp_path) == ["x.json"]


def test_atomic_write_gives_the_permissions_of_an_ordinary_new_file(tmp_path):
    atomic.write_bytes(tmp_path / "atomic.bin", b"x")
    (tmp_path / "plain.bin").write_bytes(b"x")
    mode = lambda name: stat.S_IMODE((tmp_path / name).stat().st_mode)  # noqa: E731
    assert mode("atomic.bin") == mode("plain.bin")  # not mkstemp's owner-only 0600


def test_stale_parts_of_a_killed_writer_are_removed(tmp_path):
    (tmp_path / ".last.pt.abc123.pt.part").write_bytes(b"half")
    (tmp_path / "last.pt").write_bytes(b"whole")
    assert atomic.remove_stale_parts(tmp_path) == [".last.pt.abc123.pt.part"]
    assert os.listdir(tmp_path) == ["last.pt"]


def test_atomic_write_works_where_permissions_cannot_be_changed(tmp_path, monkeypatch):
    def refuse(*_):
        raise PermissionError("operation not permitted")  # as chmod on a FAT USB stick

    monkeypatch.setattr(atomic.os, "chmod", refuse)
    atomic.write_bytes(tmp_path / "out.bin", b"data")
    assert (tmp_path / "out.bin").read_bytes() == b"data"
