"""Lower-face variants behind one seam: what each is, whether a project can dub with it now, and
how to build its synthesizer. Dub, evaluate, the benchmarks, the live preview, the batch runner,
the CLI choices and the app ask this registry; adding a variant is one module and one ``register``.

A synthesizer has ``mode`` (its variant's name), ``has_face``, ``timings`` and
``frames(indices, expressions)`` -> one patch (core.lowerface.patch) or None per output frame;
``frame_at(j, indices, expressions)`` gives output frame j of that sequence on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import DubError

log = logging.getLogger(__name__)

DEFAULT = "sample"  # what dub, run, evaluate and the app use unless told otherwise


@dataclass(frozen=True)
class LowerFaceVariant:
    """name: the config value; label: for people; summary: one sentence on what it is and needs;
    trains: it has a network that train-renderer trains; ready(project) -> the reason it cannot
    dub yet, or "" when it can; build(project, ctx, exclude_from) -> a synthesizer that never uses
    frames from ``exclude_from`` on (evaluation's held-out tail) where it copies real frames."""

    name: str
    label: str
    summary: str
    trains: bool
    ready: Callable[[object], str]
    build: Callable[..., object]


VARIANTS: dict[str, LowerFaceVariant] = {}


def register(variant: LowerFaceVariant) -> LowerFaceVariant:
    VARIANTS[variant.name] = variant
    return variant


def names(trains: bool | None = None) -> list[str]:
    """The registered variant names (only those with a network to train, or without, if asked)."""
    return [n for n, v in VARIANTS.items() if trains is None or v.trains == trains]


def get_variant(name: str) -> LowerFaceVariant:
    if name not in VARIANTS:
        raise DubError(f"unknown lower face {name!r}; use one of {', '.join(VARIANTS)}")
    return VARIANTS[name]


def ready_variants(project) -> list[str]:
    """The variants this project can dub with now, in registry order."""
    return [n for n, v in VARIANTS.items() if not v.ready(project)]


def trained_network(project) -> str | None:
    """The name of the network variant trained on this project's current face fit, or None."""
    return next((n for n in names(trains=True) if not VARIANTS[n].ready(project)), None)


def make_synthesizer(project, renderer: str | None = None, device: str = "auto", exclude_from: int | None = None):
    """The synthesizer of variant ``renderer`` (None: DEFAULT). A variant that cannot dub yet (an
    untrained network) raises DubError saying what to do."""
    from gpu.device import select_device  # torch: not in the app's first paint, which lists the registry

    variant = get_variant(renderer or DEFAULT)
    reason = variant.ready(project)
    if reason:
        raise DubError(f"{variant.label} cannot dub this project yet: {reason}")
    log.info("lower face: %s", variant.name)
    return variant.build(project, select_device(device), exclude_from)
