"""Header helpers the built-in middleware share."""

from __future__ import annotations

from zigmund_fast.responses import MutableHeaders


def add_vary(headers: MutableHeaders, name: str) -> None:
    """Add ``name`` to the response's ``vary`` (merging repeated headers into one, without duplicates)."""
    values: list[str] = []
    for key, value in headers.items():
        if key == "vary":
            values.extend(part.strip() for part in value.split(",") if part.strip())
    lowered = {value.lower() for value in values}
    if "*" in lowered or name.lower() in lowered:
        return
    values.append(name)
    headers["vary"] = ", ".join(values)
