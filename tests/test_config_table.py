"""One config table: every layer names only the keys of the C++ table
(cpp/src/config/config_keys.cc), and Python's Config accepts exactly the
values the table does."""

from __future__ import annotations

import importlib.util
import json
import os
import re

import pytest
import torch

import deuteron
import kernels_pointwise as K
from conftest import fresh
from deuteron.runtime import config as config_module
from deuteron.runtime.config import CONFIG_KEYS, EVICTION_POLICIES, INDEXING_TYPES, PID_TYPES, Config

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _core():
    from deuteron import _core

    return _core


def _table() -> list[dict]:
    return json.loads(_core().config_keys_json())


TABLE = {k["name"]: k for k in _table()}

# Keys of BoundKernel.config_spec that are not config keys: how many entries
# the per-inner-loop, per-load and per-store keys have, and the tunables'
# names (spec_summary:: in cpp/include/deuteron/config.h).
SPEC_FACTS = {"inner_loops", "range_loops", "nests", "num_loads", "num_stores", "tunables"}


def _bound(kernel, args):
    with pytest.MonkeyPatch.context() as m:
        m.setenv("DEUTERON_INTERPRET", "1")
        return fresh(kernel).bind(args)


def _kernels():
    import attention
    import matmul
    import softmax

    q = torch.randn(1, 2, 64, 32)
    return [
        _bound(K.add, (torch.randn(100), torch.randn(100))),
        _bound(K.tunable_scale, (torch.randn(100),)),
        _bound(softmax.softmax, (torch.randn(16, 200),)),
        _bound(matmul.matmul, (torch.randn(64, 64), torch.randn(64, 48))),
        _bound(attention.attention, (q, q, q)),
    ]


# ------------------------------------------------------------ every layer


def test_python_reads_its_keys_and_values_from_the_table():
    assert CONFIG_KEYS == tuple(TABLE)
    assert PID_TYPES == ("flat", "xyz", "persistent_blocked", "persistent_interleaved")
    assert PID_TYPES == tuple(TABLE["pid_type"]["choices"])
    assert INDEXING_TYPES == tuple(TABLE["indexing"]["choices"])
    assert EVICTION_POLICIES == tuple(TABLE["load_eviction_policies"]["choices"])
    assert set(config_module._CHECKS) == set(TABLE)
    assert set(config_module._SEED_ERA.values()) <= set(TABLE)  # old spellings of table keys
    assert not set(config_module._SEED_ERA) & set(TABLE)


def test_config_spec_normalized_config_and_search_space_name_only_table_keys():
    for bound in _kernels():
        tunables = set(bound.config_spec["tunables"])
        spec_keys = set(bound.config_spec)
        assert spec_keys - set(TABLE) <= SPEC_FACTS, spec_keys - set(TABLE) - SPEC_FACTS
        normalized = json.loads(bound.normalize_config_json("{}"))
        assert set(normalized) == set(TABLE) | tunables
        space = _core().SearchSession(bound.tune_spec_json(), dict(bound.device_info), None, "random", 1,
                                      "quick", None)
        described = json.loads(space.describe())
        assert described, "an empty search space tests nothing"
        for param in described:
            key = re.sub(r"\[\d+\]$", "", param["name"])
            assert key in TABLE or key in tunables, key
            if key in TABLE:
                assert TABLE[key]["searched"], key
                for choice in param["choices"]:
                    assert _core().config_key_accepts(key, json.dumps(choice)), (key, choice)


def test_searched_keys_of_a_matmul_cover_the_tables_fixed_domains():
    import matmul

    bound = _bound(matmul.matmul, (torch.randn(64, 64), torch.randn(64, 48)))
    space = _core().SearchSession(bound.tune_spec_json(), dict(bound.device_info), None, "random", 1, "quick", None)
    choices = {re.sub(r"\[\d+\]$", "", p["name"]): p["choices"] for p in json.loads(space.describe())}
    assert choices["range_unroll_factors"] == TABLE["range_unroll_factors"]["search_values"]
    assert choices["load_eviction_policies"] == TABLE["load_eviction_policies"]["search_values"]
    assert set(map(json.dumps, choices["l2_groupings"])) <= set(map(json.dumps, TABLE["l2_groupings"]["search_values"]))


def test_the_docs_section_is_generated_from_the_table():
    spec = importlib.util.spec_from_file_location("gen_config_docs", os.path.join(ROOT, "scripts", "gen_config_docs.py"))
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    with open(os.path.join(ROOT, "docs", "language.md"), encoding="utf-8") as f:
        text = f.read()
    assert gen.updated(text, gen.render(_table())) == text, "run: python scripts/gen_config_docs.py"
    section = text[text.index(gen.BEGIN):text.index(gen.END)]
    documented = re.findall(r"^\| `(\w+)` \|", section, re.M)
    assert documented == list(TABLE)


def test_deuteronc_prints_the_table():
    import subprocess
    import sys

    exe = os.path.join(os.path.dirname(sys.executable), "deuteronc")  # installed with the package
    out = subprocess.run([exe, "--dump=config-keys"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == _table()


# ------------------------------------------- Python and C++ agree on values


def _probes(spec: dict) -> list:
    kind = spec["kind"]
    common = [None, True, False, "x", [1], {}]
    if kind == "int":
        ints = sorted({-1, 0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 24, 31, 32, 33, 48, 64, 65, 96, 100, 128, 129, 200, 248,
                       255, 256, 257, 264, 512, 1 << 20, (1 << 20) + 1, 1 << 21})
        return common + ints
    if kind == "string":
        return common + list(spec["choices"]) + ["", ".wb", ".ca", "POINTER", "evict_first"]
    if kind == "bool":
        return common + [0, 1]
    return common + [[0], [0, 1], [1, 0], [0, 0], [1, 2], [2, 0, 1], [], [True, False], ["0", "1"]]


def _python_accepts(key: str, value) -> bool:
    try:
        Config(**{key: value})
    except (TypeError, ValueError):
        return False
    return True


# JSON numbers are left out: C++ reads an integral JSON double (64.0) as the
# int, while Config, which never sends one, rejects a float for an int key.
@pytest.mark.parametrize("key", list(TABLE))
def test_python_and_cpp_accept_the_same_values(key):
    spec = TABLE[key]
    for value in _probes(spec):
        if value is None and spec["per"] == "one":
            continue  # None leaves a scalar key out of a Config
        if spec["flattens_nested"] and isinstance(value, list):
            continue  # Config flattens nested lists as Helion does ([[64, 128], [16]], l2_grouping=[2, 4])
        cpp = _core().config_key_accepts(key, json.dumps(value))
        if spec["per"] == "one":
            assert _python_accepts(key, value) == cpp, (key, value, cpp)
            continue
        assert _python_accepts(key, [value]) == cpp, (key, value, cpp)
        if spec["one_value_for_all"] and value is not None and not isinstance(value, list):
            assert _python_accepts(key, value) == cpp, (key, value, cpp)


@pytest.mark.parametrize(
    "key,good,bad",
    [("maxnreg", 64, 33), ("maxnreg", 256, 264), ("num_sm_multiplier", 128, 3), ("num_sm_multiplier", 2, 256),
     ("subtiles", 2, 3), ("num_warps", 32, 64)],
)
def test_python_and_the_normalizer_agree_on_scalar_keys(key, good, bad):
    import matmul

    bound = _bound(matmul.matmul, (torch.randn(64, 64), torch.randn(64, 48)))  # it has sub-tiles to split
    # (num_sm_multiplier counts the programs of a persistent pid_type.)
    extra = {"pid_type": "persistent_blocked"} if key == "num_sm_multiplier" else {}
    assert json.loads(bound.normalize_config_json(json.dumps({key: good, **extra})))[key] == good
    assert Config(**{key: good})[key] == good
    with pytest.raises(deuteron.exc.ConfigError, match=key):
        bound.normalize_config_json(json.dumps({key: bad, **extra}))
    with pytest.raises(ValueError, match=key):
        Config(**{key: bad})


@pytest.mark.parametrize(
    "key,good,bad",
    [("l2_groupings", 4, 3), ("load_cache_modifiers", ".cg", ".wb"), ("store_cache_modifiers", ".wb", ".ca")],
)
def test_python_and_the_normalizer_agree_on_list_entries(key, good, bad):
    import matmul

    bound = _bound(matmul.matmul, (torch.randn(64, 64), torch.randn(64, 48)))
    n = len(json.loads(bound.normalize_config_json("{}"))[key])
    assert n >= 1
    assert json.loads(bound.normalize_config_json(json.dumps({key: [good] * n})))[key] == [good] * n
    Config(**{key: [good] * n})
    with pytest.raises(deuteron.exc.ConfigError, match=key):
        bound.normalize_config_json(json.dumps({key: [bad] * n}))
    with pytest.raises(ValueError, match=key):
        Config(**{key: [bad] * n})
