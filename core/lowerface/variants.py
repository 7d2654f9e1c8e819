"""The built-in lower-face variants, registered in the order the app and the CLI list them.

Each variant's module is imported when it is first built or asked whether it is ready: listing the
variants (the app's first paint, the CLI's choices) must not import torch or compile numba loops.
"""

from __future__ import annotations

from core.lowerface.registry import LowerFaceVariant, register


def _fitted(project) -> str:
    return "" if project.stage("fitting").status == "done" else "the face is not captured yet (run Prepare)"


def _network_ready(kind: str):
    def ready(project) -> str:
        from core.lowerface.network import has_trained_renderer, trained_kind

        if not has_trained_renderer(project):
            return "no network is trained on this face capture (train it on the Train page or with train-renderer)"
        if trained_kind(project) != kind:
            return f"this project's trained network is the {trained_kind(project)} renderer"
        return ""
    return ready


def _build_sample(project, ctx, exclude_from):
    from core.lowerface.samples.synth import SampleConfig, SampleSynthesizer

    return SampleSynthesizer(project, ctx, SampleConfig(exclude_from=exclude_from))


def _build_draft(project, ctx, exclude_from):
    from core.lowerface.draft import DraftSynthesizer

    return DraftSynthesizer(project, ctx)


def _build_network(project, ctx, exclude_from):
    from core.lowerface.network import NeuralSynthesizer

    return NeuralSynthesizer(project, ctx)


register(LowerFaceVariant(
    "sample", "Own mouth (sample-based)",
    "The person's own mouths from the video, chosen by lip shape and moved onto the new mouth by the "
    "3D mesh, at the video's resolution. Sharp, with real teeth; no training.", False, _fitted, _build_sample))
register(LowerFaceVariant(
    "draft", "Draft",
    "Each frame's own mouth stretched by the 3D mesh: instant, but the mouth can only open as far as "
    "the frame's own.", False, _fitted, _build_draft))
register(LowerFaceVariant(
    "reference", "Real-pixel network",
    "A network trained on this person (minutes to hours) that fills the lower face from the frame "
    "around it and two reference frames.", True, _network_ready("reference"), _build_network))
register(LowerFaceVariant(
    "paper", "Paper's network",
    "The paper's renderer (Wen et al. 2020): a network trained on this person from face renders only; "
    "kept to compare.", True, _network_ready("paper"), _build_network))
