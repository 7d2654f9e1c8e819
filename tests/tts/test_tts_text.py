"""Text side of text-to-speech: number words, normalisation, character cleaning, splitting."""

from __future__ import annotations

import pytest

from core.tts import normalize_english
from core.tts.clean import clean_for_voice
from core.tts.numbers import cardinal, ordinal, year
from core.tts.segment import split_script


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (13, "thirteen"), (42, "forty-two"), (100, "one hundred"),
    (115, "one hundred fifteen"), (21000, "twenty-one thousand"),
    (1_234_567, "one million two hundred thirty-four thousand five hundred sixty-seven"),
    (-7, "minus seven"),
])
def test_cardinals(n, words):
    assert cardinal(n) == words


@pytest.mark.parametrize("n, words", [
    (1, "first"), (2, "second"), (3, "third"), (12, "twelfth"), (21, "twenty-first"),
    (40, "fortieth"), (100, "one hundredth"), (111, "one hundred eleventh"),
])
def test_ordinals(n, words):
    assert ordinal(n) == words


@pytest.mark.parametrize("n, words", [
    (1999, "nineteen ninety-nine"), (2005, "two thousand five"), (2024, "twenty twenty-four"),
    (1900, "nineteen hundred"), (1066, "ten sixty-six"), (1905, "nineteen oh five"),
])
def test_years(n, words):
    assert year(n) == words


@pytest.mark.parametrize("text, spoken", [
    ("I have 42 apples.", "I have forty-two apples."),
    ("It costs $5.", "It costs five dollars."),
    ("It costs $1.", "It costs one dollar."),
    ("Only $5.50 today", "Only five dollars and fifty cents today"),
    ("Just $0.99", "Just ninety-nine cents"),
    ("A $1.5 million deal", "A one point five million dollars deal"),
    ("£3.50 or €20", "three pounds and fifty pence or twenty euros"),
    ("Up 42% now", "Up forty-two percent now"),
    ("Down 3.5 % now", "Down three point five percent now"),
    ("Pi is 3.14", "Pi is three point one four"),
    ("It was -5 outside", "It was minus five outside"),
    ("In 1999 we met.", "In nineteen ninety-nine we met."),
    ("since 2024", "since twenty twenty-four"),
    ("1500 people", "one thousand five hundred people"),
    ("the 1990s", "the nineteen nineties"),
    ("the '80s", "the eighties"),
    ("500 BC", "five hundred B C"),
    ("1,250,000 people", "one million two hundred fifty thousand people"),
    ("the 3rd and 21st time", "the third and twenty-first time"),
    ("At 10:30 or 9:05 or 7:00", "At ten thirty or nine oh five or seven o'clock"),
    ("Call 007", "Call zero zero seven"),
    ("pages 5-10", "pages five to ten"),
    ("No. 5", "number five"),
    ("Dr. Smith and Mr. Jones met Mrs. Brown.", "Doctor Smith and Mister Jones met Missus Brown."),
    ("fruit, e.g. apples, i.e. food", "fruit, for example apples, that is food"),
    ("apples, pears, etc. Then more.", "apples, pears, et cetera. Then more."),
    ("apples, pears etc. and more", "apples, pears et cetera and more"),
    ("cats vs. dogs", "cats versus dogs"),
    ("Fish & chips", "Fish and chips"),
    ("He said \u201chello\u201d\u2014twice\u2026", 'He said "hello", twice...'),
    ("version 2.5.1", "version two point five point one"),
])
def test_normalize_english(text, spoken):
    assert normalize_english(text) == spoken


def test_normalized_text_has_no_digits_left():
    text = "On 3/4 of 12 days, 7 of 10 people paid $3 for 2 items at 8:15 in 2001 (about 66%)."
    assert not any(ch.isdigit() for ch in normalize_english(text))


def test_clean_drops_emoji_controls_and_foreign_scripts_and_names_them():
    cleaned = clean_for_voice("Hi \U0001F600 there\x07, \u65e5\u672c ok caf\u00e9 \u041f\u0440\u0438", "en-us")
    assert cleaned.text == "Hi there, ok caf\u00e9"
    assert cleaned.dropped == ("\U0001F600", "\x07", "\u65e5", "\u672c", "\u041f", "\u0440", "\u0438")
    message = cleaned.dropped_message()
    assert "U+1F600" in message and "U+0007" in message and "7 characters" in message


def test_clean_keeps_the_voice_script():
    cleaned = clean_for_voice("\u041f\u0440\u0438\u0432\u0435\u0442, world 5", "ru")
    assert cleaned.text == "\u041f\u0440\u0438\u0432\u0435\u0442, world 5"
    assert cleaned.dropped == () and cleaned.dropped_message() is None


def test_clean_keeps_combining_accents_on_letters_only():
    # e + combining acute stays; a variation selector after an emoji goes with the emoji
    cleaned = clean_for_voice("cafe\u0301 \u2764\ufe0f", "en-us")
    assert cleaned.text == "cafe\u0301"
    assert set(cleaned.dropped) == {"\u2764", "\ufe0f"}


def test_split_script_paragraphs_sentences_and_long_clauses():
    long_sentence = ", ".join(["a clause of several words"] * 20) + "."
    text = f"First one. Second one!\nThird without stop\n\nNew paragraph? {long_sentence}\n\n..."
    chunks = split_script(text, max_chars=120)
    assert [c.text for c in chunks[:4]] == ["First one.", "Second one!", "Third without stop",
                                             "New paragraph?"]
    assert [c.pause_before for c in chunks[:4]] == ["none", "sentence", "sentence", "paragraph"]
    rest = chunks[4:]
    assert len(rest) >= 5  # 539 characters cut into pieces of at most 120
    assert all(len(c.text) <= 120 for c in rest)
    assert rest[0].pause_before == "sentence" and {c.pause_before for c in rest[1:]} == {"clause"}
    assert " ".join(c.text for c in rest) == long_sentence  # nothing lost, the '...' line dropped


def test_split_script_cuts_a_sentence_without_commas_between_words():
    sentence = " ".join(["word"] * 100)
    chunks = split_script(sentence, max_chars=60)
    assert all(len(c.text) <= 60 for c in chunks)
    assert " ".join(c.text for c in chunks) == sentence
