"""Plain-Python exceptions raised by the compiled modules (and their fallbacks)."""

from __future__ import annotations


class RingFull(Exception):
    """A ``TaskRing`` with a ``max_capacity`` was asked to hold one entry more.

    The ring never drops an entry: the caller gets this exception instead and
    decides (the server applies backpressure long before it could happen).
    """
