"""Keep reading what a child process prints, so it never blocks on a full pipe, and keep it for reports.

The local OMS logs one line per HTTP request (and a traceback per unhandled error) to the pipe the
e2e fixtures read its banner from. Nothing reads that pipe afterwards, so after some hundred
requests the OMS would block writing its log. `OutputTail` reads it on a daemon thread instead.
"""

from __future__ import annotations

import subprocess
import threading
import time


class OutputTail:
    """Everything `process` printed on stdout, read continuously from a background thread."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        if process.stdout is None:
            raise ValueError("the process's stdout is not a pipe")
        self._stdout = process.stdout
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="process-output", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in iter(self._stdout.readline, ""):
            with self._lock:
                self._lines.append(line)

    def mark(self) -> int:
        """A position to read from later with `since`."""
        with self._lock:
            return len(self._lines)

    def since(self, mark: int) -> str:
        with self._lock:
            return "".join(self._lines[mark:])

    def wait_for(self, text: str, mark: int, timeout: float = 2.0) -> str:
        """What was printed since `mark`, once it contains `text` (or after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while text not in (printed := self.since(mark)) and time.monotonic() < deadline:
            time.sleep(0.02)
        return printed
