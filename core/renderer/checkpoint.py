"""Renderer checkpoints in the project folder, all written atomically.

    renderer/last.pt      generator, discriminator, both optimisers, step, elapsed time, RNG states
    renderer/best.pt      generator only, with the step and held-out error it was chosen by
    renderer/config.json  the RendererTrainConfig the checkpoints were made with
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from core.atomic import atomic_path, write_json
from core.errors import ProjectError
from core.renderer.config import RendererTrainConfig

log = logging.getLogger(__name__)

LAST_FILE, BEST_FILE, CONFIG_FILE = "last.pt", "best.pt", "config.json"


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """torch.save of plain containers of tensors and numbers, atomically."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Load a checkpoint with weights_only=True; a damaged file raises ProjectError."""
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises many types for a truncated or foreign file
        raise ProjectError(f"{path}: the renderer checkpoint is damaged ({exc}). Delete it and train "
                           "the renderer again.") from exc


def save_config(folder: Path, config: RendererTrainConfig) -> None:
    write_json(folder / CONFIG_FILE, config.to_json())


def load_config(folder: Path) -> RendererTrainConfig | None:
    try:
        return RendererTrainConfig.from_json(json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
