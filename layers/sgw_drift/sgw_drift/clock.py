"""Clocks: wall time in production, a virtual clock for the emulator, tests and the demo."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Source of the current time in seconds since the epoch."""

    def now(self) -> float: ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()


class VirtualClock:
    """Clock that moves only when told to, so tests can cover minutes of gateway time instantly."""

    def __init__(self, start: float = 1_780_000_000.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"cannot move a clock backwards: advance({seconds})")
        self._now += seconds
        return self._now
