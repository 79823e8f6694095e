"""A child process with stdout or stderr on a terminal (a pty 100 columns wide), and what it showed there."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import termios
from pathlib import Path


def run_on_terminal(argv: list[str], *, stream: str, cwd: Path, timeout: float = 60) -> tuple[subprocess.CompletedProcess, bytes]:
    """Run ``argv`` with ``stream`` ("stdout" or "stderr") on a pty and the other piped; (result, terminal bytes)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, stream: follower}
        result = subprocess.run(argv, cwd=cwd, timeout=timeout, **pipes)
    finally:
        os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 65536):
            shown += chunk
    except OSError:  # the pty reports EIO once the child's side is closed and drained
        pass
    finally:
        os.close(leader)
    return result, shown
