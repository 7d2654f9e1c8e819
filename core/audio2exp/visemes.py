"""Phoneme posteriors folded into mouth-shape classes (visemes), and bilabial events.

hama's 191 tokens (IPA of many languages, diacritics, tone marks) are summed into VISEMES by how
the lips and jaw look: 13 mouth classes plus the CTC blank. Tokens that do not shape the mouth on
their own (diacritics, tones, punctuation, the word boundary) fall in no class, so per step the
classes plus blank sum to at most 1.

Bilabial events: steps where the summed probability of p, b, m (and the other bilabials) peaks
above a threshold. The recogniser is a CTC model, so a phoneme shows as a one- or two-step spike;
an event is the time of that spike.
"""

from __future__ import annotations

import numpy as np

BLANK = "<blank>"
VISEMES: dict[str, tuple[str, ...]] = {
    "bilabial": ("p", "b", "m", "pʰ", "p͈", "ɓ", "ʙ", "ɸ", "β"),
    "labiodental": ("f", "v", "ɱ", "ʋ"),
    "dental": ("θ", "ð"),
    "alveolar": ("t", "d", "n", "tʰ", "t͈", "ɗ", "ɖ", "ʈ", "ɾ", "ɽ", "l", "ɫ", "ɮ", "r", "ñ", "ɲ", "ʎ"),
    "sibilant": ("s", "z", "s͈", "ẑ", "ç", "ħ"),
    "postalveolar": ("ʃ", "ʒ", "t͡ʃ", "d͡ʒ", "t͡ɕ", "t͡ɕʰ", "t͡ɕ͈", "ɕ", "ʑ", "ʂ", "ʐ", "c", "ɟ", "ʝ"),
    "velar": ("k", "g", "ɡ", "kʰ", "k͈", "ŋ", "x", "ɣ", "h", "ɦ", "ʔ", "χ", "ʁ", "ʀ", "ɴ", "ɰ"),
    "rhotic": ("ɹ", "ɻ", "ɚ", "ɝ", "ʁ̞"),
    "rounded_glide": ("w", "ɥ", "wa", "we", "wi", "wʌ"),
    "open_vowel": ("a", "ɑ", "æ", "ä", "à", "ã", "ɐ", "aɪ", "aʊ", "ɒ", "å", "ja"),
    "mid_vowel": ("e", "ɛ", "ə", "ɜ", "ʌ", "eɪ", "eə", "ẽ", "ɘ", "ɤ", "ᵊ", "je", "jʌ"),
    "close_vowel": ("i", "ɪ", "ɨ", "ɯ", "ì", "ĩ", "ǐ", "j", "ɪə", "ɯi", "y"),
    "rounded_vowel": ("o", "u", "ɔ", "ʊ", "oʊ", "ɔɪ", "ø", "œ", "ʏ", "ʉ", "ɵ", "õ", "ũ", "jo", "ju"),
}
CLASSES = tuple(VISEMES)
BILABIAL = CLASSES.index("bilabial")


def class_matrix(tokens: list[str]) -> np.ndarray:
    """float32 (len(tokens), len(CLASSES) + 1): token -> class membership; the last column is blank."""
    out = np.zeros((len(tokens), len(CLASSES) + 1), np.float32)
    index = {t: i for i, t in enumerate(tokens)}
    for c, members in enumerate(CLASSES):
        for token in VISEMES[members]:
            if token in index:
                out[index[token], c] = 1.0
    if BLANK in index:
        out[index[BLANK], -1] = 1.0
    return out


def class_posteriors(probs: np.ndarray, tokens: list[str]) -> np.ndarray:
    """probs: float (M, len(tokens)) per-step token probabilities -> float32 (M, len(CLASSES) + 1)
    class probabilities, blank last."""
    return (np.asarray(probs, np.float32) @ class_matrix(tokens)).astype(np.float32)


def phoneme_steps(classes: np.ndarray) -> np.ndarray:
    """Step features from class posteriors (M, C + 1): the class probabilities themselves (C; CTC
    spikes), the class distribution among the non-blank mass (C; what the recogniser thinks is
    being said between spikes) and the blank probability. float32 (M, 2 C + 1), values in [0, 1]."""
    classes = np.asarray(classes, np.float32)
    spikes, blank = classes[:, :-1], classes[:, -1:]
    share = spikes / np.maximum(spikes.sum(axis=1, keepdims=True), 1e-6)
    return np.concatenate([spikes, share, blank], axis=1).astype(np.float32)


def bilabial_events(classes: np.ndarray, step_s: float, threshold: float = 0.3) -> np.ndarray:
    """Times (seconds, float64) of the bilabial spikes: steps whose bilabial probability is a local
    maximum (over +-2 steps) at or above ``threshold``. classes: (M, C + 1) from class_posteriors."""
    p = np.asarray(classes, np.float64)[:, BILABIAL]
    if len(p) == 0:
        return np.zeros(0)
    padded = np.pad(p, 2, constant_values=-1.0)
    window = np.stack([padded[i:i + len(p)] for i in range(5)])
    peaks = (p >= threshold) & (p >= window.max(axis=0))
    # a flat top of two equal steps counts once
    idx = np.flatnonzero(peaks)
    if len(idx) > 1:
        idx = idx[np.concatenate([[True], np.diff(idx) > 1])]
    return idx * step_s
