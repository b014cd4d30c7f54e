"""The one place that picks the implementation of the compiled layer.

zigmund_fast ships no pure-Python twin of the protocol or the task ring: the
compiled modules are the product. If they are missing (running from a source
checkout that was never built), say so loudly instead of falling back.
"""

from __future__ import annotations

import os

try:
    from zigmund_fast._compiled.events import (
        EventLog,
        ObserverCore,
        request_id_from,
        reset_request_id_prefix,
        task_name,
        wall_offset,
    )
    from zigmund_fast._compiled.extract import Collect, DirectCall, ScalarParam
    from zigmund_fast._compiled.handlers import AsyncHandle, PlainFinish
    from zigmund_fast._compiled.messages import (
        RequestCore,
        ResponseCore,
        TasksCore,
        new_tasks,
        set_task_item_type,
    )
    from zigmund_fast._compiled.protocol import HTTPProtocol, WriteBatcher
    from zigmund_fast._compiled.routematch import (
        AppDispatch,
        DynamicRoutes,
        Matcher,
        RegexMatcher,
        SegmentMatcher,
    )
    from zigmund_fast._compiled.taskring import TaskRing, TaskRunnerCore
except ImportError as exc:  # pragma: no cover - only on a broken install or an unbuilt checkout
    _here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    raise ImportError(
        f"zigmund_fast was imported from {_here}, whose compiled modules are not built. "
        "If you installed the package (pip install .) and are in the source checkout, the checkout "
        "shadows the installed copy: run the installed `zigmund` command (for example .venv/bin/zigmund), "
        "or run Python from another directory. To use the checkout itself, build it in place with "
        f"`python setup.py build_ext --inplace`. Original error: {exc}"
    ) from exc

__all__ = [
    "AppDispatch",
    "AsyncHandle",
    "Collect",
    "DirectCall",
    "DynamicRoutes",
    "EventLog",
    "HTTPProtocol",
    "WriteBatcher",
    "Matcher",
    "ObserverCore",
    "PlainFinish",
    "RegexMatcher",
    "RequestCore",
    "ResponseCore",
    "ScalarParam",
    "SegmentMatcher",
    "TaskRing",
    "TaskRunnerCore",
    "TasksCore",
    "new_tasks",
    "set_task_item_type",
    "request_id_from",
    "reset_request_id_prefix",
    "task_name",
    "wall_offset",
]
