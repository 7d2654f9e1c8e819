"""Real pixels for the reference renderer: the target frame with its lower face blanked, and
reference frames of the same person picked by how open the mouth is.

References come only from the training part of the clip (never the held-out tail). For inference
they are fixed per project (the widest-open mouth, then a closed one), so a dubbed frame needs no
search; while training they are drawn from the same pools but at least ``gap`` frames away from the
frame being learnt, so the network cannot copy the answer.
"""

from __future__ import annotations

import numpy as np
import torch

# Share of the training frames with the most open (and the most closed) mouth that form the pools.
POOL_SHARE = 0.25
# Quantile of the mouth opening the fixed inference references sit at (open, closed).
FIXED_QUANTILES = (0.95, 0.05)


class ReferencePicker:
    """Reference frames from ``train_indices`` by mouth opening (float (N,), NaN where unknown).

    fixed: int (n_refs,) frame indices used at inference. sample(targets, rng): int (B, n_refs)
    references per target, each at least ``gap`` frames from it: from the pool when it has such
    frames, else from any training frame that far (a short clip), else the farthest pool member.
    """

    def __init__(self, train_indices: np.ndarray, opening: np.ndarray, n_refs: int, gap: int) -> None:
        frames = np.asarray(train_indices, np.int64)
        value = np.asarray(opening, np.float64)[frames]
        known = np.isfinite(value)
        frames, value = frames[known], value[known]
        if len(frames) == 0:
            raise ValueError("no training frame has a tracked mouth to pick references from")
        order = np.argsort(value, kind="stable")
        k = max(1, int(round(POOL_SHARE * len(frames))))
        # Pool 0 holds open mouths, pool 1 closed ones; a third reference again draws open ones.
        pools = [frames[order[-k:]], frames[order[:k]]]
        self.pools = [pools[r % 2] for r in range(n_refs)]
        fixed = []
        for r in range(n_refs):
            q = FIXED_QUANTILES[r % 2]
            target = np.quantile(value, q)
            fixed.append(int(frames[np.argmin(np.abs(value - target))]))
        self.fixed = np.array(fixed, np.int64)
        self.frames = frames
        self.gap = int(gap)

    def sample(self, targets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        targets = np.asarray(targets, np.int64)
        out = np.empty((len(targets), len(self.pools)), np.int64)
        for r, pool in enumerate(self.pools):
            for b, t in enumerate(targets):
                far = pool[np.abs(pool - t) >= self.gap]
                if not len(far):
                    far = self.frames[np.abs(self.frames - t) >= self.gap]
                out[b, r] = rng.choice(far) if len(far) else pool[np.argmax(np.abs(pool - t))]
        return out


def blank_lower_face(real: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """float (B, 3, s, s) real window in [0, 1] and (B, 1, s, s) mask in {0, 1} -> (B, 4, s, s):
    the real pixels with the mask set to 0, then the mask itself."""
    return torch.cat([real * (1.0 - mask), mask], dim=1)
