import copy
import json
import math
import os
import pickle
import types

import pytest

from deuteron.runtime.config import CONFIG_KEYS, Config

FULL = dict(
    block_sizes=[64, 128, 32],
    loop_orders=[[1, 0]],
    flatten_loops=[False],
    l2_groupings=[8],
    reduction_loops=[None, 64],
    static_ranges=[True],
    range_unroll_factors=[0, 4],
    range_num_stages=[0, 3],
    range_multi_buffers=[None, True],
    range_flattens=[False, None],
    range_warp_specializes=[None, None],
    num_warps=8,
    num_stages=3,
    pid_type="persistent_interleaved",
    num_sm_multiplier=2,
    maxnreg=128,
    subtiles=2,
    indexing=["pointer", "tensor_descriptor", "block_ptr"],
    atomic_indexing="pointer",
    load_eviction_policies=["", "first", "last"],
    load_cache_modifiers=["", ".cg"],
    store_cache_modifiers=[".wb"],
)


# ------------------------------------------------------------ construction


def test_every_config_key_is_accepted_and_kept_in_canonical_order():
    shuffled = dict(reversed(list(FULL.items())))
    cfg = Config(**shuffled, zeta=1, alpha="a")
    assert list(cfg) == list(CONFIG_KEYS) + ["alpha", "zeta"]
    for key, value in FULL.items():
        assert cfg[key] == value
    assert len(cfg) == len(CONFIG_KEYS) + 2


def test_none_means_not_set_for_config_keys():
    cfg = Config(num_warps=None, maxnreg=None, block_sizes=[16])
    assert "num_warps" not in cfg
    assert "maxnreg" not in cfg
    assert cfg == Config(block_sizes=[16])


def test_tuples_become_lists():
    cfg = Config(block_sizes=(32, 16), loop_orders=((1, 0),), tun=(1, (2, 3)))
    assert cfg.block_sizes == [32, 16]
    assert cfg.loop_orders == [[1, 0]]
    assert cfg.tun == [1, [2, 3]]
    assert cfg == Config(block_sizes=[32, 16], loop_orders=[[1, 0]], tun=[1, [2, 3]])


def test_user_tunables_accept_json_values():
    cfg = Config(a=1, b=2.5, c=True, d="s", e=None, f=[1, [2.0, "x", None, False]])
    assert cfg.to_dict() == dict(a=1, b=2.5, c=True, d="s", e=None, f=[1, [2.0, "x", None, False]])


@pytest.mark.parametrize("bad", [object(), {"k": 1}, {1, 2}, b"bytes", 1j, [1, object()]])
def test_user_tunable_that_is_not_json_is_a_type_error_naming_the_key(bad):
    with pytest.raises(TypeError, match="my_tunable"):
        Config(my_tunable=bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, [1.0, -math.inf]])
def test_user_tunable_non_finite_float_rejected(bad):
    with pytest.raises(ValueError, match="my_tunable.*finite"):
        Config(my_tunable=bad)


# ----------------------------------------------------------- normalization


def test_nested_block_sizes_flatten():
    assert Config(block_sizes=[[64, 128], [16]]).block_sizes == [64, 128, 16]
    assert Config(block_sizes=[[64, 128], 16]).block_sizes == [64, 128, 16]
    assert Config(block_sizes=[[64, 128], [16]]) == Config(block_sizes=[64, 128, 16])


def test_deeper_nesting_flattens_as_in_helion():
    # Helion flattens its per-loop lists whatever the depth (map_aggregate).
    assert Config(block_sizes=[[[64]], [16]]).block_sizes == [64, 16]
    assert Config(l2_grouping=[2, 4]).l2_groupings == [2, 4]
    assert Config(range_unroll_factors=[[1], [2, 4]]).range_unroll_factors == [1, 2, 4]
    # loop_orders entries are lists themselves.
    assert Config(loop_order=[1, 0]).loop_orders == [[1, 0]]
    with pytest.raises(TypeError, match="indexing"):
        Config(indexing=[["pointer"]])


def test_l2_grouping_becomes_l2_groupings():
    cfg = Config(l2_grouping=4)
    assert cfg.l2_groupings == [4]
    assert "l2_grouping" not in cfg
    assert cfg == Config(l2_groupings=[4])
    assert "l2_groupings" not in Config(l2_grouping=None)


def test_loop_order_becomes_loop_orders():
    cfg = Config(loop_order=[1, 0])
    assert cfg.loop_orders == [[1, 0]]
    assert "loop_order" not in cfg


def test_reduction_loop_is_kept_for_every_reduction_dim():
    # As in Helion, reduction_loop stands for every reduction dimension; the kernel
    # it is used with expands it (test_helion_surface.py), so the Config keeps it.
    assert Config(reduction_loop=64).reduction_loop == 64
    assert "reduction_loops" not in Config(reduction_loop=64)
    # None is a meaningful value (persistent reduction), so it is kept.
    assert Config(reduction_loop=None).reduction_loop is None
    with pytest.raises(TypeError):
        Config(reduction_loop="yes")


def test_use_yz_grid():
    assert Config(use_yz_grid=True).pid_type == "xyz"
    assert "pid_type" not in Config(use_yz_grid=False)
    assert "use_yz_grid" not in Config(use_yz_grid=True)
    with pytest.raises(TypeError, match="use_yz_grid"):
        Config(use_yz_grid="yes")


@pytest.mark.parametrize(
    "old,new",
    [
        (dict(l2_grouping=4), dict(l2_groupings=[4])),
        (dict(loop_order=[1, 0]), dict(loop_orders=[[1, 0]])),
        (dict(reduction_loop=16), dict(reduction_loops=[16])),
        (dict(use_yz_grid=True), dict(pid_type="xyz")),
        (dict(use_yz_grid=False), dict(pid_type="flat")),
    ],
)
def test_old_and_new_spelling_together_is_a_value_error(old, new):
    with pytest.raises(ValueError) as info:
        Config(**old, **new)
    message = str(info.value)
    assert repr(next(iter(old))) in message
    assert repr(next(iter(new))) in message


# ------------------------------------------------------------- type checks


@pytest.mark.parametrize(
    "kwargs,exc,fragments",
    [
        (dict(block_sizes=[48]), ValueError, ["'block_sizes'", "48", "powers of two"]),
        (dict(block_sizes=[64, 0]), ValueError, ["'block_sizes'", "entry [1]", "got 0"]),
        (dict(block_sizes=[-16]), ValueError, ["-16"]),
        (dict(block_sizes=64), TypeError, ["'block_sizes'", "got 64", "a list"]),
        (dict(block_sizes=[True]), TypeError, ["'block_sizes'", "True"]),
        (dict(block_sizes=[64.0]), TypeError, ["'block_sizes'", "64.0"]),
        (dict(loop_orders=[1, 0]), TypeError, ["'loop_orders'", "permutation"]),
        (dict(loop_orders=[[0, 0]]), ValueError, ["'loop_orders'", "[0, 0]", "permutation of 0..1"]),
        (dict(loop_orders=[[1, 2]]), ValueError, ["permutation of 0..1"]),
        (dict(flatten_loops=[1]), TypeError, ["'flatten_loops'", "True or False"]),
        (dict(l2_groupings=[0]), ValueError, ["'l2_groupings'", "got 0", "1..64"]),
        (dict(l2_groupings=[65]), ValueError, ["65", "1..64"]),
        (dict(reduction_loops=[24]), ValueError, ["'reduction_loops'", "24", "None (persistent)"]),
        (dict(static_ranges=[None]), TypeError, ["'static_ranges'", "None"]),
        (dict(range_unroll_factors=[5]), ValueError, ["'range_unroll_factors'", "5", "0..4"]),
        (dict(range_num_stages=[-1]), ValueError, ["'range_num_stages'", "-1", "0..4"]),
        (dict(range_multi_buffers=["yes"]), TypeError, ["'range_multi_buffers'", "'yes'", "None, False or True"]),
        (dict(range_flattens=[0]), TypeError, ["'range_flattens'"]),
        (dict(range_warp_specializes=True), TypeError, ["'range_warp_specializes'", "a list"]),
        (dict(num_warps=3), ValueError, ["'num_warps'", "got 3", "1..32"]),
        (dict(num_warps=64), ValueError, ["'num_warps'", "64", "1, 2, 4, 8, 16, 32"]),
        (dict(num_warps=0), ValueError, ["'num_warps'"]),
        (dict(num_warps="4"), TypeError, ["'num_warps'", "'4'"]),
        (dict(num_warps=True), TypeError, ["'num_warps'", "True"]),
        (dict(num_stages=0), ValueError, ["'num_stages'", "got 0", "1..8"]),
        (dict(num_stages=9), ValueError, ["'num_stages'", "9", "1..8"]),
        (dict(pid_type="grid"), ValueError, ["'pid_type'", "'grid'", "'flat'", "'xyz'", "'persistent_blocked'", "'persistent_interleaved'"]),
        (dict(pid_type=1), TypeError, ["'pid_type'"]),
        (dict(num_sm_multiplier=0), ValueError, ["'num_sm_multiplier'", "1..128"]),
        (dict(num_sm_multiplier=3), ValueError, ["'num_sm_multiplier'", "got 3", "a power of two 1..128"]),
        (dict(maxnreg=-1), ValueError, ["'maxnreg'", "-1"]),
        (dict(maxnreg=33), ValueError, ["'maxnreg'", "got 33", "a multiple of 8 in 32..256"]),
        (dict(maxnreg=512), ValueError, ["'maxnreg'", "got 512", "None (no limit)"]),
        (dict(l2_groupings=[3]), ValueError, ["'l2_groupings'", "got 3", "powers of two 1..64"]),
        (dict(subtiles=3), ValueError, ["'subtiles'", "got 3", "1, 2 or 4"]),
        (dict(block_sizes=[1 << 21]), ValueError, ["'block_sizes'", "2097152", "1..1048576"]),
        (dict(load_cache_modifiers=[".wb"]), ValueError, ["'load_cache_modifiers'", "'.wb'", "'.cg'"]),
        (dict(store_cache_modifiers=[".ca"]), ValueError, ["'store_cache_modifiers'", "'.ca'", "'.wb'"]),
        (dict(indexing="ptr"), ValueError, ["'indexing'", "'ptr'", "'pointer'", "'tensor_descriptor'", "'block_ptr'"]),
        (dict(indexing=["pointer", "bad"]), ValueError, ["'indexing'", "entry [1]", "'bad'"]),
        (dict(indexing=3), TypeError, ["'indexing'"]),
        (dict(atomic_indexing="x"), ValueError, ["'atomic_indexing'", "'x'"]),
        (dict(load_eviction_policies=["middle"]), ValueError, ["'load_eviction_policies'", "'middle'", "'first'", "'last'"]),
        (dict(load_eviction_policies="first"), TypeError, ["'load_eviction_policies'", "a list"]),
        (dict(load_cache_modifiers=[1]), TypeError, ["'load_cache_modifiers'"]),
        (dict(store_cache_modifiers=[None]), TypeError, ["'store_cache_modifiers'"]),
    ],
)
def test_bad_values_name_key_value_and_allowed(kwargs, exc, fragments):
    with pytest.raises(exc) as info:
        Config(**kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_int_like_objects_are_accepted_for_ints():
    class Idx:
        def __index__(self):
            return 32

    assert Config(block_sizes=[Idx()], num_warps=Idx()).to_dict() == dict(block_sizes=[32], num_warps=32)


# ----------------------------------------------------------------- mapping


def test_mapping_interface():
    cfg = Config(block_sizes=[64, 64], num_warps=4, tun="x")
    assert list(cfg.keys()) == ["block_sizes", "num_warps", "tun"]
    assert list(cfg.items()) == [("block_sizes", [64, 64]), ("num_warps", 4), ("tun", "x")]
    assert list(cfg.values()) == [[64, 64], 4, "x"]
    assert cfg["num_warps"] == 4
    assert cfg.get("num_warps") == 4
    assert cfg.get("num_stages") is None
    assert cfg.get("num_stages", 2) == 2
    assert "tun" in cfg and "num_stages" not in cfg
    assert len(cfg) == 3
    assert dict(cfg) == cfg.to_dict()
    assert (lambda **kw: kw)(**cfg) == cfg.to_dict()
    with pytest.raises(KeyError):
        cfg["num_stages"]


def test_attribute_access():
    cfg = Config(block_sizes=[64, 64], tun=3)
    assert cfg.block_sizes == [64, 64]
    assert cfg.tun == 3
    with pytest.raises(AttributeError, match="'num_warps'"):
        cfg.num_warps
    assert not hasattr(cfg, "num_warps")
    with pytest.raises(AttributeError):
        cfg._private


def test_values_handed_out_are_copies_and_config_is_immutable():
    cfg = Config(block_sizes=[64, 64], tun=[[1]])
    cfg.block_sizes.append(8)
    cfg["block_sizes"][0] = 1
    cfg.tun[0].append(2)
    cfg.to_dict()["block_sizes"].clear()
    assert cfg.block_sizes == [64, 64]
    assert cfg.tun == [[1]]
    with pytest.raises(AttributeError, match="immutable"):
        cfg.num_warps = 8
    with pytest.raises(AttributeError, match="immutable"):
        del cfg.block_sizes


def test_input_lists_are_not_aliased():
    sizes = [64, 64]
    cfg = Config(block_sizes=sizes)
    sizes.append(2)
    assert cfg.block_sizes == [64, 64]


# --------------------------------------------------------- equality, hash


def test_equality_and_hash():
    a = Config(num_warps=4, block_sizes=[64, 32])
    b = Config(block_sizes=[64, 32], num_warps=4)
    assert a == b and not (a != b)
    assert hash(a) == hash(b)
    assert len({a, b, Config(num_warps=8)}) == 2
    assert a != Config(num_warps=4, block_sizes=[32, 64])
    assert Config(t=1) != Config(t=1.0)
    assert Config(t=1) != Config(t=True)
    assert (a == {"num_warps": 4, "block_sizes": [64, 32]}) is False
    assert hash(a) == hash(a.to_json())


# -------------------------------------------------------------------- JSON


def test_to_json_is_canonical_and_compact():
    cfg = Config(zz=1, aa=[1.5, None], num_warps=4, block_sizes=[[64], [32]], pid_type="flat")
    assert cfg.to_json() == (
        '{"block_sizes":[64,32],"num_warps":4,"pid_type":"flat","aa":[1.5,null],"zz":1}'
    )


def test_to_json_indented():
    cfg = Config(num_warps=4, block_sizes=[64], tun=[])
    assert cfg.to_json(indent=2) == (
        '{\n  "block_sizes": [\n    64\n  ],\n  "num_warps": 4,\n  "tun": []\n}'
    )


def test_json_round_trip():
    cfg = Config(**FULL, tun_a=0.25, tun_b=["x", None, True], tun_c="é")
    assert '"tun_c":"é"' in cfg.to_json()  # UTF-8 passes through, like the C++ writer
    for indent in (None, 0, 2):
        back = Config.from_json(cfg.to_json(indent=indent))
        assert back == cfg
        assert back.to_json() == cfg.to_json()
    assert Config.from_json(cfg.to_json().encode()) == cfg


def test_from_json_normalizes_seed_era_keys():
    cfg = Config.from_json('{"block_sizes":[[64,64],[32]],"l2_grouping":4,"use_yz_grid":true}')
    assert cfg == Config(block_sizes=[64, 64, 32], l2_groupings=[4], pid_type="xyz")


@pytest.mark.parametrize(
    "text,exc,fragment",
    [
        ("[1, 2]", ValueError, "must be an object"),
        ('{"num_warps": 4, "num_warps": 8}', ValueError, "duplicate key 'num_warps'"),
        ('{"tun": NaN}', ValueError, "NaN"),
        ('{"tun": Infinity}', ValueError, "Infinity"),
        ('{"num_warps": 4,}', ValueError, None),
        ('{"num_warps": 3}', ValueError, "num_warps"),
        ('{"tun": {"a": 1}}', TypeError, "tun"),
    ],
)
def test_from_json_errors(text, exc, fragment):
    with pytest.raises(exc, match=fragment):
        Config.from_json(text)


def test_dict_round_trip():
    cfg = Config(**FULL, tun=1)
    d = cfg.to_dict()
    assert list(d) == list(cfg)
    assert Config.from_dict(d) == cfg
    assert Config.from_dict({"l2_grouping": 2}) == Config(l2_groupings=[2])
    with pytest.raises(TypeError, match="mapping"):
        Config.from_dict([("num_warps", 4)])
    with pytest.raises(TypeError, match="strings"):
        Config.from_dict({1: 2})


# --------------------------------------------------------------- save/load


def test_save_and_load(tmp_path):
    cfg = Config(**FULL, tun=[1, 2])
    path = tmp_path / "best.json"
    cfg.save(path)
    assert path.read_text(encoding="utf-8") == cfg.to_json(indent=2) + "\n"
    assert Config.load(path) == cfg
    assert Config.load(str(path)) == cfg
    assert os.listdir(tmp_path) == ["best.json"]  # no temp file left over


def test_save_is_atomic_via_temp_file_in_same_directory(tmp_path, monkeypatch):
    path = tmp_path / "cfg.json"
    old = Config(num_warps=4)
    old.save(path)
    before = path.read_text()
    calls = []
    real_replace = os.replace

    def failing_replace(src, dst):
        calls.append((os.fspath(src), os.fspath(dst)))
        assert os.path.exists(src)
        assert Config.load(src) == Config(num_warps=8)  # fully written first
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk gone"):
        Config(num_warps=8).save(path)
    assert path.read_text() == before  # the old file is untouched
    assert os.listdir(tmp_path) == ["cfg.json"]  # the temp file was removed
    (src, dst), = calls
    assert os.path.dirname(src) == str(tmp_path)
    assert dst == str(path)

    monkeypatch.setattr(os, "replace", real_replace)
    Config(num_warps=8).save(path)
    assert Config.load(path) == Config(num_warps=8)


def test_save_keeps_existing_file_mode(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text("{}")
    os.chmod(path, 0o600)
    Config(num_warps=2).save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    fresh = tmp_path / "fresh.json"
    Config().save(fresh)
    assert os.stat(fresh).st_mode & 0o777 == 0o644


def test_load_error_names_the_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"num_warps": 5}')
    with pytest.raises(ValueError, match="bad.json.*num_warps"):
        Config.load(path)


# -------------------------------------------------------------------- repr


def _eval_repr(cfg):
    namespace = {"deuteron": types.SimpleNamespace(Config=Config)}
    return eval(repr(cfg), namespace)


def test_repr_is_ready_to_paste_code():
    assert repr(Config(block_sizes=[64, 64], num_warps=4)) == (
        "deuteron.Config(block_sizes=[64, 64], num_warps=4)"
    )
    assert repr(Config()) == "deuteron.Config()"
    assert repr(Config(pid_type="xyz", tun=None)) == "deuteron.Config(pid_type='xyz', tun=None)"


def test_repr_evaluates_back_to_an_equal_config():
    cfgs = [
        Config(),
        Config(**FULL),
        Config(**FULL, t_float=0.1, t_str="it's \"quoted\" é", t_none=None, t_list=[1, [True, None]]),
        Config(**{"class": 1, "not-an-identifier": [2], "self": 3, "num_warps": 2}),
    ]
    for cfg in cfgs:
        back = _eval_repr(cfg)
        assert back == cfg
        assert back.to_json() == cfg.to_json()


# ------------------------------------------------------------------ merged


def test_merged():
    base = Config(block_sizes=[64, 64], num_warps=4, l2_groupings=[2], tun=1)
    new = base.merged(num_warps=8, num_stages=2, tun=2)
    assert new == Config(block_sizes=[64, 64], num_warps=8, num_stages=2, l2_groupings=[2], tun=2)
    assert base == Config(block_sizes=[64, 64], num_warps=4, l2_groupings=[2], tun=1)
    assert "num_warps" not in base.merged(num_warps=None)
    assert base.merged(l2_grouping=8).l2_groupings == [8]
    assert base.merged(block_sizes=[[16], [16]]).block_sizes == [16, 16]
    assert Config(pid_type="xyz").merged(use_yz_grid=False) == Config()
    assert Config().merged(use_yz_grid=True) == Config(pid_type="xyz")
    with pytest.raises(ValueError, match="num_warps"):
        base.merged(num_warps=5)
    with pytest.raises(ValueError, match="both"):
        base.merged(l2_grouping=8, l2_groupings=[8])


# ------------------------------------------------------------ pickle, copy


def test_pickle_and_copy():
    cfg = Config(**FULL, tun=[1, 2])
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    assert copy.copy(cfg) is cfg
    assert copy.deepcopy(cfg) is cfg


def test_json_matches_json_module_canonical_form():
    cfg = Config(**FULL, tun=0.1)
    assert json.loads(cfg.to_json()) == cfg.to_dict()
    assert cfg.to_json() == json.dumps(cfg.to_dict(), separators=(",", ":"), ensure_ascii=False)


def test_config_attribute_is_a_read_only_dict_of_the_keys():
    """Helion programs read ``config.config`` (Helion's attribute): the keys and values."""
    cfg = Config(block_sizes=[32, 64], num_warps=4, my_tunable=3)
    d = cfg.config
    assert isinstance(d, dict) and d == cfg.to_dict()
    assert d["block_sizes"] == [32, 64] and d["my_tunable"] == 3
    assert list(cfg.config.items()) == list(cfg.items())
    for change in (lambda: d.pop("num_warps"), lambda: d.__setitem__("num_warps", 8),
                   lambda: d.__delitem__("num_warps"), lambda: d.update(num_warps=8), d.clear):
        with pytest.raises(TypeError, match="merged"):
            change()
    assert cfg["num_warps"] == 4 and cfg.config["num_warps"] == 4
    d["block_sizes"].append(128)  # a copy: the config does not change
    assert cfg.block_sizes == [32, 64]
