"""Shared fixtures: an isolated cache directory, and the two CPU execution modes.

Tests that take the ``mode`` fixture run a kernel on the CPU in one of two ways:
  * "eager":  DEUTERON_INTERPRET=1, the reference module (kernel body in PyTorch eager)
  * "triton": TRITON_INTERPRET=1, the generated Triton code run by Triton's interpreter

Triton decides at *import* whether it interprets (its own library functions
are created then), so one pytest process can only do one of the two: a plain
run uses "eager"; a run started with TRITON_INTERPRET=1 uses "triton" and
selects only the tests that take ``mode`` (they carry the ``kernels`` marker).
scripts/test.sh runs both.
"""

from __future__ import annotations

import os
import sys

import pytest

from deuteron.runtime.env import triton_interpret

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")
if EXAMPLES not in sys.path:
    sys.path.insert(0, EXAMPLES)


# A miniature Helion corpus for test_helion_compat.py: its files run under the
# `helion` alias in child processes, never as part of this suite.
collect_ignore_glob = ["helion_corpus/*"]

TRITON_MODE = triton_interpret()


def pytest_collection_modifyitems(config, items):
    # The GPU tests (tests/gpu, marker gpu) each need a CUDA GPU: skipped in one
    # place without one.  (Not in a tests/gpu/conftest.py: pytest would import it
    # as the module `conftest` too, and `from conftest import fresh` in the test
    # modules would find it instead of this one.)
    no_cuda = None
    for item in items:
        if "mode" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kernels)
        if item.get_closest_marker("gpu") is not None:
            if no_cuda is None:
                import torch

                no_cuda = not torch.cuda.is_available()
            if no_cuda:
                item.add_marker(pytest.mark.skip(reason="needs a CUDA GPU"))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("DEUTERON_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "deuteron-cache"))
    monkeypatch.delenv("DEUTERON_INTERPRET", raising=False)


@pytest.fixture
def mode(monkeypatch):
    if TRITON_MODE:
        return "triton"
    monkeypatch.setenv("DEUTERON_INTERPRET", "1")
    return "eager"


def fresh(kernel):
    """The kernel with no cached specializations (each test binds anew in its mode)."""
    kernel.reset()
    return kernel


@pytest.fixture(scope="session")
def redis_server_session(tmp_path_factory):
    """One redis-server for the session (tests/redis_server.py); use ``redis_url`` for an empty database."""
    from redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server_session):
    """The URL of an empty Redis database on the session's server."""
    from deuteron.autotune.shared_cache import forget_shared_caches

    redis_server_session.flush()
    forget_shared_caches()
    yield redis_server_session.url
    forget_shared_caches()
