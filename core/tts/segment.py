"""Split a script into paragraphs, sentences and chunks short enough to synthesise at once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.tts.clean import has_words

_PARAGRAPH_RE = re.compile(r"\n\s*\n")
# A sentence ends at . ! ? (maybe followed by a closing quote or bracket) and whitespace, or at a
# line break: scripts often put one sentence per line without a full stop.
_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"')])\s+|\n+")
_CLAUSE_RE = re.compile(r"(?<=[,;:])\s+")


@dataclass(frozen=True)
class Chunk:
    """One piece of text to synthesise.

    pause_before: which pause precedes it: 'none' (first), 'clause' (a long sentence cut in
    pieces), 'sentence' or 'paragraph'.
    """

    text: str
    pause_before: str


def split_script(text: str, max_chars: int = 300) -> list[Chunk]:
    """Cut cleaned text into chunks of at most ``max_chars`` characters, at the best boundary.

    Paragraphs (blank lines) and sentences are always cut; a sentence longer than ``max_chars``
    is cut after commas, semicolons or colons, and a clause still too long between words.
    Pieces without any letter or digit ('...', '-') are left out.
    """
    if max_chars < 20:
        raise ValueError(f"max_chars must be at least 20, got {max_chars}")
    chunks: list[Chunk] = []
    for paragraph in _PARAGRAPH_RE.split(text):
        first_in_paragraph = True
        for sentence in _SENTENCE_RE.split(paragraph):
            pieces = [p for p in _fit(sentence.strip(), max_chars) if has_words(p)]
            for i, piece in enumerate(pieces):
                if not chunks:
                    pause = "none"
                elif i > 0:
                    pause = "clause"
                else:
                    pause = "paragraph" if first_in_paragraph else "sentence"
                chunks.append(Chunk(piece, pause))
                first_in_paragraph = False
    return chunks


def _fit(sentence: str, max_chars: int) -> list[str]:
    if len(sentence) <= max_chars:
        return [sentence]
    pieces = _pack(_CLAUSE_RE.split(sentence), max_chars)
    out: list[str] = []
    for piece in pieces:
        out.extend([piece] if len(piece) <= max_chars else _pack(piece.split(" "), max_chars))
    return out


def _pack(parts: list[str], max_chars: int) -> list[str]:
    """Join consecutive parts with spaces while the result stays within ``max_chars``."""
    packed: list[str] = []
    for part in parts:
        if packed and len(packed[-1]) + 1 + len(part) <= max_chars:
            packed[-1] += " " + part
        else:
            packed.append(part)
    return packed
