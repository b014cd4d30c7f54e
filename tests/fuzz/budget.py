"""Run a hypothesis property for a wall-clock budget instead of a fixed number of examples.

``ZIGMUND_FUZZ_SECONDS`` is the budget of the whole fuzz suite (default 10 s,
so the normal test run stays fast; CI uses 60; by hand, as long as you like).
Each test takes a share of it. Hypothesis has no time limit of its own, so a
test runs a short calibration run, then runs sized from the measured rate
until its share is spent; examples drawn past the deadline are not checked
(unless a failure is being shrunk). The example database is off: every run explores
anew, and a failure prints the falsifying example (and a reproduce blob).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

FUZZ_SECONDS_ENV = "ZIGMUND_FUZZ_SECONDS"
DEFAULT_FUZZ_SECONDS = 10.0
CALIBRATION_EXAMPLES = 30
MAX_EXAMPLES_PER_RUN = 20_000
# Shares of the budget: in-process request streams, in-process arbitrary bytes, real sockets.
STREAMS_SHARE = 0.45
BYTES_SHARE = 0.2
SOCKET_SHARE = 0.35

T = TypeVar("T")


def total_budget() -> float:
    raw = os.environ.get(FUZZ_SECONDS_ENV)
    if not raw:
        return DEFAULT_FUZZ_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(f"{FUZZ_SECONDS_ENV} must be a number of seconds, got {raw!r}") from None
    if seconds <= 0:
        raise ValueError(f"{FUZZ_SECONDS_ENV} must be > 0, got {raw!r}")
    return seconds


@dataclasses.dataclass
class FuzzStats:
    """What one fuzz test did: the figures the lead records."""

    name: str
    budget: float = 0.0
    seconds: float = 0.0
    executions: int = 0
    hypothesis_runs: int = 0
    distinct: set[bytes] = dataclasses.field(default_factory=set)

    def record(self, example: Any) -> None:
        self.executions += 1
        fingerprint = getattr(example, "fingerprint", None)
        key = fingerprint() if fingerprint is not None else repr(example).encode()
        self.distinct.add(hashlib.blake2b(key, digest_size=12).digest())

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "budget_seconds": round(self.budget, 2), "seconds": round(self.seconds, 2),
            "executions": self.executions, "corpus": len(self.distinct), "hypothesis_runs": self.hypothesis_runs,
        }


def _settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        print_blob=True,
        phases=(Phase.generate, Phase.shrink),
        # NOTE: the examples are big on purpose (near-limit heads and bodies), and slow ones
        # (a real socket) are the point; none of these checks says anything about the server.
        suppress_health_check=list(HealthCheck),
    )


def run_for(seconds: float, strategy: st.SearchStrategy[T], check: Callable[[T], None], stats: FuzzStats) -> None:
    """Check ``check(example)`` for examples of ``strategy`` until ``seconds`` have passed."""
    stats.budget = seconds
    started = time.monotonic()
    deadline = started + seconds
    examples = CALIBRATION_EXAMPLES
    shrinking = [False]

    try:
        while True:
            run_started = time.monotonic()
            executed_before = stats.executions

            @settings(_settings(examples))
            @given(strategy)
            def one(example: T) -> None:
                if time.monotonic() > deadline and not shrinking[0]:
                    return  # the budget is spent: let this run end without doing the work
                stats.record(example)
                try:
                    check(example)
                except BaseException:
                    shrinking[0] = True  # a failure is shrunk whatever the budget says
                    raise

            one()
            stats.hypothesis_runs += 1
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                break
            per_example = (now - run_started) / max(1, stats.executions - executed_before)
            # NOTE: later examples are bigger than the first ones, so aim at half of what is left.
            examples = int(min(MAX_EXAMPLES_PER_RUN, max(10, 0.5 * remaining / max(per_example, 1e-6))))
    finally:
        stats.seconds = time.monotonic() - started
