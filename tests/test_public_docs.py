"""The public surface explains itself: docstrings on every public name, no stray names."""

from __future__ import annotations

import inspect

import deuteron
import deuteron.language as hl


def test_every_hl_name_has_a_docstring_with_its_call_form():
    for name in hl.__all__:
        obj = getattr(hl, name)
        doc = inspect.getdoc(obj) or ""
        assert doc.strip(), f"hl.{name} has no docstring"
        if name in hl._DEVICE_FUNCTIONS:
            # Device functions say how they are called (the compiler reads them; help() is all users get).
            assert f"hl.{name}" in doc or "for " in doc, f"hl.{name}'s docstring shows no call: {doc!r}"


def test_device_functions_outside_a_kernel_say_why():
    try:
        hl.tile(4)
    except deuteron.exc.NotInsideKernelError as e:
        assert "inside a deuteron kernel" in str(e)
    else:
        raise AssertionError("hl.tile ran as Python")


def test_every_public_deuteron_name_has_a_docstring():
    for name in deuteron.__all__:
        if name == "__version__":
            continue
        assert (inspect.getdoc(getattr(deuteron, name)) or "").strip(), f"deuteron.{name} has no docstring"


def test_dir_deuteron_shows_no_typing_helpers():
    names = set(dir(deuteron))
    assert not names & {"Any", "Callable", "Sequence", "annotations", "Optional", "Union"}, sorted(names)
