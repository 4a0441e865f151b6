"""Stopping the way Ctrl-C does when the system asks a process to end.

``kill``, ``timeout``, a closed terminal and Jupyter's "restart" send SIGTERM or SIGHUP, not Ctrl-C's SIGINT.
By default Python dies of them at once, so a training run would lose its finished epochs. Inside
``stop_like_ctrl_c()`` they raise ``Stopped``, a ``KeyboardInterrupt``: every ``except KeyboardInterrupt``
(rolling back to the last finished epoch, keeping it in ``NAME.interrupted.pt``) runs as for Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Stopped(KeyboardInterrupt):
    """A stop asked for by a signal other than Ctrl-C; ``exit_code`` is the shell's 128 + signal number."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal.Signals(signal_number).name)
        self.exit_code = 128 + signal_number


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP: what a shell reports for a process the signal ended."""
    return getattr(interrupt, "exit_code", 128 + signal.SIGINT)


def describe(interrupt: KeyboardInterrupt) -> str:
    """``interrupted`` or ``stopped by SIGTERM``, for the one line a tool prints as it ends."""
    return f"stopped by {interrupt}" if isinstance(interrupt, Stopped) else "interrupted"


@contextlib.contextmanager
def stop_like_ctrl_c() -> Iterator[None]:
    def stop(signal_number: int, _frame) -> None:
        raise Stopped(signal_number)

    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]  # Windows has no SIGHUP
    # a signal already ignored stays ignored: `nohup python -m utils.train ...` must survive a closed terminal
    names = [name for name in names if signal.getsignal(getattr(signal, name)) is not signal.SIG_IGN]
    previous = {name: signal.signal(getattr(signal, name), stop) for name in names}
    try:
        yield
    finally:
        for name, handler in previous.items():  # None: a handler set outside Python, restored as the default
            signal.signal(getattr(signal, name), signal.SIG_DFL if handler is None else handler)
