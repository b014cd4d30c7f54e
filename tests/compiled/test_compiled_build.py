"""The compiled modules are the ones in use: no silent pure-Python fallback."""

from __future__ import annotations

import importlib.machinery

import zigmund_fast._impl as impl
from zigmund_fast._compiled import protocol, taskring


def test_protocol_and_ring_are_extension_modules() -> None:
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    assert protocol.__file__ is not None and protocol.__file__.endswith(suffixes)
    assert taskring.__file__ is not None and taskring.__file__.endswith(suffixes)
    assert impl.HTTPProtocol is protocol.HTTPProtocol
    assert impl.TaskRing is taskring.TaskRing


def test_protocol_core_is_a_cython_type() -> None:
    core = protocol.HTTPProtocolCore
    assert not hasattr(core, "__dict__") or "__dict__" not in core.__dict__
    assert type(core).__name__ == "type" and core.__module__ == "zigmund_fast._compiled.protocol"
