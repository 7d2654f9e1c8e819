"""Script -> speech: normalise, clean, split, synthesise chunk by chunk with Piper, join with pauses."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from core.atomic import atomic_path
from core.errors import DubError
from core.jobs import Job, Progress, ProgressClock, run_job
from core.tts.clean import clean_for_voice, has_words
from core.tts.config import TtsConfig
from core.tts.normalize import normalize_english, normalize_typography
from core.tts.segment import split_script
from core.tts.voices import Voice, VoiceError, load_piper_voice, resolve_voice

log = logging.getLogger(__name__)
T = TypeVar("T")

PEAK_LEVEL = 0.9
DUB_PADDING_S = 0.3
_SILENCE_FRACTION = 0.01  # of the chunk's peak, -40 dB: below this the voice is silent
_TRIM_MARGIN_S = 0.04  # kept around the speech so soft consonants at the edges survive
_HEARTBEAT_S = 0.5
# Piper cannot report progress inside one call (a long sentence takes seconds on a busy CPU), so
# calls run on this thread while the job keeps yielding; one thread: jobs take turns.
_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tts")


@dataclass(frozen=True)
class SpeechSegment:
    """Where one chunk of the spoken text lies in the speech, in seconds."""

    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True, eq=False)
class Speech:
    """Synthesised speech.

    samples: float32 numpy array, shape (n,), mono, in [-1, 1], peak PEAK_LEVEL.
    sample_rate: the voice's rate in Hz (22050 for the built-in voice).
    text: the script as given; spoken_text: what the voice read after normalisation and cleaning.
    segments: one per synthesised chunk, in order. skipped: characters dropped from the script.
    """

    samples: np.ndarray
    sample_rate: int
    text: str
    spoken_text: str
    voice: str
    segments: tuple[SpeechSegment, ...]
    skipped: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate

    def save_wav(self, path: Path | str) -> Path:
        """Write 16-bit PCM mono WAV atomically; returns the path."""
        import soundfile  # lazy: only when a script is saved

        path = Path(path)
        with atomic_path(path) as tmp:
            soundfile.write(tmp, self.samples, self.sample_rate, subtype="PCM_16", format="WAV")
        return path

    def describe(self) -> str:
        words = len(self.spoken_text.split())
        note = f"; skipped {len(self.skipped)} unspeakable characters" if self.skipped else ""
        return (f"Synthesised {self.duration_s:.2f} s of speech ({words} words, "
                f"{len(self.segments)} pieces) with voice {self.voice} at {self.sample_rate} Hz{note}")


def prepare_text(text: str, voice: Voice) -> tuple[str, tuple[str, ...], str | None]:
    """The text ``voice`` will read, the dropped characters, and a warning naming them (or None).

    Raises DubError when the script is empty, or has nothing speakable once cleaned.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    if not text.strip():
        raise DubError("The script is empty: type or load the words to speak.")
    english = voice.language.lower().startswith("en")
    normalised = normalize_english(text) if english else normalize_typography(text)
    cleaned = clean_for_voice(normalised, voice.language)
    warning = cleaned.dropped_message()
    if not has_words(cleaned.text):
        detail = f" ({warning})" if warning else ""
        raise DubError(f"The script has nothing the voice {voice.name} can speak{detail}. "
                       f"Type words in its language ({voice.language}).")
    if warning:
        log.warning(warning)
    return cleaned.text, cleaned.dropped, warning


def synthesize_job(text: str, config: TtsConfig = TtsConfig()) -> Job[Speech]:
    """Speak ``text`` with the voice of ``config``; yields Progress after each chunk (sentence)
    and every half second while one is being synthesised, so a cancel is seen within 0.5 s.

    The first Progress carries, as its message, the warning about skipped characters if any.
    Raises DubError for an empty or unspeakable script and VoiceError (a DubError) for a voice
    that is unknown, missing or broken. Runs on the CPU (ONNX Runtime).
    """
    voice = resolve_voice(config.voice, config.voices_folder)
    spoken, skipped, warning = prepare_text(text, voice)
    chunks = split_script(spoken, config.max_chunk_chars)
    loading = Progress(fraction=0.0, stage="Loading voice", message=warning)
    yield loading
    piper = yield from _in_background(partial(load_piper_voice, voice), lambda: loading)
    synthesis = _synthesis_config(piper, voice, config)

    rate = voice.sample_rate
    clock = ProgressClock("Synthesising speech", total=len(chunks), span=(0.05, 1.0))
    pieces: list[np.ndarray] = [_silence(config.padding_s, rate)]
    segments: list[SpeechSegment] = []
    position = len(pieces[0])
    for i, chunk in enumerate(chunks):
        audio = yield from _in_background(
            partial(_speak_chunk, piper, voice, chunk.text, synthesis, config.clause_pause_s),
            partial(clock.step, i, message=f"Speaking sentence {i + 1} of {len(chunks)}"))
        if audio.size == 0:
            log.warning("The voice said nothing for %r", chunk.text)
        else:
            pause = _silence(config.pause_s(chunk.pause_before) if segments else 0.0, rate)
            pieces += [pause, audio]
            start = position + len(pause)
            position = start + len(audio)
            segments.append(SpeechSegment(chunk.text, start / rate, position / rate))
        yield clock.step(i + 1, message=chunk.text[:60])
    if not segments:
        raise DubError(f"The voice {voice.name} produced no sound for this script. Check the text "
                       f"is in its language ({voice.language}).")
    pieces.append(_silence(config.padding_s, rate))
    samples = np.concatenate(pieces).astype(np.float32)
    peak = float(np.max(np.abs(samples)))
    if peak > 0:
        samples *= PEAK_LEVEL / peak
    return Speech(samples=samples, sample_rate=rate, text=text, spoken_text=spoken,
                  voice=voice.name, segments=tuple(segments), skipped=skipped)


def synthesize(text: str, config: TtsConfig = TtsConfig()) -> Speech:
    """synthesize_job without progress: returns the Speech (see synthesize_job for the errors)."""
    return run_job(synthesize_job(text, config))


def speech_for_dub_job(text: str, config: TtsConfig = TtsConfig()) -> Job[Speech]:
    """synthesize_job with at least DUB_PADDING_S of silence at both ends, so the dubbed face
    starts and ends with a closed mouth. Write it with Speech.save_wav and dub that file."""
    padded = dataclasses.replace(config, padding_s=max(config.padding_s, DUB_PADDING_S))
    return (yield from synthesize_job(text, padded))


def speech_for_dub(text: str, config: TtsConfig = TtsConfig()) -> Speech:
    """speech_for_dub_job without progress."""
    return run_job(speech_for_dub_job(text, config))


def _in_background(work: Callable[[], T], heartbeat: Callable[[], Progress]) -> Job[T]:
    """Run ``work`` on the TTS thread, yielding ``heartbeat()`` every _HEARTBEAT_S until it ends.

    If the job is closed meanwhile, the call finishes on its thread and its result is dropped.
    """
    future: Future = _WORKER.submit(work)
    try:
        while not wait([future], timeout=_HEARTBEAT_S).done:
            yield heartbeat()
        return future.result()
    finally:
        future.cancel()


def _synthesis_config(piper, voice: Voice, config: TtsConfig):
    from piper import SynthesisConfig  # lazy: the voice engine loads only to speak

    if config.speaker is not None and config.speaker >= voice.speakers:
        raise VoiceError(f"The voice {voice.name} has {voice.speakers} speaker(s); speaker "
                         f"{config.speaker} does not exist. Choose a speaker from 0 to {voice.speakers - 1}.")
    # volume 0.5 keeps Piper's clip to [-1, 1] from cutting peaks; the whole speech is
    # normalised once at the end so all sentences keep the same loudness.
    return SynthesisConfig(speaker_id=config.speaker, length_scale=piper.config.length_scale / config.rate,
                           normalize_audio=False, volume=0.5)


def _speak_chunk(piper, voice: Voice, text: str, synthesis, clause_pause_s: float) -> np.ndarray:
    """float32 (n,) speech for one chunk, its silent ends trimmed; espeak-ng may cut the chunk
    into several sentences itself, which are joined with the clause pause."""
    try:
        parts = [_trim(c.audio_float_array, voice.sample_rate) for c in piper.synthesize(text, synthesis)]
    except Exception as err:  # espeak-ng and ONNX Runtime raise their own exception types
        raise VoiceError(f"The voice {voice.name} ({voice.model_path}) failed on '{text[:60]}': "
                         f"{type(err).__name__}: {str(err)[:200]}. Try another voice.") from err
    parts = [p for p in parts if p.size]
    if not parts:
        return np.zeros(0, np.float32)
    gap = _silence(clause_pause_s, voice.sample_rate)
    joined = [parts[0]]
    for part in parts[1:]:
        joined += [gap, part]
    return np.concatenate(joined).astype(np.float32)


def _trim(audio: np.ndarray, rate: int) -> np.ndarray:
    audio = np.asarray(audio, np.float32).reshape(-1)
    if audio.size == 0:
        return audio
    peak = float(np.max(np.abs(audio)))
    if peak < 1e-4:
        return np.zeros(0, np.float32)
    loud = np.flatnonzero(np.abs(audio) > _SILENCE_FRACTION * peak)
    margin = int(_TRIM_MARGIN_S * rate)
    return audio[max(0, loud[0] - margin): loud[-1] + margin + 1]


def _silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), np.float32)
