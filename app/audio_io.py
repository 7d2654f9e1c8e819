"""Microphone recording and audio playback through sounddevice (PortAudio), imported lazily.

These machines may have no audio devices at all: every function reports that plainly (an empty
device list, False, a DubError with advice) instead of failing. The PortAudio callback runs in its
own thread; it only appends samples and stores a level, which the GUI polls with a timer.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import DubError

log = logging.getLogger(__name__)


def sounddevice():
    """The sounddevice module; raises DubError when PortAudio is not installed. Tests replace this."""
    try:
        import sounddevice as sd
    except (ImportError, OSError) as exc:
        raise DubError("Sound is not available: the PortAudio library is missing "
                       f"({exc}). Install libportaudio2, or load an audio file instead.") from exc
    return sd


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    rate: int


def input_devices() -> list[InputDevice]:
    """The microphones on this machine (empty when there are none or no sound system)."""
    try:
        sd = sounddevice()
        devices = sd.query_devices()
    except Exception as exc:  # noqa: BLE001 (any PortAudio failure means: no usable device)
        log.info("no audio input devices: %s", exc)
        return []
    return [InputDevice(i, str(d["name"]), int(d.get("default_samplerate") or 48000))
            for i, d in enumerate(devices) if int(d.get("max_input_channels", 0)) > 0]


def has_output_device() -> bool:
    try:
        sd = sounddevice()
        return any(int(d.get("max_output_channels", 0)) > 0 for d in sd.query_devices())
    except Exception:  # noqa: BLE001
        return False


class Recorder:
    """Records mono float32 from one input device until ``stop()``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._stream = None
        self.rate = 0
        self.level = 0.0  # RMS of the last block, read by the GUI's timer
        self.started = 0.0

    @property
    def recording(self) -> bool:
        return self._stream is not None

    @property
    def seconds(self) -> float:
        with self._lock:
            return sum(len(c) for c in self._chunks) / self.rate if self.rate else 0.0

    def start(self, device: InputDevice) -> None:
        sd = sounddevice()
        self._chunks, self.level, self.rate = [], 0.0, device.rate
        try:
            stream = sd.InputStream(device=device.index, channels=1, samplerate=device.rate,
                                    dtype="float32", callback=self._callback)
            stream.start()
        except Exception as exc:  # noqa: BLE001 (PortAudio raises its own error types)
            raise DubError(f"The microphone '{device.name}' could not be opened ({exc}). Check that "
                           "no other program uses it, or pick another input device.") from exc
        self._stream = stream
        self.started = time.monotonic()

    def _callback(self, indata, frames, time_info, status) -> None:  # PortAudio thread
        block = np.array(indata[:, 0], dtype=np.float32, copy=True)
        with self._lock:
            self._chunks.append(block)
        self.level = float(np.sqrt(np.mean(block ** 2))) if len(block) else 0.0

    def stop(self) -> np.ndarray:
        """Stop and return the recording: float32 (n,) mono at ``self.rate``."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()
        with self._lock:
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
            self._chunks = []
        self.level = 0.0
        return samples


def save_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write mono float32 samples as 16-bit WAV, atomically."""
    import soundfile

    from core.atomic import atomic_path

    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), np.clip(samples, -1, 1), rate, format="WAV", subtype="PCM_16")
    return path


class Player:
    """Plays mono float32 audio on the default output device, if there is one."""

    def __init__(self) -> None:
        self.available = has_output_device()

    def play(self, samples: np.ndarray, rate: int) -> bool:
        """Start playing; False when there is no output device (the caller plays silently)."""
        if not self.available or len(samples) == 0:
            return False
        try:
            sounddevice().play(samples, rate)
        except Exception as exc:  # noqa: BLE001
            log.warning("audio playback failed: %s", exc)
            self.available = False
            return False
        return True

    def stop(self) -> None:
        if self.available:
            try:
                sounddevice().stop()
            except Exception as exc:  # noqa: BLE001
                log.warning("stopping playback failed: %s", exc)
