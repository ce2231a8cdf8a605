"""Functions passed to kernels on the GPU: lambdas and helpers with *args and
**kwargs (Helion's flex_attention passes `lambda score, *_: torch.tanh(score)`),
and tensor creation with sizes given every way torch takes them, on the host
and in tiles (Helion's mamba2_chunk_state: `B.new_empty(b, c, h, p, n)`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

pytestmark = pytest.mark.gpu

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import kernels_callables as K  # noqa: E402
import test_creation_ops as C  # noqa: E402


def _score_ref(x, fn):
    rows = torch.arange(x.size(0), device=x.device)[:, None].float()
    cols = torch.arange(x.size(1), device=x.device)[None, :].float()
    return fn(x, 0, 1, rows, cols)


@pytest.mark.parametrize("fn", [lambda score, *_: torch.tanh(score),
                                lambda s, *rest: s + rest[3] * len(rest),
                                K.gather_rest])
def test_star_args_gpu(fn):
    x = torch.randn(300, 200, device="cuda")
    K.score_mod_rows.reset()
    torch.testing.assert_close(K.score_mod_rows(x, fn), _score_ref(x, fn), atol=1e-5, rtol=1e-5)


def test_star_args_and_kwargs_gpu():
    x = torch.randn(1000, device="cuda")
    K.with_keywords.reset()
    torch.testing.assert_close(K.with_keywords(x, K.keywords_gathered), x * 0.5 + 4.0)


def test_creation_sizes_every_way_gpu():
    x = torch.randn(210, 350, device="cuda")
    C.host_sizes_every_way.reset()
    a, b, c, d, e, f, g, h, i = C.host_sizes_every_way(x)
    torch.testing.assert_close(a, torch.stack([x, -x], dim=1))
    torch.testing.assert_close(b, x.double())
    for got, expect in ((c, x + 1), (d, x * 2), (e, x * 3), (f, x * 4), (g, 1 - x), (h, x + 0.5), (i, x + 7)):
        torch.testing.assert_close(got, expect)
    C.tile_sizes_every_way.reset()
    torch.testing.assert_close(C.tile_sizes_every_way(x), x + 6)


def test_callable_objects_and_partials_gpu():
    import functools

    import test_callables as T

    x, y, bias = (torch.randn(256, 128, device="cuda"), torch.randn(128, 192, device="cuda"),
                  torch.randn(192, device="cuda"))
    K.matmul_epilogue.reset()
    # (float32 dots run as TF32 by default on the GPU: 0.011 off at K = 128 seen on an H100.)
    torch.testing.assert_close(K.matmul_epilogue(x, y, T.BiasEpilogue(bias)), x @ y + bias, atol=5e-2, rtol=5e-2)
    v, shift = torch.randn(5000, device="cuda"), torch.randn(1, device="cuda")
    K.apply.reset()
    torch.testing.assert_close(K.apply(v, T.Affine(3.0, shift)), v * 3.0 + shift)
    torch.testing.assert_close(K.apply(v, functools.partial(T.scaled, factor=2.0, offset=1.0)), v * 2.0 + 1.0)
