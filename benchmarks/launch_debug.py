import time, torch, triton
import deuteron, deuteron.language as hl
from deuteron.runtime import launcher

@deuteron.kernel(config=deuteron.Config(block_sizes=[1024]))
def add_simple(x, y):
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out

x = torch.randn(1024, device="cuda"); y = torch.randn(1024, device="cuda")
add_simple(x, y)
b = add_simple.bind((x, y))
m = b._run._deuteron_module
k = m._add_simple_kernel
print("launch fn:", m._launch)
print("cache:", k.__dict__.get("_deuteron_compiled"))
print("hooks:", triton.knobs.runtime.launch_enter_hook, triton.knobs.runtime.launch_exit_hook)
out = torch.empty_like(x)
def t(f, n=20000):
    for _ in range(100): f()
    torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(n): f()
    torch.cuda.synchronize(); return (time.perf_counter() - t0) / n * 1e6
print("jit launch us", t(lambda: k[(1,)](x, y, out, 1024, num_warps=4, num_stages=1)))
print("fast launcher us", t(lambda: launcher.fast_launcher(k, (1,), x, y, out, 1024, num_warps=4, num_stages=1)))
c = list(k.__dict__.get("_deuteron_compiled", {}).values())
if c:
    c = c[0]
    dev = torch.cuda.current_device()
    print("raw run us", t(lambda: c.run(1, 1, 1, torch._C._cuda_getCurrentRawStream(dev), c.function, c.packed_metadata, None, None, None, x, y, out, 1024)))
print("sig us", t(lambda: launcher._launch_signature((x, y, out, 1024))))
print("eager us", t(lambda: x + y))
print("full call us", t(lambda: add_simple(x, y)))
