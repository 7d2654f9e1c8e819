"""Text-to-speech settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_VOICE = "en_US-joe-medium"


@dataclass(frozen=True)
class TtsConfig:
    """How a script is spoken. Change with dataclasses.replace.

    voice: a voice name from list_voices() ('en_US-joe-medium', built in) or the path of a Piper
        .onnx file (its .onnx.json beside it).
    voices_folder: extra folder searched for voice names; None means default_voices_folder().
    rate: speaking rate; 1.0 is the voice's own pace, 1.25 a quarter faster, 0.8 slower
        (Piper's length_scale is the voice's length_scale / rate).
    sentence_pause_s / paragraph_pause_s: silence inserted between sentences / paragraphs
        (blank lines); the voice's own silence at the ends of each sentence is trimmed first.
    clause_pause_s: silence where a sentence too long to synthesise at once was cut.
    padding_s: silence before the first and after the last word.
    speaker: speaker index of a multi-speaker voice; None is the voice's default.
    max_chunk_chars: longest piece of text synthesised in one call (200 characters is about 13 s
        of speech, 1-4 s of work on 2 busy cores): progress and cancel come between pieces.
    """

    voice: str = DEFAULT_VOICE
    voices_folder: Path | None = None
    rate: float = 1.0
    sentence_pause_s: float = 0.35
    paragraph_pause_s: float = 0.8
    clause_pause_s: float = 0.15
    padding_s: float = 0.2
    speaker: int | None = None
    max_chunk_chars: int = 200

    def __post_init__(self) -> None:
        if not self.voice or not str(self.voice).strip():
            raise ValueError("voice must be a voice name or the path of a Piper .onnx file")
        if not 0.25 <= self.rate <= 4.0:
            raise ValueError(f"rate must be between 0.25 and 4 (1 is normal), got {self.rate}")
        for name in ("sentence_pause_s", "paragraph_pause_s", "clause_pause_s", "padding_s"):
            value = getattr(self, name)
            if not 0.0 <= value <= 10.0:
                raise ValueError(f"{name} must be between 0 and 10 seconds, got {value}")
        if self.max_chunk_chars < 50:
            raise ValueError(f"max_chunk_chars must be at least 50, got {self.max_chunk_chars}")
        if self.speaker is not None and self.speaker < 0:
            raise ValueError(f"speaker must be a speaker index >= 0, got {self.speaker}")

    def pause_s(self, kind: str) -> float:
        """Seconds of silence before a chunk whose pause_before is ``kind``."""
        return {"none": 0.0, "clause": self.clause_pause_s, "sentence": self.sentence_pause_s,
                "paragraph": self.paragraph_pause_s}[kind]
