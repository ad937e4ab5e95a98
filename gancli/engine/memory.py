"""Running out of memory, said in one line: what asked for how much, and what to do about it."""

from __future__ import annotations

import re

_CPU = re.compile(r"you tried to allocate (\d+) bytes")
_CUDA = re.compile(r"Tried to allocate ([\d.]+ [KMGT]?i?B)")


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def requested(exc: BaseException) -> str | None:
    """How much memory a failed allocation asked for, in words ("292.1 GiB", or "more than there is" where the
    error does not say), or None when ``exc`` is not an out-of-memory error."""
    if isinstance(exc, MemoryError):
        return "more than there is"
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc)
    cpu = _CPU.search(text)
    if cpu and "can't allocate memory" in text:  # torch's CPU allocator
        return _size(int(cpu.group(1)))
    if "out of memory" in text.lower():  # torch.OutOfMemoryError on CUDA, and the MPS backend
        cuda = _CUDA.search(text)
        return cuda.group(1) if cuda else "more than there is"
    return None
