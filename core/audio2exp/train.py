"""The audio-model training job: learn the target's own audio -> fitted expressions.

Paper: MSE, Adam, 10 epochs, batch 5. Here the last ``holdout`` share of the video is held out; the
epoch with the lowest held-out error is kept, the post-processing (smoothing) is chosen on the
held-out part too, and with model="auto" both networks are trained and the better one is saved.

The improved network's loss adds, on top of the MSE: a weight on the components that move the mouth
(found by the mouth-opening probe), an MSE on the mouth opening itself, and an MSE on frame-to-frame
velocities; together they fight the low-amplitude, jittery lips of a plain MSE regression.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from core.audio2exp.data import load_training_data
from core.audio2exp.features import AudioFeatureConfig
from core.audio2exp.model import META_FILE, MODEL_FILE, Audio2Expression
from core.audio2exp.networks import MODELS
from core.audio2exp.normaliser import fit_normaliser
from core.audio2exp.registry import variant
from core.audio2exp.speech import project_encoder_folder, resolve_features
from core.audio2exp.train_config import AudioTrainConfig, AudioTrainResult, ModelScore
from core.audio2exp.train_network import train_network_job
from core.errors import JobCancelled
from core.jobs import Job, Progress
from gpu.device import on_threads

__all__ = ["STAGE", "AudioTrainConfig", "AudioTrainResult", "ModelScore", "train_audio_job"]

STAGE = "audio_model"


def _settings(config: AudioTrainConfig) -> dict[str, Any]:
    settings = asdict(config)
    settings.pop("device")
    return settings


def train_audio_job(project, config: AudioTrainConfig = AudioTrainConfig()) -> Job[AudioTrainResult]:
    """Train the audio model on the project's own audio and fitted expressions.

    Writes audio_model.pt + audio_model.json and the stage record "audio_model" (inputs: fitting).
    Skips the work when the model is current with the same settings. Cancelling between yields
    leaves the previous model (if any) untouched.
    """
    yield Progress(0.0, "Loading the speech features")
    features = config.features
    if not features.encoder_folder:  # the project's Whisper folder (variants without Whisper drop it)
        features = replace(features, encoder_folder=project_encoder_folder(project))
    # "auto" features: each candidate variant trained, the lowest held-out mouth error kept.
    kinds = variant(features.kind).candidates or (features.kind,)
    candidates: dict[str, tuple[AudioFeatureConfig, str]] = {}
    for kind in kinds:
        resolved, note = resolve_features(replace(features, kind=kind))
        candidates.setdefault(resolved.kind, (resolved, note))  # two fallbacks to one variant: once
    if len(candidates) == 1:
        config = replace(config, features=next(iter(candidates.values()))[0])
        settings = _settings(config)
    else:
        settings = _settings(config)
        settings["features_resolved"] = {k: asdict(c) for k, (c, _) in candidates.items()}
    key, _ = project.stage_key(settings, ("fitting",))
    record = project.stage(STAGE)
    if (project.is_current(STAGE) and record.key == key and project.path(MODEL_FILE).exists()
            and project.path(META_FILE).exists()):
        return _result_from_record(record, skipped=True)

    project.set_stage(STAGE, "running", settings=settings, inputs=("fitting",))
    models = MODELS if config.model == "auto" else (config.model,)
    runs = [(kind, model) for kind in candidates for model in models]
    trained: dict[tuple[str, str], tuple[Audio2Expression, ModelScore]] = {}  # (features, model)
    notes: dict[str, str] = {}
    sizes = (0, 0)
    offset = None
    try:
        for kind, (resolved, note) in candidates.items():
            yield Progress(None, "Computing audio features", message=note)
            data = load_training_data(project, resolved, config.holdout, config.av_sync)
            offset = data.av_offset
            norm = fit_normaliser(data)
            sizes = (len(data.train), len(data.val))
            for model in models:
                i = runs.index((kind, model))
                span = (0.02 + 0.96 * i / len(runs), 0.02 + 0.96 * (i + 1) / len(runs))
                job = train_network_job(data, norm, model, replace(config, features=resolved), span)
                # These networks are tiny: one CPU thread per step beats several, by far on a busy machine.
                trained[(kind, model)] = yield from (on_threads(job, 1) if config.device == "cpu" else job)
                notes[kind] = note
    except (GeneratorExit, JobCancelled):
        project.set_stage(STAGE, "cancelled", message="cancelled by the user")
        raise
    except Exception as exc:
        project.set_stage(STAGE, "failed", message=str(exc))
        raise
    kind, chosen = min(trained, key=lambda km: trained[km][1].mouth_nmse)
    model, _ = trained[(kind, chosen)]
    scores = {m: s for (k, m), (_, s) in trained.items() if k == kind}
    note = notes[kind]
    metrics = {"chosen": chosen, "frames_train": int(sizes[0]), "frames_val": int(sizes[1]),
               "features": kind, "features_note": note,
               "scores": {m: asdict(s) for m, s in scores.items()}}
    if offset is not None and config.av_sync:
        metrics.update(av_offset_s=offset.offset_s, av_offset_applied_s=offset.applied_s,
                       av_offset_corr=None if offset.corr != offset.corr else offset.corr)
        if offset.applied_s:
            note = (note + " " if note else "") + (f"The video's sound is {1000 * offset.offset_s:+.0f} ms "
                                                   "against its picture: removed before training.")
            metrics["features_note"] = note
    if len(candidates) > 1:
        others = {k: {m: asdict(s) for (k2, m), (_, s) in trained.items() if k2 == k} for k in candidates if k != kind}
        note += f" Auto: kept {kind} (lower held-out mouth error than {', '.join(others)})."
        metrics.update(features_note=note, features_tried=others)
    model.meta = replace(model.meta, metrics=metrics)
    model.save(project)
    project.set_stage(STAGE, "done", settings=settings, inputs=("fitting",), metrics=metrics)
    yield Progress(1.0, "Audio model trained", message=f"kept {chosen}")
    return AudioTrainResult(chosen=chosen, scores=scores, frames_train=sizes[0], frames_val=sizes[1],
                            features_note=note)


def _result_from_record(record, skipped: bool) -> AudioTrainResult:
    m = record.metrics
    scores = {name: ModelScore(**s) for name, s in m.get("scores", {}).items()}
    return AudioTrainResult(chosen=m.get("chosen", ""), scores=scores, frames_train=m.get("frames_train", 0),
                            frames_val=m.get("frames_val", 0), skipped=skipped,
                            features_note=m.get("features_note", ""))
