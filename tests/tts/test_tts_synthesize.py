"""Speech from text with the built-in Piper voice: length, rate, pauses, progress, errors, WAV."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import soundfile

from core.errors import DubError, JobCancelled
from core.jobs import CancelToken, run_job
from core.media import load_audio
from core.tts import TtsConfig, speech_for_dub, synthesize, synthesize_job
from core.tts.speech import PEAK_LEVEL

SHORT_SCRIPT = "Good morning, everyone. Today we will look at how light travels through glass."
PARAGRAPHS = [
    "Welcome back. We start with a review.",
    "Light slows down in glass. Its path bends.",
    "Next week we measure it. Bring a pencil.",
]


def _rms_db(frames: np.ndarray) -> np.ndarray:
    return 20 * np.log10(np.sqrt(np.mean(frames ** 2, axis=-1)) + 1e-9)


@pytest.fixture(scope="module")
def short_speech():
    return synthesize(SHORT_SCRIPT)


def test_short_script_gives_speech_of_plausible_length(short_speech):
    speech = short_speech
    config = TtsConfig()
    assert speech.sample_rate == 22050  # the built-in voice's rate, from its .onnx.json
    assert speech.samples.dtype == np.float32 and speech.samples.ndim == 1
    assert abs(float(np.max(np.abs(speech.samples))) - PEAK_LEVEL) < 1e-5
    words = len(speech.spoken_text.split())
    assert words == 13
    talking_s = speech.duration_s - 2 * config.padding_s
    # conversational English is about 2.5 words/s; 1.5-4.5 rules out truncation or stretching
    assert 1.5 <= words / talking_s <= 4.5, (words, talking_s)


def test_speech_is_voiced_inside_segments_and_silent_in_pauses(short_speech):
    speech, rate = short_speech, short_speech.sample_rate
    assert [s.text for s in speech.segments] == ["Good morning, everyone.",
                                                  "Today we will look at how light travels through glass."]
    first, second = speech.segments
    gap = speech.samples[int(round(first.end_s * rate)):int(round(second.start_s * rate))]
    assert abs(len(gap) / rate - TtsConfig().sentence_pause_s) < 0.002
    assert np.max(np.abs(gap)) == 0.0
    inside = speech.samples[int(second.start_s * rate):int(second.end_s * rate)]
    frames = inside[: len(inside) // 441 * 441].reshape(-1, 441)  # 20 ms frames
    # speech is mostly voiced: over half of the 20 ms frames within 40 dB of the loudest frame
    db = _rms_db(frames)
    assert np.mean(db > db.max() - 40) > 0.5


def test_sentence_pause_follows_the_config():
    config = TtsConfig(sentence_pause_s=1.2, padding_s=0.0)
    speech = synthesize("One two three. Four five six.", config)
    first, second = speech.segments
    assert abs((second.start_s - first.end_s) - 1.2) < 0.002
    assert first.start_s == 0.0 and abs(speech.duration_s - second.end_s) < 1e-9


def test_rate_makes_speech_slower_or_faster():
    sentence = "The quick brown fox jumps over the lazy dog."
    slow = synthesize(sentence, TtsConfig(rate=0.7, padding_s=0.0))
    fast = synthesize(sentence, TtsConfig(rate=1.4, padding_s=0.0))
    # Piper's length scale halves from slow to fast, but phoneme lengths are rounded up to whole
    # frames, so short phonemes stretch less: measured ratios 1.56-1.67 (2.0 would be exact)
    ratio = slow.duration_s / fast.duration_s
    assert 1.35 < ratio < 2.2, ratio


@pytest.mark.parametrize("text, message", [
    ("", "The script is empty"),
    ("  \n\t ", "The script is empty"),
    ("\U0001F600\U0001F389 \u2764\ufe0f", r"nothing the voice en_US-joe-medium can speak.*U\+1F600"),
    ("\u65e5\u672c\u8a9e ... !!", r"nothing the voice .* can speak.*U\+65E5"),
])
def test_text_with_nothing_to_say_is_refused(text, message):
    with pytest.raises(DubError, match=message):
        synthesize(text)


def test_skipped_characters_are_reported_first_and_kept_on_the_result():
    records = []
    speech = run_job(synthesize_job("Hello \U0001F600 there.", TtsConfig()), on_progress=records.append)
    assert "U+1F600" in records[0].message
    assert speech.skipped == ("\U0001F600",) and speech.spoken_text == "Hello there."


def test_long_script_reports_progress_per_sentence_and_adds_up():
    config = TtsConfig(padding_s=0.2, paragraph_pause_s=0.8, sentence_pause_s=0.35)
    records = []
    whole = run_job(synthesize_job("\n\n".join(PARAGRAPHS), config), on_progress=records.append)
    steps = [r.step for r in records if r.stage == "Synthesising speech"]
    assert len(whole.segments) == 6
    # one record after each sentence, and half-second heartbeats (same step) while one is spoken
    assert steps == sorted(steps) and set(range(1, 7)) <= set(steps) and max(steps) == 6
    assert all(r.total == 6 for r in records if r.stage == "Synthesising speech")
    fractions = [r.fraction for r in records]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)

    parts = [synthesize(p, dataclasses.replace(config, padding_s=0.0)) for p in PARAGRAPHS]
    expected = sum(p.duration_s for p in parts) + 2 * config.paragraph_pause_s + 2 * config.padding_s
    # the same sentences spoken again differ only by Piper's random duration noise (measured 1-2 %)
    assert abs(whole.duration_s - expected) / expected < 0.06, (whole.duration_s, expected)


def test_cancel_stops_between_sentences():
    token = CancelToken()
    seen = []

    def on_progress(record):
        seen.append(record)
        if record.stage == "Synthesising speech" and record.step == 1:
            token.cancel()

    with pytest.raises(JobCancelled):
        run_job(synthesize_job("\n\n".join(PARAGRAPHS)), on_progress=on_progress, cancel=token)
    assert max(r.step for r in seen if r.stage == "Synthesising speech") == 1


def test_speech_for_dub_is_padded_and_saves_a_wav_the_dub_can_read(tmp_path):
    speech = speech_for_dub("Hello, and welcome.", TtsConfig(padding_s=0.0))
    lead = int(0.3 * speech.sample_rate)
    assert np.max(np.abs(speech.samples[:lead])) == 0 and np.max(np.abs(speech.samples[-lead:])) == 0
    path = speech.save_wav(tmp_path / "script.wav")
    written, rate = soundfile.read(path, dtype="float32")
    assert rate == speech.sample_rate and len(written) == len(speech.samples)
    assert np.max(np.abs(written - speech.samples)) <= 1.5 / 32767  # 16-bit rounding
    assert [p.name for p in tmp_path.iterdir()] == ["script.wav"]  # no temporary file left
    at_16k = load_audio(path, 16000)  # what the dub job reads
    assert abs(len(at_16k) / 16000 - speech.duration_s) < 0.01


def test_progress_keeps_coming_while_a_long_sentence_is_spoken(monkeypatch):
    # one 190-character sentence is one Piper call (a few seconds here); the job must not go
    # quiet. A 20 ms heartbeat keeps the test meaningful on machines much faster than this one.
    monkeypatch.setattr("core.tts.speech._HEARTBEAT_S", 0.02)
    sentence = ("Another paper, on Brownian motion, convinced sceptics that atoms exist, and the third "
                "introduced special relativity, which changed how we think about space and time.")
    records = []
    run_job(synthesize_job(sentence), on_progress=records.append)
    heartbeats = [r for r in records if r.stage == "Synthesising speech" and r.step == 0]
    assert heartbeats and heartbeats[0].message == "Speaking sentence 1 of 1"
