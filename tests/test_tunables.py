"""hl.register_tunable: user tunables are config keys with validated ranges."""

from __future__ import annotations

import pytest
import torch

import deuteron
import kernels_pointwise as K
from conftest import fresh


def test_tunables_are_config_keys_with_defaults(mode):
    x = torch.randn(100)
    bound = fresh(K.tunable_scale).bind((x,))
    assert bound.config_spec["tunables"] == ["factor", "negate"]
    d = bound.default_config()
    assert d["factor"] == 2 and d["negate"] is False
    torch.testing.assert_close(K.tunable_scale(x), x * 2)


def test_config_spec_user_defined_tunables_are_the_registered_fragments(mode):
    # Helion's ConfigSpec.user_defined_tunables: name -> fragment, as the kernel registered it.
    from deuteron.autotuner import BooleanFragment, IntegerFragment

    tunables = fresh(K.tunable_scale).bind((torch.randn(100),)).config_spec.user_defined_tunables
    assert tunables == {"factor": IntegerFragment(1, 4, 2), "negate": BooleanFragment(False)}
    assert fresh(K.add).bind((torch.randn(4), torch.randn(4))).config_spec.user_defined_tunables == {}


@pytest.mark.parametrize("factor,negate", [(1, False), (3, True), (4, False)])
def test_tunable_values_change_the_kernel(mode, factor, negate):
    x = torch.randn(100)
    bound = fresh(K.tunable_scale).bind((x,))
    cfg = deuteron.Config(block_sizes=[32], factor=factor, negate=negate)
    out = bound.compile_config(cfg)(x)
    torch.testing.assert_close(out, x * factor * (-1 if negate else 1))
    other = deuteron.Config(block_sizes=[32], factor=factor % 4 + 1, negate=negate)
    assert bound.to_triton_code(cfg) != bound.to_triton_code(other)  # the value is compiled in


def test_tunable_out_of_range_is_a_config_error(monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    x = torch.randn(10)
    bound = fresh(K.tunable_scale).bind((x,))
    with pytest.raises(deuteron.exc.ConfigError, match="factor"):
        bound.normalize_config(deuteron.Config(factor=7))
    with pytest.raises(deuteron.exc.ConfigError, match="negate"):
        bound.normalize_config(deuteron.Config(negate=3))
