"""Which of the person's real frames gives each output frame its mouth.

Per output frame the candidates are the stored frames whose lip shape is nearest the wanted one
(plus a head-pose term and a preference for sharp mouths); a Viterbi pass over the whole sequence
then prefers long real runs: taking frame s + 1 after s costs nothing beyond its own fit, holding
a frame costs a little, and jumping elsewhere costs a switch (more while the current run is shorter
than ``min_run``). Real runs carry the person's own motion between frames; every switch is a jump
the compositing must hide.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SelectConfig:
    """Costs are in squared crop pixels of mean lip-point distance.

    candidates: nearest stored frames considered per output frame (besides continued runs);
    inner_weight: weight of the inner lip ring beside the outer one (the inner ring decides
    whether the lips part and the teeth show);
    pose_weight: cost per squared degree of yaw / pitch difference; blur_weight: cost of a mouth
    with no detail (scaled by how much blurrier than the clip's median it is); switch: cost of
    jumping to another source; hold: cost of showing a source frame twice; min_run: runs shorter
    than this pay ``short_run`` more to switch; beam: states kept per step."""

    candidates: int = 12
    inner_weight: float = 3.0
    pose_weight: float = 0.05
    blur_weight: float = 6.0
    switch: float = 6.0
    hold: float = 1.5
    min_run: int = 6
    short_run: float = 8.0
    beam: int = 40


def unary_costs(index, wanted_lips: np.ndarray, wanted_euler: np.ndarray, allowed: np.ndarray,
                config: SelectConfig) -> np.ndarray:
    """float32 (T, M): cost of each stored frame for each output frame (inf where not allowed).

    wanted_lips: (T, 2L) LipShape descriptors; wanted_euler: (T, 3) the output frames' head pose;
    allowed: bool (M,) stored frames that may be used."""
    lips = index.lips
    points = lips.shape[1] / 2
    if config.inner_weight != 1.0:  # the descriptor is the outer ring's x, y, then the inner ring's
        scale = np.ones(lips.shape[1], np.float32)
        scale[lips.shape[1] // 2:] = np.sqrt(config.inner_weight)
        lips, wanted_lips = lips * scale, wanted_lips * scale
        points = (lips.shape[1] // 2 + config.inner_weight * lips.shape[1] // 2) / 2
    # squared distance, per lip point: |a|^2 + |b|^2 - 2ab, mean over points
    sq = ((wanted_lips ** 2).sum(1)[:, None] + (lips ** 2).sum(1)[None] - 2.0 * wanted_lips @ lips.T) / points
    sq = np.maximum(sq, 0.0)
    pose = ((wanted_euler[:, None, :2] - index.euler[None, :, :2]) ** 2).sum(-1)
    sharp = index.sharpness
    median = float(np.median(sharp[allowed])) if allowed.any() else 1.0
    blur = np.clip(1.0 - sharp / max(median, 1e-6), 0.0, 1.0)
    cost = sq + config.pose_weight * pose + config.blur_weight * blur[None]
    cost[:, ~allowed] = np.inf
    return cost.astype(np.float32)


def choose_sources(index, wanted_lips: np.ndarray, wanted_euler: np.ndarray, allowed: np.ndarray,
                   config: SelectConfig = SelectConfig(), chunk: int = 256) -> np.ndarray:
    """int64 (T,): the stored-frame position (into index.frames) chosen for each output frame."""
    t_len, m = len(wanted_lips), len(index.frames)
    if not allowed.any():
        raise ValueError("no stored frame may be used")
    frames = index.frames
    # the entry holding video frame f + 1 for each entry f (-1 where that frame is not stored)
    following = np.full(m, -1, np.int64)
    nxt = frames + 1
    inside = nxt < index.n_frames
    following[inside] = index.position[nxt[inside]]
    following[(following >= 0) & ~allowed[np.maximum(following, 0)]] = -1

    k = min(config.candidates, int(allowed.sum()))
    back: list[tuple[np.ndarray, np.ndarray]] = []  # per step: states, the previous state's slot
    states = np.zeros(0, np.int64)
    total = np.zeros(0, np.float64)
    run = np.zeros(0, np.int64)
    for c0 in range(0, t_len, chunk):
        costs = unary_costs(index, wanted_lips[c0:c0 + chunk], wanted_euler[c0:c0 + chunk], allowed, config)
        for row in costs:
            nearest = np.argpartition(row, k - 1)[:k]
            continued = following[states][following[states] >= 0] if len(states) else np.zeros(0, np.int64)
            new_states = np.unique(np.concatenate([nearest, continued, states]))
            if not len(states):
                new_total = row[new_states].astype(np.float64)
                prev_slot = np.full(len(new_states), -1, np.int64)
                new_run = np.ones(len(new_states), np.int64)
            else:
                # transition cost from every old state (rows) to every new state (columns)
                switch = config.switch + config.short_run * (run < config.min_run)
                trans = np.repeat(switch[:, None], len(new_states), axis=1)
                trans[new_states[None, :] == following[states][:, None]] = 0.0
                trans[new_states[None, :] == states[:, None]] = config.hold
                through = total[:, None] + trans
                prev_slot = np.argmin(through, axis=0)
                new_total = through[prev_slot, np.arange(len(new_states))] + row[new_states]
                continues = new_states == following[states[prev_slot]]
                new_run = np.where(continues, run[prev_slot] + 1, 1)
            keep = np.argsort(new_total)[:config.beam]
            keep = keep[np.isfinite(new_total[keep])]
            states, total, run = new_states[keep], new_total[keep], new_run[keep]
            back.append((states, prev_slot[keep]))
    chosen = np.zeros(t_len, np.int64)
    slot = int(np.argmin(total))
    for t in range(t_len - 1, -1, -1):
        states_t, prev_t = back[t]
        chosen[t] = states_t[slot]
        slot = int(prev_t[slot])
    return chosen

