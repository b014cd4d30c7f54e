"""zigmund_app with the JSON-lines observability sink writing every event to a file.

For the "sink costs" comparison (POST route with vs. without a sink, same run).
The file is $ZIGMUND_BENCH_SINK_FILE, or a temporary file that is removed at exit.
$ZIGMUND_BENCH_SINK_DROP_CACHE=0 turns the sink's streaming writeback off (zigmund_sink_cached_app).
"""

from __future__ import annotations

import atexit
import os
import tempfile

from benchmarks.servers.zigmund_app import app
from zigmund_fast.observability import JSONLinesSink

_path = os.environ.get("ZIGMUND_BENCH_SINK_FILE")
if _path is None:
    _fd, _path = tempfile.mkstemp(prefix="zigmund-bench-events-", suffix=".jsonl")
    os.close(_fd)
    atexit.register(os.unlink, _path)

app.add_sink(JSONLinesSink(_path, drop_cache=os.environ.get("ZIGMUND_BENCH_SINK_DROP_CACHE", "1") != "0"))
