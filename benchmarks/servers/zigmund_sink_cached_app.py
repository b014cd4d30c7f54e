"""zigmund_sink_app with ``JSONLinesSink(drop_cache=False)``: the kernel alone decides when lines reach the disk.

For the "what streaming writeback buys" comparison (zigmund-sink vs zigmund-sink-cached, same run).
"""

from __future__ import annotations

import os

os.environ["ZIGMUND_BENCH_SINK_DROP_CACHE"] = "0"

from benchmarks.servers.zigmund_sink_app import app  # noqa: E402

__all__ = ["app"]
