"""English number words: cardinals, ordinals, years, decimals and digit strings."""

from __future__ import annotations

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                      "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
MAX_CARDINAL = 10**15 - 1


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = [f"{_ONES[hundreds]} hundred"] if hundreds else []
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        parts.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest or not parts:
        parts.append(_ONES[rest])
    return " ".join(parts)


def cardinal(n: int) -> str:
    """42 -> 'forty-two', -7 -> 'minus seven'; numbers above MAX_CARDINAL are read digit by digit."""
    if n < 0:
        return "minus " + cardinal(-n)
    if n > MAX_CARDINAL:
        return digits(str(n))
    parts = []
    for scale, name in _SCALES:
        count, n = divmod(n, scale)
        if count:
            parts.append(f"{_below_thousand(count)} {name}")
    if n or not parts:
        parts.append(_below_thousand(n))
    return " ".join(parts)


def ordinal(n: int) -> str:
    """21 -> 'twenty-first', 100 -> 'one hundredth'."""
    words = cardinal(n)
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    head, last = words[:cut], words[cut:]
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + last


def digits(text: str) -> str:
    """'007' -> 'zero zero seven' (phone numbers, codes, decimals after the point)."""
    return " ".join(_ONES[int(c)] for c in text if c.isdigit())


def decimal(text: str) -> str:
    """'3.14' -> 'three point one four'; '0.5' -> 'zero point five'; integer part may be empty."""
    whole, _, frac = text.partition(".")
    head = cardinal(int(whole)) if whole else "zero"
    return f"{head} point {digits(frac)}" if frac else head


def year(n: int) -> str:
    """1999 -> 'nineteen ninety-nine', 2005 -> 'two thousand five', 2024 -> 'twenty twenty-four',
    1900 -> 'nineteen hundred', 1066 -> 'ten sixty-six'. Other values fall back to cardinals."""
    if not 1000 <= n <= 9999 or (2000 <= n <= 2009) or n % 1000 == 0:
        return cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{cardinal(high)} hundred"
    return f"{cardinal(high)} {'oh ' if low < 10 else ''}{cardinal(low)}"


def plural_year(n: int) -> str:
    """1990 -> 'nineteen nineties', 1900 -> 'nineteen hundreds' (for '1990s', '1900s')."""
    words = year(n)
    return words[:-1] + "ies" if words.endswith("y") else words + "s"
