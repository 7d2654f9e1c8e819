"""Keep only the characters a voice can speak; report the others.

Letters are kept when their Unicode script is the Latin script (names and loanwords appear in
every language) or one of the scripts of the voice's language; digits, whitespace and ordinary
punctuation are kept; emoji, symbols, control characters and letters of other scripts are dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# espeak-ng language code prefix -> scripts (first word of the Unicode character name).
_SCRIPTS_BY_LANGUAGE = {
    **dict.fromkeys(("ru", "uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tt", "ba", "cv"),
                    ("CYRILLIC",)),
    "el": ("GREEK",), "grc": ("GREEK",),
    **dict.fromkeys(("ar", "fa", "ur", "ps", "sd", "ug"), ("ARABIC",)),
    **dict.fromkeys(("he", "yi"), ("HEBREW",)),
    **dict.fromkeys(("hi", "mr", "ne", "sa", "kok", "bh"), ("DEVANAGARI",)),
    **dict.fromkeys(("bn", "as", "bpy"), ("BENGALI",)),
    "ta": ("TAMIL",), "te": ("TELUGU",), "kn": ("KANNADA",), "ml": ("MALAYALAM",),
    "gu": ("GUJARATI",), "pa": ("GURMUKHI",), "or": ("ORIYA",), "si": ("SINHALA",),
    "ka": ("GEORGIAN",), "hy": ("ARMENIAN",), "th": ("THAI",), "lo": ("LAO",), "my": ("MYANMAR",),
    "am": ("ETHIOPIC",), "km": ("KHMER",),
    **dict.fromkeys(("zh", "cmn", "yue", "hak"), ("CJK",)),
    "ja": ("CJK", "HIRAGANA", "KATAKANA"), "ko": ("HANGUL",),
}
_PUNCTUATION = set(".,!?;:'\"-()")
# Symbols other languages' phonemisers read aloud themselves (English spells them out first).
_SPOKEN_SYMBOLS = set("&@+=%/#°")


@dataclass(frozen=True)
class CleanText:
    """text: what the voice will read. dropped: distinct dropped characters, in order of first use."""

    text: str
    dropped: tuple[str, ...]

    def dropped_message(self) -> str | None:
        """'Skipped 2 characters the voice cannot speak: 😀 (U+1F600), 日 (U+65E5)' or None."""
        if not self.dropped:
            return None
        shown = ", ".join(_describe(c) for c in self.dropped[:20])
        more = f" and {len(self.dropped) - 20} more" if len(self.dropped) > 20 else ""
        return (f"Skipped {len(self.dropped)} character{'s' if len(self.dropped) != 1 else ''} "
                f"the voice cannot speak: {shown}{more}")


def scripts_for(language: str) -> tuple[str, ...]:
    """Unicode scripts a voice of espeak-ng language ``language`` ('en-us', 'ru', 'zh') reads."""
    prefix = language.lower().replace("_", "-").split("-")[0]
    return ("LATIN",) + _SCRIPTS_BY_LANGUAGE.get(prefix, ())


def clean_for_voice(text: str, language: str) -> CleanText:
    """Drop characters a voice of ``language`` cannot speak; collapse the whitespace left behind.

    Newlines are kept (they mark sentence and paragraph breaks); other whitespace becomes a space.
    """
    scripts = scripts_for(language)
    keep_symbols = not language.lower().startswith("en")
    kept: list[str] = []
    dropped: dict[str, None] = {}
    for ch in text:
        if unicodedata.category(ch)[0] == "M":  # combining marks ride on a kept letter before them
            if kept and (kept[-1].isalpha() or unicodedata.category(kept[-1])[0] == "M"):
                kept.append(ch)
            else:
                dropped[ch] = None
        elif _speakable(ch, scripts, keep_symbols):
            kept.append(ch)
        elif ch.isspace():
            kept.append("\n" if ch in "\n\u2028\u2029\v\f" else " ")
        else:
            dropped[ch] = None
            kept.append(" ")
    out = re.sub(r"[ ]{2,}", " ", "".join(kept))
    out = re.sub(r" *\n *", "\n", out)
    out = re.sub(r" +([,.;:!?)])", r"\1", out).strip()
    return CleanText(out, tuple(dropped))


def has_words(text: str) -> bool:
    """True when ``text`` holds at least one letter or digit, i.e. something to say."""
    return any(ch.isalnum() for ch in text)


def _speakable(ch: str, scripts: tuple[str, ...], keep_symbols: bool) -> bool:
    if ch == " " or ch == "\n" or ch in _PUNCTUATION or (keep_symbols and ch in _SPOKEN_SYMBOLS):
        return True
    category = unicodedata.category(ch)
    if category == "Nd":
        return True
    if category[0] == "L":
        return unicodedata.name(ch, "").split(" ")[0] in scripts
    return False


def _describe(ch: str) -> str:
    code = f"U+{ord(ch):04X}"
    visible = unicodedata.category(ch)[0] not in "CZM"
    return f"{ch} ({code})" if visible else f"{unicodedata.name(ch, 'control character').lower()} ({code})"
