"""Parameter markers: where a handler argument comes from when its annotation alone can't say.

Used as defaults (``q: str = Query(None, alias="query")``) or inside
``typing.Annotated`` (``q: Annotated[str, Query(alias="query")]``).
"""

from __future__ import annotations

from typing import Any

_UNSET: Any = ...


class Param:
    location = "query"

    __slots__ = ("default", "alias", "description", "deprecated", "include_in_schema", "constraints")

    def __init__(
        self,
        default: Any = _UNSET,
        *,
        alias: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
    ) -> None:
        self.default = default
        self.alias = alias
        self.description = description
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        given = {"gt": gt, "ge": ge, "lt": lt, "le": le, "min_length": min_length, "max_length": max_length,
                 "pattern": pattern}
        # Only the constraints that were given, in this order (it is the order errors are checked in).
        self.constraints: dict[str, Any] = {key: value for key, value in given.items() if value is not None}

    @property
    def required(self) -> bool:
        return self.default is _UNSET

    def __repr__(self) -> str:
        return f"{type(self).__name__}(default={self.default!r}, alias={self.alias!r})"


class Query(Param):
    location = "query"
    __slots__ = ()


class Path(Param):
    location = "path"
    __slots__ = ()


class Header(Param):
    """A request header; ``user_agent`` reads ``user-agent`` unless ``convert_underscores=False``."""

    location = "header"
    __slots__ = ("convert_underscores",)

    def __init__(self, default: Any = _UNSET, *, convert_underscores: bool = True, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    location = "cookie"
    __slots__ = ()


class Body(Param):
    """The JSON request body (or, with ``embed=True``, one key of it)."""

    location = "body"
    __slots__ = ("embed",)

    def __init__(self, default: Any = _UNSET, *, embed: bool = False, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.embed = embed
