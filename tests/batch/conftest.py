"""Fixtures of the batch tests: two projects made from the shared trained project, short speech."""

from __future__ import annotations


import pytest

from tests.conftest import copy_project


def cut_speech(source, target, seconds: float, start_s: float = 0.0):
    """A short WAV from a real speech recording (the dubs stay short; the speech stays real)."""
    import soundfile as sf

    data, rate = sf.read(str(source), dtype="float32", always_2d=True)
    a = int(start_s * rate)
    sf.write(str(target), data[a:a + int(seconds * rate)], rate)
    return target


@pytest.fixture(scope="module")
def two_projects(tmp_path_factory, trained_project):
    """Two copies of the trained 5 s project (audio model and a barely trained renderer)."""
    base = tmp_path_factory.mktemp("batch-projects")
    return copy_project(trained_project, base / "anna"), copy_project(trained_project, base / "bea")


@pytest.fixture(scope="module")
def short_speech(tmp_path_factory, speech_wav):
    """Three different 1.2 s speech clips."""
    folder = tmp_path_factory.mktemp("speech")
    return [cut_speech(speech_wav, folder / f"speech{i}.wav", 1.2, start_s=1.5 * i) for i in range(3)]


def frames_and_duration(path):
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames, float(container.duration) / 1e6


def no_parts(folder) -> bool:
    from pathlib import Path

    return not list(Path(folder).glob(".*.part"))


def write_csv(path, rows: list[dict]) -> None:
    import csv

    keys = sorted({k for r in rows for k in r}, key=["kind", "project", "video", "audio", "text", "voice",
                                                     "rate", "out", "minutes", "draft", "device"].index)
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)



