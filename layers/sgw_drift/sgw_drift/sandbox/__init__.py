"""A local AWS stand-in for tests, benchmarks and the demo: moto plus the file gateway emulator."""

from .environment import Sandbox

__all__ = ["Sandbox"]
