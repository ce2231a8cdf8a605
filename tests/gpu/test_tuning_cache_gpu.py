"""The shared tuning cache and multi-GPU tuning on real GPUs.

* A kernel tuned in one process is found by a second process with an empty
  local cache, through a real redis-server, and runs at the tuned speed with
  no search (the CPU version: tests/test_tuning_cache_flow.py).
* Tuning benchmarks on every GPU of the host (one worker pinned to each).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

pytestmark = pytest.mark.gpu

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "examples")

SCRIPT = textwrap.dedent("""
    import json, os, sys, torch, triton.testing
    sys.path.insert(0, sys.argv[2])  # examples/
    import deuteron.autotune.driver as driver
    from softmax import softmax as row_softmax

    torch.manual_seed(0)
    x = torch.randn(4096, 8192, device="cuda", dtype=torch.float16)
    expected = torch.softmax(x.float(), dim=1).half()

    def bench(b):
        torch.testing.assert_close(b(x), expected, atol=2e-3, rtol=2e-3)
        return triton.testing.do_bench(lambda: b(x), warmup=25, rep=200, return_mode="median") * 1e-3

    b = row_softmax.bind((x,))
    if sys.argv[1] == "tune":
        # DEUTERON_TUNING_CACHE names the store: the result is published there.
        res = driver.tune(b, (x,), return_result=True)
        b.set_config(res.config)
        print("RESULT", json.dumps({"config": res.config.to_dict(), "seconds": bench(b),
                                    "evaluations": res.evaluations, "runs_per_device": res.runs_per_device}))
    else:
        # A fresh process with an empty local cache: the plain call must find the config in
        # the store; any search fails the test.
        class NoSearch:
            def __init__(self, *a, **k):
                raise AssertionError("a search ran")
        driver.Tuner = NoSearch
        assert not list(b.settings.resolved_cache_dir().glob("autotune/*.json")), "the local cache is not empty"
        first = row_softmax(x)  # chooses its config: local cache (empty), then the shared cache
        torch.testing.assert_close(first, expected, atol=2e-3, rtol=2e-3)
        assert row_softmax.bind((x,)) is b and b.config is not None  # the call's specialization
        print("RESULT", json.dumps({"config": b.config.to_dict(), "seconds": bench(b),
                                    "local_entries": len(list(b.settings.resolved_cache_dir().glob(
                                        "autotune/*.json")))}))
""")


def _run(role: str, url: str, local: str, tmp_path) -> dict:
    script = tmp_path / "tuned_kernel.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, DEUTERON_CACHE_DIR=local, DEUTERON_TUNING_CACHE=url,
               PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    for name in ("DEUTERON_INTERPRET", "TRITON_INTERPRET", "DEUTERON_FORCE_AUTOTUNE", "DEUTERON_AUTOTUNE_EFFORT"):
        env.pop(name, None)
    out = subprocess.run([sys.executable, str(script), role, EXAMPLES], capture_output=True, text=True, env=env,
                         timeout=900, cwd=str(tmp_path))
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-4000:]
    line = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return dict(json.loads(line[len("RESULT "):]), stderr=out.stderr)


def test_tuned_in_one_process_runs_tuned_in_another_through_redis(redis_url, tmp_path):
    tuned = _run("tune", redis_url, str(tmp_path / "local-a"), tmp_path)
    assert tuned["evaluations"] > 1
    used = _run("use", redis_url, str(tmp_path / "local-b"), tmp_path)
    assert "using the tuned config from the shared cache" in used["stderr"], used["stderr"][-3000:]
    assert used["config"] == tuned["config"]
    assert used["local_entries"] >= 1  # the shared hit was copied into the (empty) local cache
    # The tuned speed, without a search: both timed the same way (do_bench median); 25% for
    # the noise between two processes.
    assert used["seconds"] <= 1.25 * tuned["seconds"], (used["seconds"], tuned["seconds"])


def test_tuning_benchmarks_on_every_gpu_of_the_host(tmp_path):
    tuned = _run("tune", str(tmp_path / "shared"), str(tmp_path / "local"), tmp_path)
    same_model = [i for i in range(torch.cuda.device_count())
                  if torch.cuda.get_device_name(i) == torch.cuda.get_device_name(0)]
    assert sorted(int(k) for k in tuned["runs_per_device"]) == same_model
