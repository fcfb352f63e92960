"""How hard and how politely to fetch: the fetcher's policy, with no heavy imports.

`newswatch.config.Settings` takes its fetching defaults from here, and builds
the policy of a run from its settings (`Settings.fetch_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FetchPolicy:
    """How hard and how politely to fetch; the defaults suit public news sites."""

    user_agent: str = (
        "newswatch/0.1 (news monitoring; +https://github.com/newswatch/newswatch)"
    )
    max_connections: int = 16  # in all
    max_per_host: int = 2  # concurrent requests per host
    per_host_delay: float = 1.0  # seconds between request starts to one host (politeness)
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    total_timeout: float = 60.0  # one attempt, body included: a slow drip must not hang us
    retries: int = 3  # extra attempts for transient failures
    backoff_base: float = 0.5  # exponential backoff with full jitter
    backoff_max: float = 30.0
    max_retry_after: float = 120.0  # the longest Retry-After we wait; longer: leave the host
    max_redirects: int = 5
    max_bytes: int = 5_000_000  # decoded body limit, enforced while streaming
    obey_robots: bool = True
    allow_private: bool = False  # private, loopback, link-local, reserved addresses refused
    allowed_networks: tuple[str, ...] = ()  # exceptions, e.g. ("127.0.0.1/32",)
