import os
import pathlib
import pickle

import pytest
import torch

from deuteron.runtime import settings as settings_module
from deuteron.runtime.settings import Settings, process_random_seed

NAMES = (
    "static_shapes",
    "autotune_effort",
    "autotune_random_seed",
    "autotune_compile_timeout",
    "autotune_precompile_jobs",
    "autotune_accuracy_check",
    "autotune_baseline_fn",
    "autotune_baseline_atol",
    "autotune_baseline_rtol",
    "autotune_max_generations",
    "autotune_budget_seconds",
    "autotune_progress_bar",
    "autotune_log",
    "autotune_cache",
    "force_autotune",
    "tuning_cache",
    "autotune_devices",
    "print_output_code",
    "dot_precision",
    "precision",
    "index_dtype",
    "ignore_warnings",
    "interpret",
    "autotuner",
    "cache_dir",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("DEUTERON_") or key == "XDG_CACHE_HOME":
            monkeypatch.delenv(key)


def test_names():
    assert Settings.names() == NAMES
    assert tuple(Settings().to_dict()) == NAMES


def test_defaults():
    s = Settings()
    assert s.static_shapes is True
    assert s.autotune_effort == "quick"
    assert s.autotune_random_seed == process_random_seed()
    assert s.autotune_compile_timeout == 60
    assert s.autotune_precompile_jobs is None
    assert s.autotune_accuracy_check is True
    assert s.autotune_baseline_fn is None
    assert s.autotune_baseline_atol == 1e-2
    assert s.autotune_baseline_rtol == 1e-2
    assert s.autotune_max_generations is None
    assert s.autotune_budget_seconds is None
    assert s.autotune_progress_bar is True
    assert s.autotune_log is None
    assert s.autotune_cache is True
    assert s.force_autotune is False
    assert s.print_output_code is False
    assert s.dot_precision == "tf32"
    assert s.index_dtype is None
    assert s.ignore_warnings == ()
    assert s.interpret is False
    assert s.autotuner is None
    assert s.cache_dir is None


# ------------------------------------------------------------ environment


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "yes", "Yes", " 1 "])
def test_env_bool_true(monkeypatch, text):
    monkeypatch.setenv("DEUTERON_PRINT_OUTPUT_CODE", text)
    assert Settings().print_output_code is True


@pytest.mark.parametrize("text", ["0", "false", "False", "no", "NO"])
def test_env_bool_false(monkeypatch, text):
    monkeypatch.setenv("DEUTERON_STATIC_SHAPES", text)
    assert Settings().static_shapes is False


@pytest.mark.parametrize("text", ["maybe", "2", "on", "y"])
def test_env_bad_bool_names_the_variable(monkeypatch, text):
    monkeypatch.setenv("DEUTERON_INTERPRET", text)
    with pytest.raises(ValueError, match="DEUTERON_INTERPRET") as info:
        Settings()
    assert "1/0/true/false/yes/no" in str(info.value)


def test_env_examples_from_the_docs(monkeypatch, tmp_path):
    monkeypatch.setenv("DEUTERON_PRINT_OUTPUT_CODE", "1")
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "none")
    monkeypatch.setenv("DEUTERON_FORCE_AUTOTUNE", "1")
    monkeypatch.setenv("DEUTERON_AUTOTUNER", "pattern")
    monkeypatch.setenv("DEUTERON_CACHE_DIR", str(tmp_path))
    s = Settings()
    assert s.print_output_code is True
    assert s.interpret is True
    assert s.autotune_effort == "none"
    assert s.force_autotune is True
    assert s.autotuner == "pattern"
    assert s.cache_dir == str(tmp_path)


def test_env_enum_is_case_insensitive_and_checked(monkeypatch):
    monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "FULL")
    assert Settings().autotune_effort == "full"
    monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "fast")
    with pytest.raises(ValueError) as info:
        Settings()
    message = str(info.value)
    for fragment in ("DEUTERON_AUTOTUNE_EFFORT", "'fast'", "'none'", "'quick'", "'full'"):
        assert fragment in message
    monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "quick")
    monkeypatch.setenv("DEUTERON_DOT_PRECISION", "IEEE")
    assert Settings().dot_precision == "ieee"


def test_env_numbers(monkeypatch):
    monkeypatch.setenv("DEUTERON_AUTOTUNE_PRECOMPILE_JOBS", "4")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_COMPILE_TIMEOUT", "12.5")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_MAX_GENERATIONS", "none")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_BUDGET_SECONDS", "90")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_BASELINE_ATOL", "1e-3")
    s = Settings()
    assert s.autotune_precompile_jobs == 4
    assert s.autotune_compile_timeout == 12.5
    assert s.autotune_max_generations is None
    assert s.autotune_budget_seconds == 90.0
    assert s.autotune_baseline_atol == 1e-3


@pytest.mark.parametrize(
    "var,text,fragment",
    [
        ("DEUTERON_AUTOTUNE_PRECOMPILE_JOBS", "four", "an int >= 1"),
        ("DEUTERON_AUTOTUNE_PRECOMPILE_JOBS", "0", "an int >= 1"),
        ("DEUTERON_AUTOTUNE_COMPILE_TIMEOUT", "soon", "a number > 0"),
        ("DEUTERON_AUTOTUNE_COMPILE_TIMEOUT", "-1", "a number > 0"),
        ("DEUTERON_AUTOTUNE_BASELINE_RTOL", "nan", "a number >= 0"),
        ("DEUTERON_AUTOTUNE_RANDOM_SEED", "x", "an int in [0, 4294967295]"),
        ("DEUTERON_AUTOTUNE_RANDOM_SEED", "-3", "an int in [0, 4294967295]"),
        ("DEUTERON_INDEX_DTYPE", "int16", "torch.int32"),
    ],
)
def test_env_bad_values_name_the_variable(monkeypatch, var, text, fragment):
    monkeypatch.setenv(var, text)
    with pytest.raises(ValueError) as info:
        Settings()
    message = str(info.value)
    assert var in message and repr(text) in message and fragment in message


@pytest.mark.parametrize(
    "text,dtype",
    [("int32", torch.int32), ("torch.int64", torch.int64), ("INT64", torch.int64), ("none", None), ("auto", None)],
)
def test_env_index_dtype(monkeypatch, text, dtype):
    monkeypatch.setenv("DEUTERON_INDEX_DTYPE", text)
    assert Settings().index_dtype is dtype


def test_env_ignore_warnings_is_comma_separated(monkeypatch):
    monkeypatch.setenv("DEUTERON_IGNORE_WARNINGS", "TensorOperationInWrapper, OtherWarning,")
    assert Settings().ignore_warnings == ("TensorOperationInWrapper", "OtherWarning")


def test_env_paths(monkeypatch, tmp_path):
    monkeypatch.setenv("DEUTERON_AUTOTUNE_LOG", str(tmp_path / "log.csv"))
    assert Settings().autotune_log == str(tmp_path / "log.csv")
    monkeypatch.setenv("DEUTERON_AUTOTUNE_LOG", "None")
    assert Settings().autotune_log is None


def test_empty_env_var_counts_as_unset(monkeypatch):
    monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "")
    monkeypatch.setenv("DEUTERON_STATIC_SHAPES", "  ")
    s = Settings()
    assert s.autotune_effort == "quick"
    assert s.static_shapes is True


def test_baseline_fn_is_not_read_from_env(monkeypatch):
    monkeypatch.setenv("DEUTERON_AUTOTUNE_BASELINE_FN", "os.getcwd")
    assert Settings().autotune_baseline_fn is None


def test_precedence_kwarg_over_env_over_default(monkeypatch):
    assert Settings().print_output_code is False  # default
    monkeypatch.setenv("DEUTERON_PRINT_OUTPUT_CODE", "1")
    assert Settings().print_output_code is True  # env beats default
    assert Settings(print_output_code=False).print_output_code is False  # kwarg beats env
    monkeypatch.setenv("DEUTERON_AUTOTUNER", "pattern")
    assert Settings(autotuner=None).autotuner is None  # an explicit None is explicit
    monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "fast")  # bad env but overridden
    assert Settings(autotune_effort="full").autotune_effort == "full"


def test_env_is_read_when_settings_are_made(monkeypatch):
    before = Settings()
    monkeypatch.setenv("DEUTERON_FORCE_AUTOTUNE", "yes")
    assert before.force_autotune is False
    assert Settings().force_autotune is True


# ------------------------------------------------------------ random seed


def test_random_seed_is_drawn_once_per_process(monkeypatch):
    a, b = Settings(), Settings()
    assert a.autotune_random_seed == b.autotune_random_seed == process_random_seed()
    assert 0 <= a.autotune_random_seed < 2**32
    monkeypatch.setattr(settings_module, "_process_seed", None)
    monkeypatch.setattr(settings_module.secrets, "randbelow", lambda n: 12345)
    assert Settings().autotune_random_seed == 12345
    assert process_random_seed() == 12345


def test_random_seed_from_env_and_kwarg(monkeypatch):
    monkeypatch.setenv("DEUTERON_AUTOTUNE_RANDOM_SEED", "42")
    assert Settings().autotune_random_seed == 42
    assert Settings(autotune_random_seed=7).autotune_random_seed == 7
    with pytest.raises(ValueError, match="autotune_random_seed"):
        Settings(autotune_random_seed=2**32)
    with pytest.raises(TypeError, match="autotune_random_seed"):
        Settings(autotune_random_seed="7")


# --------------------------------------------------------------- kwargs


def test_unknown_name_suggests_the_closest():
    with pytest.raises(TypeError, match="unknown setting 'autotune_efort'; did you mean 'autotune_effort'"):
        Settings(autotune_efort="none")
    with pytest.raises(TypeError, match="did you mean 'print_output_code'"):
        Settings(print_output_cod=True)
    with pytest.raises(TypeError) as info:
        Settings(zzzz=1)
    assert "valid settings:" in str(info.value) and "static_shapes" in str(info.value)


@pytest.mark.parametrize(
    "kwargs,exc,fragments",
    [
        (dict(autotune_effort="fast"), ValueError, ["'autotune_effort'", "'fast'", "'none', 'quick', 'full'"]),
        (dict(autotune_effort=None), TypeError, ["'autotune_effort'"]),
        (dict(dot_precision="fp32"), ValueError, ["'dot_precision'", "'fp32'", "'tf32', 'tf32x3', 'ieee'"]),
        (dict(static_shapes=1), TypeError, ["'static_shapes'", "True or False"]),
        (dict(static_shapes="yes"), TypeError, ["'static_shapes'"]),
        (dict(autotune_precompile_jobs=0), ValueError, ["'autotune_precompile_jobs'", "an int >= 1"]),
        (dict(autotune_precompile_jobs=2.0), TypeError, ["'autotune_precompile_jobs'", "None or an int >= 1"]),
        (dict(autotune_max_generations=True), TypeError, ["'autotune_max_generations'"]),
        (dict(autotune_compile_timeout=0), ValueError, ["'autotune_compile_timeout'", "a number > 0"]),
        (dict(autotune_budget_seconds=-5), ValueError, ["'autotune_budget_seconds'"]),
        (dict(autotune_baseline_atol=-1e-3), ValueError, ["'autotune_baseline_atol'", "a number >= 0"]),
        (dict(autotune_baseline_rtol=float("inf")), ValueError, ["'autotune_baseline_rtol'"]),
        (dict(autotune_baseline_fn=3), TypeError, ["'autotune_baseline_fn'", "callable"]),
        (dict(index_dtype=torch.float32), ValueError, ["'index_dtype'", "torch.int32 or torch.int64"]),
        (dict(index_dtype="int8"), ValueError, ["'index_dtype'", "'int8'"]),
        (dict(index_dtype=32), TypeError, ["'index_dtype'"]),
        (dict(ignore_warnings=[1]), TypeError, ["'ignore_warnings'"]),
        (dict(ignore_warnings=5), TypeError, ["'ignore_warnings'"]),
        (dict(autotune_log=5), TypeError, ["'autotune_log'", "path"]),
        (dict(cache_dir=""), ValueError, ["'cache_dir'"]),
        (dict(autotuner=""), ValueError, ["'autotuner'"]),
        (dict(autotuner=1), TypeError, ["'autotuner'"]),
    ],
)
def test_bad_kwargs(kwargs, exc, fragments):
    with pytest.raises(exc) as info:
        Settings(**kwargs)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_kwarg_normalization(tmp_path):
    def baseline(*args):
        return args

    s = Settings(
        autotune_compile_timeout=30,
        index_dtype="int64",
        ignore_warnings=[UserWarning, "SomeWarning"],
        autotune_log=tmp_path / "log.csv",
        cache_dir=tmp_path,
        autotune_baseline_fn=baseline,
        autotune_budget_seconds=120,
    )
    assert s.autotune_compile_timeout == 30.0 and isinstance(s.autotune_compile_timeout, float)
    assert s.index_dtype is torch.int64
    assert s.ignore_warnings == (UserWarning, "SomeWarning")
    assert s.autotune_log == str(tmp_path / "log.csv")
    assert s.cache_dir == str(tmp_path)
    assert s.autotune_baseline_fn is baseline
    assert Settings(index_dtype=torch.int32).index_dtype is torch.int32
    assert Settings(ignore_warnings=UserWarning).ignore_warnings == (UserWarning,)


# ------------------------------------------------------- object behaviour


def test_to_dict_replace_and_equality(monkeypatch):
    s = Settings(autotune_effort="none", autotune_random_seed=3)
    d = s.to_dict()
    assert d["autotune_effort"] == "none" and d["autotune_random_seed"] == 3
    t = s.replace(print_output_code=True)
    assert t.print_output_code is True
    assert s.print_output_code is False  # original unchanged
    assert t.autotune_effort == "none" and t.autotune_random_seed == 3
    assert t == s.replace(print_output_code=True)
    assert t != s
    # Settings not being replaced keep their values even if the env changed.
    monkeypatch.setenv("DEUTERON_AUTOTUNE_EFFORT", "full")
    assert s.replace(interpret=True).autotune_effort == "none"
    with pytest.raises(TypeError, match="did you mean 'interpret'"):
        s.replace(interpet=True)
    with pytest.raises(ValueError, match="dot_precision"):
        s.replace(dot_precision="bf16")


def test_immutable_and_unhashable():
    s = Settings()
    with pytest.raises(AttributeError, match="immutable"):
        s.interpret = True
    with pytest.raises(TypeError):
        hash(s)


def test_repr():
    text = repr(Settings(autotune_effort="full", index_dtype=torch.int32, autotune_random_seed=9))
    assert text.startswith("Settings(static_shapes=True, autotune_effort='full', autotune_random_seed=9,")
    assert "index_dtype=torch.int32" in text
    assert text.endswith("autotuner=None, cache_dir=None)")


def test_pickle_round_trip():
    s = Settings(autotune_effort="none", ignore_warnings=(UserWarning,), index_dtype=torch.int64)
    assert pickle.loads(pickle.dumps(s)) == s


# ------------------------------------------------------------ resolution


def test_resolved_cache_dir(monkeypatch, tmp_path):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    assert Settings().resolved_cache_dir() == home / ".cache" / "deuteron"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert Settings().resolved_cache_dir() == home / ".cache" / "deuteron"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert Settings().resolved_cache_dir() == tmp_path / "xdg" / "deuteron"
    s = Settings()
    monkeypatch.setenv("DEUTERON_CACHE_DIR", str(tmp_path / "env"))
    assert s.resolved_cache_dir() == tmp_path / "env"  # env read at call time
    assert Settings().resolved_cache_dir() == tmp_path / "env"
    assert Settings(cache_dir=tmp_path / "kw").resolved_cache_dir() == tmp_path / "kw"
    assert Settings(cache_dir="~/c").resolved_cache_dir() == home / "c"
    assert isinstance(Settings().resolved_cache_dir(), pathlib.Path)


def test_resolved_precompile_jobs():
    assert Settings().resolved_precompile_jobs() == (os.cpu_count() or 1)
    assert Settings(autotune_precompile_jobs=3).resolved_precompile_jobs() == 3


def test_dot_precision_helion_names_and_triton_variable(monkeypatch):
    # Helion's torch-style names stand for Triton's three input precisions.
    from deuteron.runtime.settings import triton_dot_precision

    for name, triton in (("default", "tf32"), ("high", "tf32x3"), ("highest", "ieee"), ("tf32x3", "tf32x3")):
        assert Settings(dot_precision=name).dot_precision == name
        assert triton_dot_precision(name) == triton
    # Unset, Triton's own TRITON_F32_DEFAULT decides (as in Helion); DEUTERON_DOT_PRECISION wins over it.
    monkeypatch.setenv("TRITON_F32_DEFAULT", "highest")
    assert Settings().dot_precision == "highest"
    monkeypatch.setenv("DEUTERON_DOT_PRECISION", "tf32x3")
    assert Settings().dot_precision == "tf32x3"
    monkeypatch.delenv("DEUTERON_DOT_PRECISION")
    monkeypatch.setenv("TRITON_F32_DEFAULT", "bogus")
    with pytest.raises(ValueError, match="TRITON_F32_DEFAULT='bogus'"):
        Settings()


def test_dot_precision_helion_name_in_generated_code(monkeypatch):
    import deuteron
    import deuteron.language as hl

    @deuteron.kernel(config=deuteron.Config(block_sizes=[16, 16, 16]), dot_precision="highest")
    def mm(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = torch.empty([x.size(0), y.size(1)], device=x.device)
        for tm, tn in hl.tile([x.size(0), y.size(1)]):
            acc = hl.zeros([tm, tn])
            for tk in hl.tile(x.size(1)):
                acc = hl.dot(x[tm, tk], y[tk, tn], acc=acc)
            out[tm, tn] = acc
        return out

    monkeypatch.setenv("DEUTERON_INTERPRET", "1")  # binds on the CPU
    x = torch.randn(32, 32)
    code = mm.bind((x, x)).to_triton_code(deuteron.Config(block_sizes=[16, 16, 16]))
    assert 'input_precision="ieee"' in code


def test_backend_variable_other_than_triton_is_an_error(monkeypatch):
    # Helion reads its back end from HELION_BACKEND; deuteron has one (Triton), so a program
    # run under another back end's environment fails when its Settings are made, saying why.
    for var in ("HELION_BACKEND", "DEUTERON_BACKEND"):
        monkeypatch.setenv(var, "pallas")
        with pytest.raises(ValueError, match=f"{var}='pallas'.*deuteron generates Triton code only"):
            Settings()
        monkeypatch.setenv(var, "Triton")
        assert Settings().backend == "triton"
        monkeypatch.setenv(var, "")
        assert Settings().backend == "triton"
    # An explicit setting wins over the environment, as for every setting.
    monkeypatch.setenv("HELION_BACKEND", "cute")
    assert Settings(backend="triton").backend == "triton"
    with pytest.raises(ValueError, match="setting 'backend'"):
        Settings(backend="cute")
