"""deuteronc never aborts on a bad command line: every mistake is a usage
error (exit status 2) that says what is wrong, and a kernel error is a
CompileError (exit status 1)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

DEUTERONC = os.path.join(os.path.dirname(sys.executable), "deuteronc")

KERNELS = """\
import torch
import deuteron
import deuteron.language as hl


def helper(v):
    return v + 1


@deuteron.kernel
def add_one(x, y):
    for t in hl.tile(x.size(0)):
        x[t] = helper(y[t])
    return x
"""


def run(tmp_path, *args, text=KERNELS):
    path = tmp_path / "k.py"
    path.write_text(text)
    p = subprocess.run([DEUTERONC, str(path), *args], capture_output=True, text=True, timeout=60)
    assert "terminate called" not in p.stderr and p.returncode >= 0, p.stderr  # never an abort
    return p


@pytest.mark.parametrize(
    "spec, message",
    [
        ("x:float32[abc],y:float32[8]", "argument 'x': size 'abc' is not an integer"),  # was std::invalid_argument
        ("x:float32[-5],y:float32[8]", "argument 'x': size -5 is negative"),
        ("x:float32[8]{-1},y:float32[8]", "argument 'x': stride -1 is negative"),
        ("x:float32[8]{1,y:float32[8]", "missing a closing '}'"),
        ("x:float32[8],x:float32[8]", "argument 'x': given twice"),
        ("x:float32[8],y:float32[99999999999999999999]", "does not fit in int64"),
    ],
)
def test_malformed_args_are_usage_errors(tmp_path, spec, message):
    p = run(tmp_path, "--args", spec)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr


def test_repeated_option_is_an_error(tmp_path):
    p = run(tmp_path, "--args", "x:float32[8],y:float32[8]", "--args", "x:float32[16],y:float32[16]")
    assert p.returncode == 2
    assert "--args is given twice" in p.stderr
    p = run(tmp_path, "--args=x:float32[8],y:float32[8]", "--function", "add_one", "--function=add_one")
    assert "--function is given twice" in p.stderr
    p = run(tmp_path, "--args", "x:float32[8],y:float32[8]", "--time", "abc")
    assert p.returncode == 2 and "--time needs a count" in p.stderr


def test_without_function_the_kernel_is_compiled_not_the_first_def(tmp_path):
    p = run(tmp_path, "--args", "x:float32[8],y:float32[8]", "--dump=ir")
    assert p.returncode == 0, p.stderr
    assert "kernel add_one" in p.stdout or "add_one" in p.stdout


def test_several_kernels_are_listed(tmp_path):
    text = KERNELS + "\n\n@deuteron.kernel\ndef other(x):\n    for t in hl.tile(x.size(0)):\n        x[t] = 0\n"
    p = run(tmp_path, "--args", "x:float32[8]", text=text)
    assert p.returncode == 2
    assert "has several kernels: add_one (line 11), other (line 18); pick one with --function" in p.stderr


def test_missing_argument_is_named(tmp_path):
    # Used to be "... computed by host code that deuteron does not model".
    p = run(tmp_path, "--args", "x:float32[8]")
    assert p.returncode == 2
    assert "--args has no type for argument 'y' of add_one (parameters: x, y)" in p.stderr
    p = run(tmp_path, "--args", "x:float32[8],y:float32[8],z:int")
    assert "--args gives 'z', which is not a parameter of add_one" in p.stderr


def test_folding_errors_are_compile_errors(tmp_path):
    text = KERNELS.replace("    for t in", "    a = (-2)**63 // -1\n    for t in")
    p = run(tmp_path, "--args", "x:float32[8],y:float32[8]", text=text)
    assert p.returncode == 1, p.stderr
    assert "k.py:12:9: error: integer overflow: -9223372036854775808 // -1 does not fit in int64" in p.stderr


def test_star_parameters_of_a_kernel_are_compile_errors(tmp_path):
    # A helper or lambda may take *args / **kwargs (inlined); the kernel itself may not.
    text = KERNELS.replace("def add_one(x, y):", "def add_one(x, y, *rest):")
    p = run(tmp_path, "--args", "x:float32[8],y:float32[8]", text=text)
    assert p.returncode == 1, p.stderr
    assert "k.py:11:19: error: *args parameters of a kernel are not supported" in p.stderr
    text = KERNELS.replace("def helper(v):", "def helper(v, *rest, **kw):")
    p = run(tmp_path, "--args", "x:float32[8],y:float32[8]", text=text)
    assert p.returncode == 0, p.stderr
