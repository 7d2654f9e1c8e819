"""Media input and output on PyAV: probe, stream video frames, decode audio, write MP4.

Frames are numpy uint8 RGB HxWx3, already rotated upright; time is a frame index on a constant
frame-rate grid at the video's own rate (variable frame-rate sources are resampled onto that grid,
so frame i is shown at i / fps, which keeps audio in sync).
"""

from core.media.audio import load_audio, stream_audio
from core.media.probe import MediaInfo, probe
from core.media.video import VideoReader
from core.media.writer import VideoWriter

__all__ = ["MediaInfo", "probe", "VideoReader", "load_audio", "stream_audio", "VideoWriter"]
