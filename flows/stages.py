"""Where a run's time goes: seconds per stage, for the summary and `make bench`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageTimes:
    """Seconds spent fetching (wall time while any fetch was under way), extracting
    and tagging (summed over the pool's workers), and loading."""

    def __init__(self) -> None:
        self.seconds = {"fetch": 0.0, "extract": 0.0, "tag": 0.0, "load": 0.0}
        self._fetching, self._since = 0, 0.0

    @contextmanager
    def fetching(self) -> Iterator[None]:
        """Fetches of overlapping batches count once."""
        if not self._fetching:
            self._since = time.perf_counter()
        self._fetching += 1
        try:
            yield
        finally:
            self._fetching -= 1
            if not self._fetching:
                self.seconds["fetch"] += time.perf_counter() - self._since

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] += seconds
