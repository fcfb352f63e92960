"""The allocator settings of newswatch.memory: what a run frees goes back to the system."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# Frees a 16 MB block (glibc then raises its mmap threshold to 16 MB), allocates
# 100 blocks of 1 MB with a small live one after each (so the heap's top cannot
# shrink), frees the large ones, and prints the MB still resident.
_SCRIPT = """
import ctypes, sys
from newswatch.memory import return_freed_memory
if sys.argv[1] == "tuned":
    assert return_freed_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
def filled(size):
    block = libc.malloc(size)
    libc.memset(block, 1, size)
    return block
libc.free(filled(16 << 20))
before = rss()
blocks = [b for _ in range(100) for b in (filled(1 << 20), libc.malloc(64))]
for block in blocks[0::2]:
    libc.free(block)
print(round(rss() - before))
"""


def _kept_mb(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True,
                          text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    return int(done.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")
def test_freed_blocks_stay_resident_unless_the_allocator_is_set():
    assert _kept_mb("plain") >= 90   # what a long run's process did
    assert _kept_mb("tuned") <= 10
