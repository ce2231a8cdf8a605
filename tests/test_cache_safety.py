"""The cache directory holds code that is imported: who may write there, what is loaded,
where autotuning workers' logs go (runtime/files.py, runtime/modules.py, autotune/driver.py)."""

from __future__ import annotations

import os
import stat

import pytest
import torch

import deuteron
import deuteron.language as hl
from deuteron.autotune import driver
from deuteron.autotune.workers import WorkerPool
from deuteron.runtime.files import UnsafeDirectoryError, open_log, private_directory, read_tail
from deuteron.runtime.modules import TamperedModuleError, load_module, write_module


@deuteron.kernel(autotune_progress_bar=False)
def double(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * 2
    return out


def _bound(x, cache):
    double.reset()
    b = double.bind((x,))
    b.settings = b.settings.replace(cache_dir=str(cache))
    return b


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_cache_directory_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    cache = tmp_path / "fresh" / "cache"
    x = torch.arange(8.0)
    b = _bound(x, cache)
    torch.testing.assert_close(b(x), x * 2)
    assert _mode(cache) == 0o700 and _mode(cache / "generated") == 0o700


def test_a_world_writable_cache_directory_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    cache = tmp_path / "shared"
    cache.mkdir()
    os.chmod(cache, 0o777)
    x = torch.arange(8.0)
    with pytest.raises(UnsafeDirectoryError, match="everyone can write") as e:
        _bound(x, cache)(x)
    assert str(cache) in str(e.value) and "chmod 700" in str(e.value) and "DEUTERON_CACHE_DIR" in str(e.value)
    assert not (cache / "generated").exists()


def test_a_world_writable_subfolder_is_refused(tmp_path):
    (tmp_path / "c" / "generated").mkdir(parents=True)
    os.chmod(tmp_path / "c", 0o700)
    os.chmod(tmp_path / "c" / "generated", 0o757)
    with pytest.raises(UnsafeDirectoryError, match="generated"):
        private_directory(tmp_path / "c" / "generated", parents=1)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another uid needs root")
def test_a_cache_directory_owned_by_another_user_is_refused(tmp_path):
    cache = tmp_path / "theirs"
    cache.mkdir(mode=0o700)
    os.chown(cache, 12345, 12345)
    with pytest.raises(UnsafeDirectoryError, match="belongs to uid 12345") as e:
        private_directory(cache / "generated", parents=1)
    assert str(cache) in str(e.value)


def test_a_file_in_place_of_the_cache_directory_is_refused(tmp_path):
    (tmp_path / "c").write_text("")
    with pytest.raises(UnsafeDirectoryError, match="not a directory"):
        private_directory(tmp_path / "c")


def test_a_tampered_module_is_never_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    cache = tmp_path / "cache"
    x = torch.arange(8.0)
    b = _bound(x, cache)
    path = b.write_module()
    good = path.read_text()
    path.write_text(good + "\nraise SystemExit('planted code ran')\n")
    # Loading the file as it is now: refused, whatever it contains.
    with pytest.raises(TamperedModuleError, match="do not match the hash"):
        load_module(path, b.globals)
    # The kernel's own path writes the generated text again and runs it.
    with pytest.warns(UserWarning, match="was modified after it was written"):
        torch.testing.assert_close(_bound(x, cache)(x), x * 2)
    assert path.read_text() == good


def test_a_module_of_the_right_name_planted_before_the_first_write(tmp_path):
    source = "VALUE = 1\n"
    directory = tmp_path / "cache" / "generated"
    first = write_module(source, directory, "k")
    first.write_text("VALUE = 2\n")
    with pytest.warns(UserWarning):
        assert write_module(source, directory, "k") == first
    assert load_module(first, {}).VALUE == 1


def test_worker_log_lives_in_the_cache_directory_and_is_removed(tmp_path, monkeypatch):
    monkeypatch.delenv("DEUTERON_AUTOTUNE_WORKER_OUTPUT", raising=False)
    cache = tmp_path / "cache"
    log = driver._worker_log(cache)
    assert log == str(cache / "logs" / f"autotune-workers-{os.getpid()}.log")
    assert _mode(cache / "logs") == 0o700
    with open_log(log) as f:
        f.write(b"worker output\n")
    assert _mode(log) == 0o600 and read_tail(log, 7) == "output\n"
    driver._release_log(log)
    assert not os.path.exists(log)


def test_worker_log_is_never_opened_through_a_symlink(tmp_path):
    target = tmp_path / "victim"
    target.write_text("precious\n")
    link = tmp_path / "autotune-workers.log"
    link.symlink_to(target)
    with pytest.raises(OSError):
        open_log(link)
    pool = WorkerPool(1, stderr_path=str(link))
    with pytest.raises(OSError):
        pool.start()
    pool.close()
    assert target.read_text() == "precious\n"
    assert read_tail(link, 100) == ""  # not read through the link either
