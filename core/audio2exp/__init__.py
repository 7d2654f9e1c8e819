"""Audio to expression (paper 3.2, without AT-net): speech features (registry.py: MFCC, Whisper,
phoneme evidence) at the video's frame times,
the paper's linear network and an improved non-linear one, trained on the target's own speech.

    train_audio_job(project, AudioTrainConfig()) -> Job[AudioTrainResult]
    predict_expressions(project, audio, n_frames=None) -> float32 (T, K)
    Audio2Expression.load(project).predict(samples) / .mouth_opening(expression)
"""

from core.audio2exp import variants as _variants  # noqa: F401  (registers the built-in speech features)
from core.audio2exp.features import AudioFeatureConfig, FrameFeatures, frame_features, window_rows
from core.audio2exp.model import (META_FILE, MODEL_FILE, Audio2Expression, PostProcess, load_audio_model,
                                  predict_expressions)
from core.audio2exp.networks import MODELS, NetworkSpec, build_network
from core.audio2exp.train import STAGE, AudioTrainConfig, AudioTrainResult, ModelScore, train_audio_job

__all__ = [
    "AudioFeatureConfig", "FrameFeatures", "frame_features", "window_rows",
    "Audio2Expression", "PostProcess", "load_audio_model", "predict_expressions", "MODEL_FILE", "META_FILE",
    "MODELS", "NetworkSpec", "build_network",
    "STAGE", "AudioTrainConfig", "AudioTrainResult", "ModelScore", "train_audio_job",
]
