"""Lower-face variants behind one seam: every front end lists the registry, and a variant that
cannot dub yet says what to do."""

from __future__ import annotations

import argparse

import pytest

from core import lowerface
from core.commands import JobSpec
from core.errors import DubError


def _choices(parser: argparse.ArgumentParser, command: str, option: str) -> list[str]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return list(next(a for a in sub._actions if option in a.option_strings).choices)


def test_the_cli_offers_exactly_the_registered_variants():
    import main

    parser = main.build_parser()
    assert lowerface.names() == ["sample", "draft", "reference", "paper"]
    assert _choices(parser, "dub", "--renderer") == lowerface.names()
    assert _choices(parser, "run", "--renderer") == lowerface.names()
    assert _choices(parser, "train-renderer", "--renderer") == lowerface.names(trains=True) == ["reference", "paper"]
    assert lowerface.DEFAULT == "sample" and not lowerface.get_variant("sample").trains


def test_a_variant_that_cannot_dub_says_what_to_do(prepared_project):
    assert lowerface.ready_variants(prepared_project) == ["sample", "draft"]
    assert lowerface.trained_network(prepared_project) is None
    with pytest.raises(DubError, match="no network is trained"):
        lowerface.make_synthesizer(prepared_project, "reference")
    with pytest.raises(DubError, match="unknown lower face 'teeth'; use one of sample, draft, reference, paper"):
        lowerface.make_synthesizer(prepared_project, "teeth")
    with pytest.raises(DubError, match="has no network to train"):
        JobSpec("train-renderer", project=prepared_project.root, renderer="sample")
