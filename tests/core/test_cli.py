"""The command line: help, info, clear errors."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def run(*args):
    return subprocess.run([sys.executable, "main.py", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def test_help_lists_every_command():
    out = run("--help")
    assert out.returncode == 0
    for command in ("info", "prepare", "train-audio", "train-renderer", "dub", "run", "evaluate", "relink", "benchmark"):
        assert command in out.stdout


def test_info_prints_the_facts(vfr_video):
    out = run("info", vfr_video)
    assert out.returncode == 0
    assert "700x700" in out.stdout and "30.000 fps" in out.stdout and "44100 Hz" in out.stdout
    assert "variable" in out.stdout


def test_bad_file_is_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "holiday.mp4"
    bad.write_text("this is not a video")
    out = run("info", bad)
    assert out.returncode == 2
    assert "holiday.mp4" in out.stderr and "Traceback" not in out.stderr


def test_prepare_without_consent_asks_for_it(tmp_path, short_video):
    out = run("prepare", short_video, "--project", tmp_path / "p")
    assert out.returncode == 2
    assert "--i-have-consent" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "p" / "project.json").exists()


def test_budgets_must_be_positive_numbers(tmp_path):
    for args, said in ((("--minutes", "-5"), "must be above zero"), (("--steps", "ten"), "is not a number"),
                       (("--checkpoint-minutes", "0"), "must be above zero")):
        out = run("train-renderer", "--project", tmp_path, *args)
        assert out.returncode == 2
        assert said in out.stderr and "Traceback" not in out.stderr


def test_progress_without_a_terminal_prints_a_line_per_tenth_not_per_frame():
    import io

    from core.jobs import Progress
    from main import TerminalProgress

    log = io.StringIO()
    bar = TerminalProgress(log)
    for i in range(1, 1001):
        bar(Progress(i / 1000, "Tracking the face", step=i, total=1000, message=f"{i} of {i} frames with a face"))
    lines = log.getvalue().splitlines()
    assert 10 <= len(lines) <= 11
    assert lines[-1].startswith("Tracking the face") and "1000 of 1000" in lines[-1]


def test_a_bad_crop_size_is_a_usage_error(tmp_path, short_video):
    out = run("prepare", short_video, "--project", tmp_path / "p", "--crop-size", "huge")
    assert out.returncode == 2 and "auto" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "p").exists()
