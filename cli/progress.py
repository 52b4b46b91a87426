"""A progress bar on stderr: redrawn in place on a terminal, a line every tenth otherwise (CI logs)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.done = 0
        self.started = time.monotonic()
        self._last_tenth = -1
        self._tty = self.stream.isatty()

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def advance(self, count: int) -> None:
        self.done += count
        tenth = self.done * 10 // self.total
        if self._tty:
            self.stream.write("\r" + self._line())
        elif tenth != self._last_tenth:
            self.stream.write(self._line() + "\n")
        self._last_tenth = tenth
        self.stream.flush()

    def close(self) -> None:
        if self._tty:
            self.stream.write("\n")
            self.stream.flush()

    def _line(self) -> str:
        filled = WIDTH * self.done // self.total
        bar = "#" * filled + "." * (WIDTH - filled)
        return f"{self.label} [{bar}] {self.done}/{self.total} {self.rate():.0f}/s"
