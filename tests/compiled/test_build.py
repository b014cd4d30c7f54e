"""The server's protocol and the task ring are the compiled extension modules, with no pure-Python stand-in."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
import types

import zigmund_fast._impl as impl

SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def defining_module_file(cls: type) -> str:
    module = sys.modules[cls.__module__]
    file = getattr(module, "__file__", None)
    assert file is not None, f"{cls.__module__} has no __file__"
    return str(file)


def test_http_protocol_comes_from_an_extension_module() -> None:
    assert impl.HTTPProtocol.__module__ == "zigmund_fast._compiled.protocol"
    assert defining_module_file(impl.HTTPProtocol).endswith(SUFFIXES)
    # The protocol's logic lives in the compiled base class (a C type, not a Python class).
    core = next(base for base in impl.HTTPProtocol.__mro__ if base.__name__ == "HTTPProtocolCore")
    assert defining_module_file(core).endswith(SUFFIXES)
    assert not isinstance(core.data_received, types.FunctionType), "data_received is a Python function"


def test_task_ring_comes_from_an_extension_module() -> None:
    assert impl.TaskRing.__module__ == "zigmund_fast._compiled.taskring"
    assert defining_module_file(impl.TaskRing).endswith(SUFFIXES)
    assert not isinstance(impl.TaskRing.push, types.FunctionType), "TaskRing.push is a Python function"


def test_the_import_system_loads_them_as_extensions() -> None:
    for name in ("zigmund_fast._compiled.protocol", "zigmund_fast._compiled.taskring", "zigmund_fast._compiled.events"):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        assert spec.origin.endswith(SUFFIXES), spec.origin
        assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader), spec.loader


def test_the_server_the_runner_and_the_test_client_use_the_compiled_classes() -> None:
    from zigmund_fast import background, testing
    from zigmund_fast.server import server

    assert server.HTTPProtocol is impl.HTTPProtocol
    assert testing.HTTPProtocol is impl.HTTPProtocol
    # The runner's queue, counters and drain loop are the compiled TaskRunnerCore, on a TaskRing.
    assert issubclass(background.TaskRunner, impl.TaskRunnerCore)
    assert impl.TaskRunnerCore.__module__ == "zigmund_fast._compiled.taskring"
    import asyncio

    loop = asyncio.new_event_loop()
    try:
        assert type(background.TaskRunner(loop).ring) is impl.TaskRing
    finally:
        loop.close()


def test_observer_and_event_log_are_compiled() -> None:
    from zigmund_fast import observability

    assert issubclass(observability.Observer, impl.ObserverCore)
    assert impl.EventLog.__module__ == "zigmund_fast._compiled.events"
    assert defining_module_file(impl.EventLog).endswith(SUFFIXES)
    assert type(observability.JSONLinesSink("/dev/null").log) is impl.EventLog
