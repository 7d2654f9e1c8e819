"""Speed and memory of the speech features: ms per output video frame, per registered variant.

    python -m core.audio2exp.bench AUDIO [--minutes 2] [--fps 25] [--features NAME ...]

The audio is looped to --minutes; prints one line per feature kind (wall time, ms per frame at
--fps, peak resident memory growth). No cache is used.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import time
from pathlib import Path

import numpy as np

from core.audio2exp import registry
from core.audio2exp.features import SAMPLE_RATE, AudioFeatureConfig
from core.audio2exp.speech import features_for, resolve_features
from core.media import load_audio

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", type=Path)
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--fps", type=float, default=25.0)
    concrete = [n for n in registry.names() if not registry.variant(n).candidates]
    parser.add_argument("--features", nargs="+", choices=concrete, default=concrete)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    speech = load_audio(args.audio, SAMPLE_RATE)
    n = int(args.minutes * 60 * SAMPLE_RATE)
    samples = np.resize(speech, n).astype(np.float32)
    frames = int(round(n / SAMPLE_RATE * args.fps))
    for kind in args.features:
        config, note = resolve_features(AudioFeatureConfig(kind=kind))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        feats = features_for(samples, args.fps, frames, config)
        wall = time.perf_counter() - start
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        log.info("%s: %.1f min of audio, %d frames at %g fps: %.2f s, %.2f ms per frame, rows %s, "
                 "peak memory +%.0f MB (%s)", kind, args.minutes, frames, args.fps, wall,
                 1000 * wall / frames, feats.rows.shape, grown, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
