"""``check_choice``: one message shape for every "unknown X" error, fed by the defining tuple/registry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asvbench._choices import check_choice
from asvbench.errors import AsvbenchError

EER_LIKE = ("interp", "rocch", "roc")
REGISTRY = {"default": object(), "asvspoof5": object()}


@pytest.mark.parametrize("value, choices, what, kwargs, want", [
    # value, choices, what, extra arguments, the full formatted message
    ("bogus", EER_LIKE, "EER method", {},
     "unknown EER method 'bogus'\n  hint: choose one of: interp, rocch, roc"),
    ("ROC", EER_LIKE, "EER method", {},  # case matters: the choices are exact spellings
     "unknown EER method 'ROC'\n  hint: choose one of: interp, rocch, roc"),
    ("x", REGISTRY, "a-DCF cost setting", {},  # a mapping offers its keys, in order
     "unknown a-DCF cost setting 'x'\n  hint: choose one of: default, asvspoof5"),
    (".md", (".png", ".pdf"), "plot format", {"where": "out/plot.md", "hint": "name the file with one of: .png, .pdf"},
     "out/plot.md: unknown plot format '.md'\n  hint: name the file with one of: .png, .pdf"),
    ("", ("a",), "--dtype", {}, "unknown --dtype ''\n  hint: choose one of: a"),
])
def test_unknown_value_message(value, choices, what, kwargs, want):
    with pytest.raises(AsvbenchError) as info:
        check_choice(value, choices, what, **kwargs)
    assert info.value.format() == want


@pytest.mark.parametrize("value, choices", [("roc", EER_LIKE), ("asvspoof5", REGISTRY), (3, (1, 2, 3))])
def test_known_value_is_returned(value, choices):
    assert check_choice(value, choices, "thing") is value


def test_choices_may_be_a_one_shot_iterable():
    # a generator is read once: the membership test and the hint see the same values
    with pytest.raises(AsvbenchError, match="choose one of: a, b"):
        check_choice("c", (x for x in "ab"), "letter")


@given(value=st.text(max_size=8), choices=st.lists(st.text(min_size=1, max_size=8), max_size=6, unique=True))
def test_accepts_exactly_the_choices(value, choices):
    if value in choices:
        assert check_choice(value, tuple(choices), "thing") == value
        return
    with pytest.raises(AsvbenchError) as info:
        check_choice(value, tuple(choices), "thing")
    assert info.value.what == f"unknown thing {value!r}"
    assert info.value.hint == "choose one of: " + ", ".join(choices)
