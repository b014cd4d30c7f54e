"""The one place that picks the implementation of the compiled layer.

zigmund_fast ships no pure-Python twin of the protocol or the task ring: the
compiled modules are the product. If they are missing (running from a source
checkout that was never built), say so loudly instead of falling back.
"""

from __future__ import annotations

try:
    from zigmund_fast._compiled.protocol import HTTPProtocol
    from zigmund_fast._compiled.taskring import TaskRing, TaskRunnerCore
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "zigmund_fast's compiled modules are not built. Install the package with "
        "`pip install .` (or build in place with `python setup.py build_ext --inplace`). "
        f"Original error: {exc}"
    ) from exc

__all__ = ["HTTPProtocol", "TaskRing", "TaskRunnerCore"]
