"""Settings of the neural face renderer: one frozen dataclass, saved as JSON beside the checkpoints."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch

from core.crop_size import NETWORK_CAP
from core.holdout import HOLDOUT_FRACTION

PROFILES = ("auto", "cpu", "gpu")
# "reference": the generator also sees the real frame around the blanked lower face and reference
# frames of the person (the default); "paper": renders only (Wen et al. 2020, section 3.3).
RENDERERS = ("reference", "paper")
DEFAULT_RENDERER = "reference"  # what train-renderer, run and the app train unless told otherwise
LEGACY_RENDERER = "paper"  # what checkpoints and stage records from before the reference renderer hold
# Fields that define the network; a checkpoint made with other values cannot be resumed.
ARCHITECTURE_FIELDS = ("renderer", "size", "lower_face_window", "ngf", "ndf", "max_channels", "n_window",
                       "n_refs", "warp_refs", "copy_refs", "dropout")


@dataclass(frozen=True)
class RendererTrainConfig:
    """How to train the renderer (paper 3.3: pix2pix U-Net + PatchGAN, L1 x 100, Adam 2e-4).

    renderer: 'reference' (inputs: the renders, the target frame with the expanded mask blanked,
        the mask, and ``n_refs`` real frames of the person: widest-open mouth, then closed) or
        'paper' (the renders only).
    profile: 'cpu' or 'gpu'; see for_device.
    size: network input/output side in pixels (a multiple of 32, 32..512). With ``native_size``
        it is a cap: the network works at the window's own side in crop pixels (rounded to 32),
        so the lower face is not resampled down and up.
    lower_face_window: train on a fixed square window around the lower face (the union of the
        expanded masks over the clip) resized to ``size``, instead of the whole crop.
    ngf / ndf: base widths of the generator and the discriminator.
    n_window: renders stacked as input (t-3..t+3 -> 7; odd).
    max_channels: widest generator layer (0: 8 x ngf, the paper's).
    n_refs: reference frames given to the 'reference' renderer (1: open mouth; 2: open, closed).
    ref_gap_s: while training, references are drawn at least this far from the frame learnt.
    warp_refs: move the references onto the target's fitted face geometry through the mesh
        (core.renderer.warp) before the network sees them.
    copy_refs: the generator also predicts a smooth flow per reference and per-pixel blend weights,
        and its output blends its own colours with the moved references (core.renderer.copying).
    minutes / steps: budgets of the whole training of the project (a resumed run finishes the same
        budget; give a larger one to train on). Training stops at whichever comes first.
    l1_weight, gan_weight: pix2pix weighting. mouth_weight: extra L1 weight on a Gaussian around the
        lips (1 + mouth_weight at the mouth centre). detail_weight: weight of an L1 on image
        gradients inside the mask (0 = off; see NOTES.md for what it did).
    val_fraction: held-out tail of the clip (core.holdout) used for validation, never trained on.
    eval_every / checkpoint_every_s: validation + preview interval (steps) and checkpoint interval
        (seconds of training).
    cpu_threads: torch threads when training on the CPU; 0 measures 1 vs all cores every few
        minutes and keeps the faster (on a busy shared machine one thread can be several times faster).
    """

    renderer: str  # no default here: for_device's is DEFAULT_RENDERER, from_json's LEGACY_RENDERER
    profile: str = "cpu"
    size: int = 128
    native_size: bool = False
    lower_face_window: bool = True
    ngf: int = 32
    ndf: int = 32
    max_channels: int = 0
    n_window: int = 7
    n_refs: int = 0
    ref_gap_s: float = 1.5
    warp_refs: bool = False
    copy_refs: bool = False
    dropout: float = 0.5
    batch_size: int = 4
    lr: float = 2e-4
    beta1: float = 0.5
    l1_weight: float = 100.0
    gan_weight: float = 1.0
    mouth_weight: float = 2.0
    detail_weight: float = 0.0
    minutes: float | None = 30.0
    steps: int | None = None
    val_fraction: float = HOLDOUT_FRACTION
    val_frames: int = 24
    eval_every: int = 100
    checkpoint_every_s: float = 120.0
    seed: int = 0
    device: str = "auto"
    cpu_threads: int = 0

    def __post_init__(self) -> None:
        if self.renderer not in RENDERERS:
            raise ValueError(f"renderer must be one of {RENDERERS}, not {self.renderer!r}")
        if self.copy_refs and self.renderer != "reference":
            raise ValueError("copy_refs needs the reference renderer")
        if self.renderer == "reference" and self.n_refs < 1:
            raise ValueError("the reference renderer needs at least one reference frame (n_refs)")
        if self.profile not in ("cpu", "gpu"):
            raise ValueError(f"profile must be 'cpu' or 'gpu', not {self.profile!r}")
        if self.size < 32 or self.size > 512 or self.size % 32:
            raise ValueError(f"size must be a multiple of 32 between 32 and 512, not {self.size}")
        if self.n_window < 1 or self.n_window % 2 == 0:
            raise ValueError(f"n_window must be odd and positive, not {self.n_window}")
        if self.minutes is None and self.steps is None:
            raise ValueError("give a time budget (minutes) or a step budget (steps)")
        if (self.minutes is not None and self.minutes <= 0) or (self.steps is not None and self.steps <= 0):
            raise ValueError("the training budget must be positive")
        if self.cpu_threads < 0:
            raise ValueError(f"cpu_threads must be 0 (automatic) or positive, not {self.cpu_threads}")
        if not 0.0 < self.val_fraction < 0.5:
            raise ValueError(f"val_fraction must be between 0 and 0.5, not {self.val_fraction}")

    @classmethod
    def for_device(cls, profile: str = "auto", minutes: float | None = None,
                   steps: int | None = None, renderer: str = DEFAULT_RENDERER) -> "RendererTrainConfig":
        """The CPU or GPU profile of ``renderer``; 'auto' picks GPU when torch sees CUDA.
        Without a budget: the default minutes.

        reference/cpu: the lower-face window at its own resolution up to 256 px, ngf 16 (layers up
        to 256 channels); reference/gpu: up to 512 px, ngf 32. paper/cpu: a 128 px network on the
        lower-face window, ngf 32; paper/gpu: the paper's 256 px crop, ngf 64."""
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
        if renderer not in RENDERERS:
            raise ValueError(f"renderer must be one of {RENDERERS}, not {renderer!r}")
        if profile == "auto":
            profile = "gpu" if torch.cuda.is_available() else "cpu"
        if minutes is None and steps is None:
            minutes = cls.minutes
        budget = dict(minutes=minutes, steps=steps, device="auto" if profile == "gpu" else "cpu")
        if renderer == "reference":
            if profile == "gpu":
                return cls(renderer=renderer, profile="gpu", size=NETWORK_CAP["gpu"], native_size=True,
                           ngf=32, ndf=32, max_channels=512, n_refs=2, batch_size=8, **budget)
            return cls(renderer=renderer, profile="cpu", size=NETWORK_CAP["cpu"], native_size=True,
                       ngf=16, ndf=16, max_channels=256, n_refs=2, **budget)
        if profile == "gpu":
            return cls(renderer=renderer, profile="gpu", size=256, lower_face_window=False, ngf=64, ndf=64,
                       batch_size=16, **budget)
        return cls(renderer=renderer, profile="cpu", **budget)

    @property
    def radius(self) -> int:
        return self.n_window // 2

    @property
    def in_channels(self) -> int:
        """Generator input: the renders, then (reference renderer) the blanked frame, its mask and
        the reference frames."""
        extra = 3 + 1 + 3 * self.n_refs if self.renderer == "reference" else 0
        return 3 * self.n_window + extra

    def network_size(self, window_side: int) -> int:
        """Network side for a window of ``window_side`` crop pixels."""
        if not self.native_size:
            return self.size
        return int(min(max(32 * round(window_side / 32), 64), self.size))

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RendererTrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values.setdefault("renderer", LEGACY_RENDERER)
        return cls(**values)

    def architecture(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ARCHITECTURE_FIELDS}

    def stage_settings(self) -> dict[str, Any]:
        """What the stage key hashes: everything but the budgets and intervals."""
        skip = {"minutes", "steps", "eval_every", "checkpoint_every_s", "device", "cpu_threads"}
        return {k: v for k, v in self.to_json().items() if k not in skip}
