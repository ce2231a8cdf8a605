"""Progress output of a tuning run (plain stderr, no dependencies) and its log file.

On a terminal: one line rewritten in place (at most 10 times a second).
Otherwise (CI logs, pipes): a full line at most every 5 seconds and at the end
of every generation.  The line reads::

    [deuteron] softmax: gen 3/8 | 57 configs, 4 failed | best 0.312 ms (2.65x default) | 12.4 s

``autotune_log=PATH`` appends every event (each config with its time or its
failure and message) to PATH.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Callable, TextIO


def fmt_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} us"
    if s < 1:
        return f"{s * 1e3:.3f} ms"
    return f"{s:.2f} s"


class Progress:
    def __init__(self, name: str, *, enabled: bool = True, stream: TextIO | None = None,
                 log_path: str | None = None, clock: Callable[[], float] = time.monotonic,
                 max_generations: int | None = None) -> None:
        self.name = name
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.max_generations = max_generations
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = -1e9
        self._width = 0
        self._log: TextIO | None = open(log_path, "a", encoding="utf-8") if log_path else None
        self.generation = 0
        self.tried = 0
        self.failed = 0
        self.best: float | None = None
        self.default: float | None = None
        self.log(f"tuning {name}")

    # ------------------------------------------------------------------ log
    def log(self, text: str) -> None:
        if self._log is not None:
            stamp = time.strftime("%H:%M:%S")
            self._log.write(f"{stamp} +{self.clock() - self.start:7.2f}s {text}\n")
            self._log.flush()

    def result(self, config_json: str, seconds: float | None, failure: str | None = None) -> None:
        self.tried += 1
        if seconds is None:
            self.failed += 1
            self.log(f"FAIL {failure or ''} {config_json}")
        else:
            if self.best is None or seconds < self.best:
                self.best = seconds
            self.log(f"ok {fmt_seconds(seconds)} {config_json}")
        self.update()

    # ----------------------------------------------------------------- bar
    def line(self) -> str:
        gen = f"gen {self.generation}" + (f"/{self.max_generations}" if self.max_generations else "")
        best = fmt_seconds(self.best)
        if self.best is not None and self.default:
            best += f" ({self.default / self.best:.2f}x default)"
        return (f"[deuteron] {self.name}: {gen} | {self.tried} configs, {self.failed} failed | best {best} | "
                f"{self.clock() - self.start:.1f} s")

    def update(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self.clock()
        interval = 0.1 if self.tty else 5.0
        if not force and now - self._last < interval:
            return
        self._last = now
        text = self.line()
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def new_generation(self, generation: int, size: int) -> None:
        if self.generation and not self.tty:
            self.update(force=True)
        self.generation = generation
        self.log(f"generation {generation}: {size} configs")
        self.update(force=self.tty)

    def message(self, text: str) -> None:
        """A line of its own (clears the bar first on a terminal)."""
        self.log(text)
        if not self.enabled:
            return
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self, summary: str | None = None) -> None:
        if self.enabled and self.tty and self._width:
            self.update(force=True)
            self.stream.write("\n")
            self._width = 0
        if summary:
            self.message(summary)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
