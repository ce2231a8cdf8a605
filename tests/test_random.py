"""Random numbers in kernels (hl.rand, hl.randint, hl.rand4x, torch.rand_like & co.) in both CPU modes.

Every draw is Philox-4x32-10 of (seed, offset): the generated Triton code calls
tl.rand, the reference module deuteron.runtime.philox.  Both must give the same
bits, so each test compares a kernel's output with deuteron.runtime.philox on
the offsets the kernel should use (the linear index of each element), which
holds in either mode; test_philox_matches_tl_rand ties that module to Triton.
"""

from __future__ import annotations

import json

import pytest
import torch

import deuteron
import kernels_random as K
from conftest import fresh
from deuteron.runtime import philox


def bits(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().view(torch.int32)


def assert_bits_equal(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype
    assert torch.equal(bits(a), bits(b)), f"{(a != b).sum().item()} of {a.numel()} values differ"


def linear(shape, dtype=torch.int64) -> torch.Tensor:
    n = 1
    for s in shape:
        n *= s
    return torch.arange(n, dtype=dtype).reshape(shape)


def run(kernel, args, **config):
    """Runs `kernel` with one config (the default when none is given)."""
    bound = fresh(kernel).bind(args)
    cfg = deuteron.Config(**config) if config else bound.default_config()
    return bound.compile_config(cfg)(*args)


def torch_seeds(seed: int, count: int) -> list[int]:
    """The seeds a kernel's host code draws after torch.manual_seed(seed)."""
    torch.manual_seed(seed)
    return philox.seeds(count, "cpu").tolist()


# --------------------------------------------------------------- Philox itself

# tl.rand / tl.randint bits for offsets [0, 1, 2, 3, 1000, 2**31 - 1, 2**32 + 5, -7]
# (int64), taken from Triton 3.6's interpreter.
KNOWN = {
    42: ([1061562910, 1019819957, 1051873270, 1057649142, 1054880169, 1052522030, 1041814607, 1063787516],
         [-1662324653, -52747993, -747896283, -1161362315, -940337800, -789416901, 320506372, 1947074177]),
    -3: ([1048671997, 1057189015, 1057018325, 1037966824, 1063512806, 1062390013, 1026785644, 1015472739],
         [-543014801, -1102466087, 1080617708, 232906379, -1911911269, -1768193816, 94112615, 35359122]),
    2**40 + 11: ([1064291694, 1058182364, 1044788514, 1063522444, 1056570518, 1041321165, 1048655461, 1057415281],
                 [-2011608930, -1229614733, 415671396, 1913145004, -1048520146, 304716212, -541956492, -1131428116]),
}
KNOWN_OFFSETS = torch.tensor([0, 1, 2, 3, 1000, 2**31 - 1, 2**32 + 5, -7], dtype=torch.int64)


@pytest.mark.parametrize("seed", sorted(KNOWN))
def test_philox_known_values(seed):
    uniform, ints = KNOWN[seed]
    assert bits(philox.rand(seed, KNOWN_OFFSETS)).tolist() == uniform
    assert philox.randint4x(seed, KNOWN_OFFSETS)[0].tolist() == ints
    # A one-element tensor seed is the same seed.
    assert bits(philox.rand(torch.tensor([seed]), KNOWN_OFFSETS)).tolist() == uniform


def test_philox_matches_tl_rand(mode):
    """deuteron.runtime.philox against Triton's own functions (run by its interpreter)."""
    if mode == "eager":
        # Triton's interpreter is off in this process: the table above stands for it.
        for seed, (uniform, _) in KNOWN.items():
            assert bits(philox.rand(seed, KNOWN_OFFSETS)).tolist() == uniform
        return
    import triton
    import triton.language as tl

    @triton.jit
    def draw(seed, offsets_ptr, out_ptr, n, BLOCK: tl.constexpr):
        idx = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        m = idx < n
        off = tl.load(offsets_ptr + idx, mask=m, other=0)
        u0, u1, u2, u3 = tl.rand4x(seed, off)
        tl.store(out_ptr + idx, u0, mask=m)
        tl.store(out_ptr + n + idx, u1, mask=m)
        tl.store(out_ptr + 2 * n + idx, u2, mask=m)
        tl.store(out_ptr + 3 * n + idx, u3, mask=m)
        tl.store(out_ptr + 4 * n + idx, tl.randn(seed, off), mask=m)

    for seed in (0, 7, -12345, 2**62 + 3):
        for dtype in (torch.int32, torch.int64):
            offsets = (torch.arange(300, dtype=torch.int64) * 7919 - 1000).to(dtype)
            out = torch.empty(5 * 300)
            draw[(2,)](seed, offsets, out, 300, BLOCK=256)
            for got, want in zip(out[:1200].view(4, 300), philox.rand4x(seed, offsets)):
                assert_bits_equal(got, want)
            # Box-Muller: log/cos differ in the last bit between numpy and torch.
            torch.testing.assert_close(out[1200:], philox.randn(seed, offsets), rtol=0, atol=1e-6)


def test_philox_statistics():
    u = philox.rand(2024, torch.arange(1 << 16))
    assert 0.0 <= u.min().item() and u.max().item() < 1.0
    assert abs(u.mean().item() - 0.5) < 0.01
    assert u.unique().numel() > 0.99 * u.numel()
    z = philox.randn(2024, torch.arange(1 << 16))
    assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1.0) < 0.02
    r = philox.randint(2024, torch.arange(1 << 16), -3, 4)
    assert r.dtype == torch.int32 and r.min().item() == -3 and r.max().item() == 3


def test_seeds_are_inductor_prims_seeds():
    """Helion seeds implicit draws with inductor_prims.seeds; so do we, without importing Inductor."""
    from torch._inductor import inductor_prims

    torch.manual_seed(42)
    want = inductor_prims.seeds(3, torch.device("cpu"))
    after_want = torch.rand(4)
    torch.manual_seed(42)
    got = philox.seeds(3, torch.device("cpu"))
    after_got = torch.rand(4)
    assert torch.equal(got, want)
    assert torch.equal(after_got, after_want)  # the generator moved on by as much


# --------------------------------------------------------------- hl.rand

@pytest.mark.parametrize("shape,blocks", [((37, 50), [16, 32]), ((64, 128), [64, 64]), ((5, 3), [8, 2]), ((9, 40), [1, 32])])
def test_rand_is_philox_of_linear_index(mode, shape, blocks):
    x = torch.empty(shape)
    out = run(K.rand_2d, (x, 1337), block_sizes=blocks)
    assert_bits_equal(out, philox.rand(1337, linear(shape)))


def test_rand_same_seed_same_values_any_config(mode):
    x = torch.empty(40, 70)
    a = run(K.rand_2d, (x, 7), block_sizes=[8, 16])
    b = run(K.rand_2d, (x, 7), block_sizes=[32, 64])
    c = run(K.rand_2d, (x, 7), block_sizes=[16, 16], flatten_loops=[True])
    assert_bits_equal(a, b)
    assert_bits_equal(a, c)
    d = run(K.rand_2d, (x, 8), block_sizes=[8, 16])
    assert (a != d).float().mean().item() > 0.99


def test_rand_statistics(mode):
    out = run(K.rand_2d, (torch.empty(128, 128), 99), block_sizes=[32, 64])
    assert out.min().item() >= 0.0 and out.max().item() < 1.0
    assert abs(out.mean().item() - 0.5) < 0.02
    q = torch.quantile(out.flatten(), torch.tensor([0.25, 0.5, 0.75]))
    torch.testing.assert_close(q, torch.tensor([0.25, 0.5, 0.75]), rtol=0, atol=0.02)
    assert out.unique().numel() > 0.99 * out.numel()


def test_rand_dynamic_shapes(mode):
    x = torch.empty(19, 33)
    out = run(K.rand_2d_dynamic, (x, 5), block_sizes=[16, 16])
    assert_bits_equal(out, philox.rand(5, linear(x.shape)))


def test_rand_over_a_whole_dim(mode):
    x = torch.empty(3, 10, 6)
    out = run(K.rand_3d_with_whole_dim, (x, 11), block_sizes=[2, 4])
    assert_bits_equal(out, philox.rand(11, linear(x.shape)))


@pytest.mark.parametrize("seed", [torch.tensor(123), torch.tensor([123]), torch.tensor([123], dtype=torch.int32)])
def test_rand_seed_tensor(mode, seed):
    x = torch.empty(50)
    out = run(K.rand_seed_tensor, (x, seed), block_sizes=[16])
    assert_bits_equal(out, philox.rand(123, linear(x.shape)))


def test_rand_explicit_offsets(mode):
    x = torch.empty(100)
    a, b = run(K.rand_explicit_offsets, (x, 31337), block_sizes=[32])
    base = torch.arange(100, dtype=torch.int64) * 3
    assert_bits_equal(a, philox.rand(31337, base))
    assert_bits_equal(b, philox.rand(31337, base + 1))


def test_rand4x(mode):
    x = torch.empty(123)
    out = run(K.rand4x_masks, (x, 271828), block_sizes=[16])
    for got, want in zip(out, philox.rand4x(271828, torch.arange(123))):
        assert_bits_equal(got, want)


def test_randint(mode):
    x = torch.empty(15, 21)
    out = run(K.randint_2d, (x, 2024), block_sizes=[8, 8])
    assert out.dtype == torch.int32
    assert torch.equal(out, philox.randint(2024, linear(x.shape), -5, 17))
    assert out.min().item() == -5 and out.max().item() == 16


def test_rand_over_rows_in_an_inner_loop(mode):
    x = torch.empty(17, 23)
    out = run(K.rand_rows_in_inner_loop, (x, 314), block_sizes=[8, 8])
    assert_bits_equal(out, philox.rand(314, torch.arange(17))[:, None].expand(17, 23))


def test_rand_with_a_rolled_reduction(mode):
    x = torch.randn(64, 100)
    persistent = run(K.rand_times_row_mean, (x, 42), block_sizes=[32], reduction_loops=[None])
    rolled = run(K.rand_times_row_mean, (x, 42), block_sizes=[32], reduction_loops=[32])
    torch.testing.assert_close(persistent, rolled)
    torch.testing.assert_close(persistent, philox.rand(42, torch.arange(64)) * x.mean(-1), rtol=1e-5, atol=1e-6)


def test_rand_in_a_helper_repeats_the_stream(mode):
    x = torch.empty(11, 13)
    out = run(K.rand_in_helper_twice, (x, 1776), block_sizes=[8, 8])
    assert_bits_equal(out[0], philox.rand(1776, linear(x.shape)))
    assert_bits_equal(out[1], out[0])


# --------------------------------------------------------------- low-memory dropout

def test_low_mem_dropout_masks_agree(mode):
    p, seed = 0.25, 123
    x = torch.randn(5000)
    out = run(K.dropout_fwd, (p, x, seed), block_sizes=[256])
    grad = run(K.dropout_bwd, (p, torch.ones_like(x), seed), block_sizes=[1024])
    assert torch.equal(out != 0, grad != 0)
    keep = philox.rand(seed, torch.arange(5000)) > p
    torch.testing.assert_close(out, torch.where(keep, x * (1.0 / (1 - p)), 0.0))
    assert abs(keep.float().mean().item() - (1 - p)) < 0.02
    # Another seed, another mask.
    other = run(K.dropout_fwd, (p, x, seed + 1), block_sizes=[256])
    assert not torch.equal(out != 0, other != 0)


# --------------------------------------------------------------- torch's generator

def test_rand_like_follows_torch_manual_seed(mode):
    x = torch.ones(17, 19)
    bound = fresh(K.rand_like_twice).bind((x,))
    fn = bound.compile_config(deuteron.Config(block_sizes=[8, 16]))
    s0, s1 = torch_seeds(987, 2)
    torch.manual_seed(987)
    a, b = fn(x)
    assert_bits_equal(a, philox.rand(s0, linear(x.shape)))
    assert_bits_equal(b, philox.rand(s1, linear(x.shape)))
    torch.manual_seed(987)
    a2, _ = fn(x)
    assert_bits_equal(a2, a)
    a3, _ = fn(x)  # the generator moved on
    assert not torch.equal(a3, a)


def test_run_ref_draws_what_the_compiled_kernel_draws(mode):
    """BoundKernel.run_ref (Helion's name) runs the reference back end: the same
    numbers as the mode's own code (the Triton code under TRITON_INTERPRET)."""
    x = torch.ones(17, 19)
    bound = fresh(K.rand_like_twice).bind((x,))
    compiled = bound.compile_config(deuteron.Config(block_sizes=[8, 16]))
    torch.manual_seed(2026)
    a, b = compiled(x)
    torch.manual_seed(2026)
    ra, rb = bound.run_ref(x)  # no config set: the default one (the numbers do not depend on it)
    assert_bits_equal(ra, a)
    assert_bits_equal(rb, b)
    bound.set_config(deuteron.Config(block_sizes=[4, 4]))
    torch.manual_seed(2026)
    assert_bits_equal(bound.run_ref(x)[0], a)


def test_traced_call_does_not_move_the_generator_twice(mode):
    """A compiled call draws its seeds once, as the eager call does (rebuilding the
    kernel's result runs the fake implementation, which draws none)."""
    k = fresh(K.rand_like_with_scale)
    x = torch.ones(8, 16)
    torch.manual_seed(11)
    expect_out, expect_scale = k(x)
    after_eager = torch.rand(1)
    torch._dynamo.reset()
    compiled = torch.compile(lambda t: k(t), fullgraph=True, backend="aot_eager")
    compiled(x)  # compiles (tracing draws nothing real)
    torch.manual_seed(11)
    out, scale = compiled(x)
    assert scale == expect_scale
    assert_bits_equal(out, expect_out)
    assert_bits_equal(torch.rand(1), after_eager)


def test_randn_like(mode):
    x = torch.ones(64, 64)
    (s0,) = torch_seeds(321, 1)
    torch.manual_seed(321)
    out = run(K.randn_like_2d, (x,), block_sizes=[16, 32])
    torch.testing.assert_close(out, philox.randn(s0, linear(x.shape)), rtol=0, atol=1e-6)
    assert abs(out.mean().item()) < 0.05 and abs(out.std().item() - 1.0) < 0.05


def test_explicit_seed_takes_no_implicit_slot(mode):
    x = torch.ones(9, 11)
    (s0,) = torch_seeds(2026, 1)
    torch.manual_seed(2026)
    explicit, implicit = run(K.rand_explicit_then_implicit, (x, 0x12345678), block_sizes=[4, 8])
    assert_bits_equal(explicit, philox.rand(0x12345678, linear(x.shape)))
    assert_bits_equal(implicit, philox.rand(s0, linear(x.shape)))


def test_implicit_slots_across_device_loops(mode):
    x = torch.ones(40)
    s0, s1 = torch_seeds(5, 2)
    torch.manual_seed(5)
    a, b = run(K.rand_two_loops, (x,), block_sizes=[16, 32])
    assert_bits_equal(a, philox.rand(s0, torch.arange(40)))
    assert_bits_equal(b, philox.rand(s1, torch.arange(40)))


def test_implicit_slot_in_a_relowered_loop(mode):
    x = torch.ones(6, 20, dtype=torch.float16)
    (s0,) = torch_seeds(77, 1)
    torch.manual_seed(77)
    noise, sums = run(K.rand_like_half_with_carried_sum, (x,), block_sizes=[4, 8])
    expect = philox.rand(s0, linear(x.shape)).to(torch.float16)
    assert_bits_equal(noise.view(torch.int16).to(torch.int32), expect.view(torch.int16).to(torch.int32))
    torch.testing.assert_close(sums, expect.float().sum(-1), rtol=1e-5, atol=1e-5)


# --------------------------------------------------------------- autotuning

def no_compile(path, launches, target):
    return {"compiled": 0}


def first_is_fastest(fn, options):
    fn()
    return 1e-3 * json.loads(options["config"])["block_sizes"][0]


def test_autotune_a_kernel_drawing_from_torch(monkeypatch):
    """The accuracy check runs every config from the same generator state, so
    torch.rand_like's fresh seeds per call are not wrong answers."""
    from deuteron.autotune import TuneHooks, tune

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.ones(64, 64)
    K.rand_like_twice.reset()
    b = K.rand_like_twice.bind((x,))
    b.settings = b.settings.replace(autotune_cache=False, autotune_progress_bar=False)
    configs = [deuteron.Config(block_sizes=[s, 32]) for s in (16, 32)]
    hooks = TuneHooks(compile_target="test_random:no_compile", measure_target="test_random:first_is_fastest", jobs=1)
    state = torch.random.get_rng_state()
    res = tune(b, (x,), configs, hooks=hooks, return_result=True)
    assert res.config["block_sizes"] == [16, 32], res.failures
    assert not res.failures
    assert torch.equal(torch.random.get_rng_state(), state)  # tuning leaves the caller's generator alone
