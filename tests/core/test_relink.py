"""A moved video is found again: by itself when it sits beside the project or at the same relative
place, through `main.py relink` otherwise; another video is refused."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from core.errors import ProjectError
from core.project import Project
from tests.conftest import REPO


@pytest.fixture
def moved(tmp_path, short_video):
    """A project in work/face5.portrait-dub made from work/media/clip.mp4."""
    media = tmp_path / "work" / "media"
    media.mkdir(parents=True)
    video = media / "clip.mp4"
    shutil.copy(short_video, video)
    project = Project.create(tmp_path / "work" / "face5.portrait-dub", video, consent=True)
    return tmp_path, video, project


def test_moving_project_and_video_together_relinks_by_the_relative_path(moved):
    tmp, video, project = moved
    shutil.move(tmp / "work", tmp / "elsewhere")  # the folder holding both was renamed
    reopened = Project.open(tmp / "elsewhere" / "face5.portrait-dub")
    assert not reopened.source_missing
    assert reopened.source_video == (tmp / "elsewhere" / "media" / "clip.mp4").resolve()
    assert reopened.relinked_from == str(video)
    assert Project.open(reopened.root).relinked_from is None  # saved: the next open finds it at once


def test_a_video_beside_the_project_folder_is_found(moved):
    tmp, video, project = moved
    beside = project.root.parent / "clip.mp4"
    shutil.move(video, beside)
    reopened = Project.open(project.root)
    assert reopened.source_video == beside.resolve()


def test_a_missing_video_is_said_and_relink_points_at_it(moved, tmp_path):
    tmp, video, project = moved
    far = tmp / "other-drive" / "renamed.mp4"
    far.parent.mkdir()
    shutil.move(video, far)
    reopened = Project.open(project.root)
    assert reopened.source_missing  # not found by itself: not beside, not at the old relative place
    with pytest.raises(ProjectError, match="Locate video"):
        reopened.source_video
    out = subprocess.run([sys.executable, "main.py", "relink", "--project", str(project.root), str(far)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "renamed.mp4" in out.stdout
    assert Project.open(project.root).source_video == far.resolve()


def test_another_video_is_refused(moved, vfr_video, tmp_path):
    tmp, video, project = moved
    video.unlink()
    wrong = project.root.parent / "clip.mp4"  # the right name in the right place, but not the video
    shutil.copy(vfr_video, wrong)
    reopened = Project.open(project.root)
    assert reopened.source_missing  # a same-named other file is not taken for it
    with pytest.raises(ProjectError, match="not the video this project was made from"):
        reopened.relink_source(wrong)
    out = subprocess.run([sys.executable, "main.py", "relink", "--project", str(project.root), str(wrong)],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "not the video" in out.stderr and "Traceback" not in out.stderr
    assert Project.open(project.root).manifest["source"]["path"] == str(video)  # unchanged


def test_a_same_size_copy_with_other_bytes_is_refused(moved, short_video):
    """An edited copy of the same size is not the video either: the contents are compared, not just
    the size (its last byte changed; the fingerprint hashes the first and last MiB)."""
    tmp, video, project = moved
    video.unlink()
    altered = project.root.parent / "clip.mp4"  # where the video would be found by itself
    data = bytearray(short_video.read_bytes())
    data[-1] ^= 0xFF
    altered.write_bytes(bytes(data))
    assert altered.stat().st_size == short_video.stat().st_size
    reopened = Project.open(project.root)
    assert reopened.source_missing
    with pytest.raises(ProjectError, match="not the video this project was made from .its contents differ"):
        reopened.relink_source(altered)
    assert Project.open(project.root).manifest["source"]["path"] == str(video)  # unchanged
