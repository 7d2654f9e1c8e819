"""Text to speech, offline: Piper neural voices on the CPU.

    from core.tts import TtsConfig, synthesize
    speech = synthesize("Hello, I am your lecturer.", TtsConfig(rate=1.1))
    speech.save_wav(path)          # then dub that file like any recording

synthesize_job is the same as a job (Progress per sentence) for the GUI and long scripts.
"""

from core.tts.config import DEFAULT_VOICE, TtsConfig
from core.tts.normalize import normalize_english, normalize_typography
from core.tts.speech import (
    Speech,
    SpeechSegment,
    prepare_text,
    speech_for_dub,
    speech_for_dub_job,
    synthesize,
    synthesize_job,
)
from core.tts.voices import (
    Voice,
    VoiceError,
    default_voices_folder,
    list_voices,
    read_voice,
    resolve_voice,
)

__all__ = [
    "DEFAULT_VOICE", "Speech", "SpeechSegment", "TtsConfig", "Voice", "VoiceError",
    "default_voices_folder", "list_voices", "normalize_english", "normalize_typography",
    "prepare_text", "read_voice", "resolve_voice", "speech_for_dub", "speech_for_dub_job",
    "synthesize", "synthesize_job",
]
