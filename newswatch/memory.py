"""The C allocator's settings for a long ingest run: freed memory goes back.

glibc's malloc raises its mmap threshold each time a large block is freed,
so a run's later numpy arrays (the story index, DuckDB's results) come from
its heaps instead, and every thread that allocates gets an arena of its own.
What a run frees then stays resident: at 20,000 pages its process peaked
70 MB higher than at 10,000 though it held no more. A fixed threshold and
two arenas took most of that back (measured in README's performance
section); what the user sets in MALLOC_* variables is left as it is.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameters (malloc.h)
_M_ARENA_MAX = -8

MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, now fixed
ARENAS = 2


def return_freed_memory() -> bool:
    """Set glibc's mmap threshold and arena count; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):  # musl has no mallopt; macOS, Windows no glibc
        mallopt = None
    if mallopt is None:
        return False
    done = True
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        done &= mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    if "MALLOC_ARENA_MAX" not in os.environ:
        done &= mallopt(_M_ARENA_MAX, ARENAS) == 1
    return done
