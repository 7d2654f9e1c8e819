"""Text normalisation: a script as typed -> words a voice reads sensibly.

Typography is unified for every language (curly quotes, dashes, ellipses, full-width forms).
English voices also get numbers, currency, percentages, times, years, ordinals, common
abbreviations and a few symbols spelled out; other languages leave numbers to the voice's
phonemiser (espeak-ng reads numbers in its own language).
"""

from __future__ import annotations

import re
import unicodedata

from core.tts import numbers

_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2212": "-",
    "\u2013": " - ", "\u2014": ", ", "\u2015": ", ",
    "\u2026": "...", "\u2044": "/",
    "[": "(", "]": ")", "{": "(", "}": ")",
    "\t": " ", "\r": "\n", "\u00a0": " ",
})

# Titles followed by a name: their period never ends a sentence.
_TITLES = {
    "Dr": "Doctor", "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Prof": "Professor",
    "St": "Saint", "Mt": "Mount", "Jr": "Junior", "Sr": "Senior", "Capt": "Captain",
    "Gen": "General", "Lt": "Lieutenant", "Sgt": "Sergeant", "Gov": "Governor", "Rev": "Reverend",
}
# These may end a sentence: their period is kept when a capital letter or the end follows.
_TRAILING = {
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "vs.": "versus",
    "approx.": "approximately", "a.m.": "ay em", "p.m.": "pee em", "fig.": "figure",
    "esp.": "especially", "dept.": "department", "min.": "minutes", "hrs.": "hours",
}
_TITLE_RE = re.compile(r"\b(" + "|".join(_TITLES) + r")\.(?=\s+[A-Z])")
_TRAILING_RE = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(k) for k in _TRAILING) + r")(?=(\s*\n|(?-i:\s+[A-Z])|\s*$)?)",
    re.IGNORECASE)
_NUMBER_SIGN_RE = re.compile(r"\b(?:No|no|Nr|nr)\.\s*(?=\d)|#(?=\d)")

_CURRENCIES = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
               "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "", "")}
_SCALE_WORDS = {"k": "thousand", "thousand": "thousand", "m": "million", "mn": "million",
                "million": "million", "b": "billion", "bn": "billion", "billion": "billion",
                "trillion": "trillion"}
_AMOUNT = r"\d[\d,]*(?:\.\d+)?"
_CURRENCY_RE = re.compile(r"([$£€¥])\s?(" + _AMOUNT + r")(?:\s?(thousand|million|billion|trillion"
                          r"|bn|mn|[kmb])\b)?", re.IGNORECASE)
_PERCENT_RE = re.compile(r"(-?" + _AMOUNT + r")\s?%")
_ORDINAL_RE = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_DECADE_RE = re.compile(r"\b(1\d\d0|20\d0)'?s\b|'(\d)0s\b")
_TIME_RE = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b")
_YEAR_RE = re.compile(
    r"\b(in|since|by|from|of|until|till|to|before|after|during|circa|around|year|early|late|mid|"
    r"January|February|March|April|May|June|July|August|September|October|November|December)"
    r"(\s+)(1[1-9]\d\d|20\d\d)\b(?![.,]\d)", re.IGNORECASE)
_YEAR_ERA_RE = re.compile(r"\b(\d{3,4})\s?(BC|AD|BCE|CE)\b")
_VERSION_RE = re.compile(r"\b\d+(?:\.\d+){2,}\b")
_RANGE_RE = re.compile(r"(?<=\d)\s*-\s*(?=\d)")
_LETTER_DIGIT_HYPHEN_RE = re.compile(r"(?<=[^\W\d_])-(?=\d)")
_GROUPED_RE = re.compile(r"\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b")
_DECIMAL_RE = re.compile(r"(?<![\d.])(\d*\.\d+)\b")
_NEGATIVE_RE = re.compile(r"(?<![\w.])-(?=\d)")
_INTEGER_RE = re.compile(r"\d+")
_SYMBOLS = {"&": " and ", "@": " at ", "+": " plus ", "=": " equals ", "°": " degrees ",
            "/": " slash ", "×": " times ", "½": " one half ", "¼": " one quarter ",
            "¾": " three quarters "}
_SYMBOL_RE = re.compile("|".join(re.escape(k) for k in _SYMBOLS))


def normalize_typography(text: str) -> str:
    """Fold compatibility forms (full-width letters, ligatures) and unify quotes, dashes, spaces."""
    text = unicodedata.normalize("NFKC", text.translate(_TYPOGRAPHY)).translate(_TYPOGRAPHY)
    text = re.sub(r"[ ]{2,}", " ", text)
    return re.sub(r" *\n *", "\n", text).strip()


def normalize_english(text: str) -> str:
    """Spell out what an English voice would otherwise misread.

    '$5.50' -> 'five dollars and fifty cents', '42%' -> 'forty-two percent', '3rd' -> 'third',
    'in 1999' -> 'in nineteen ninety-nine', '1990s' -> 'nineteen nineties', '3.14' -> 'three point
    one four', '10:30' -> 'ten thirty', 'Dr. Smith' -> 'Doctor Smith', 'e.g.' -> 'for example'.
    Four-digit numbers are read as years only after words such as 'in', 'since' or a month name,
    or before 'BC'/'AD': elsewhere '1500 people' reads 'one thousand five hundred people'.
    """
    text = normalize_typography(text)
    text = _TITLE_RE.sub(lambda m: _TITLES[m.group(1)], text)
    text = _TRAILING_RE.sub(_trailing_abbreviation, text)
    text = _NUMBER_SIGN_RE.sub("number ", text)
    text = _CURRENCY_RE.sub(_currency, text)
    text = _PERCENT_RE.sub(lambda m: f"{_amount(m.group(1))} percent", text)
    text = _ORDINAL_RE.sub(lambda m: numbers.ordinal(int(m.group(1))), text)
    text = _DECADE_RE.sub(_decade, text)
    text = _TIME_RE.sub(_time, text)
    text = _YEAR_ERA_RE.sub(lambda m: f"{numbers.year(int(m.group(1)))} {' '.join(m.group(2))}", text)
    text = _YEAR_RE.sub(lambda m: m.group(1) + m.group(2) + numbers.year(int(m.group(3))), text)
    text = _VERSION_RE.sub(lambda m: " point ".join(_integer(p) for p in m.group(0).split(".")), text)
    text = _RANGE_RE.sub(" to ", text)
    text = _LETTER_DIGIT_HYPHEN_RE.sub(" ", text)
    text = _NEGATIVE_RE.sub("minus ", text)
    text = _GROUPED_RE.sub(lambda m: _amount(m.group(0)), text)
    text = _DECIMAL_RE.sub(lambda m: f" {numbers.decimal(m.group(1))} ", text)
    text = _INTEGER_RE.sub(lambda m: f" {_integer(m.group(0))} ", text)
    text = _SYMBOL_RE.sub(lambda m: _SYMBOLS[m.group(0)], text)
    text = re.sub(r"[ ]{2,}", " ", text)
    text = re.sub(r" +([,.;:!?)])", r"\1", text)
    return re.sub(r" *\n *", "\n", text).strip()


def _trailing_abbreviation(m: re.Match) -> str:
    words = _TRAILING[m.group(1).lower()]
    return words + "." if m.group(2) is not None else words


def _integer(digits: str) -> str:
    if len(digits) > 1 and digits.startswith("0"):
        return numbers.digits(digits)
    return numbers.cardinal(int(digits))


def _amount(text: str) -> str:
    """'1,234.5' -> 'one thousand two hundred thirty-four point five'."""
    text = text.replace(",", "")
    negative = text.startswith("-")
    words = numbers.decimal(text.lstrip("-")) if "." in text else numbers.cardinal(int(text.lstrip("-")))
    return ("minus " if negative else "") + words


def _currency(m: re.Match) -> str:
    one, many, sub_one, sub_many = _CURRENCIES[m.group(1)]
    amount, scale = m.group(2).replace(",", ""), m.group(3)
    if scale:
        return f"{_amount(amount)} {_SCALE_WORDS[scale.lower()]} {many}"
    whole, _, frac = amount.partition(".")
    units = int(whole or 0)
    unit_words = f"{numbers.cardinal(units)} {one if units == 1 else many}"
    if not frac or int(frac) == 0:
        return unit_words
    if len(frac) != 2 or not sub_one:
        return f"{_amount(amount)} {many}"
    cents = int(frac)
    cent_words = f"{numbers.cardinal(cents)} {sub_one if cents == 1 else sub_many}"
    return cent_words if units == 0 else f"{unit_words} and {cent_words}"


def _decade(m: re.Match) -> str:
    if m.group(1):
        return numbers.plural_year(int(m.group(1)))
    return numbers.plural_year(int(m.group(2)) * 10)  # '80s -> eighties


def _time(m: re.Match) -> str:
    hour, minute = int(m.group(1)), int(m.group(2))
    if minute == 0:
        return f"{numbers.cardinal(hour)} o'clock"
    return f"{numbers.cardinal(hour)} {'oh ' if minute < 10 else ''}{numbers.cardinal(minute)}"
