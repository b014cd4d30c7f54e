"""Parameter markers: where a handler argument comes from when its annotation alone can't say.

Used as defaults (``q: str = Query(None, alias="query")``) or inside
``typing.Annotated`` (``q: Annotated[str, Query(alias="query")]``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

_UNSET: Any = ...


class Param:
    location = "query"

    __slots__ = ("default", "alias", "title", "description", "deprecated", "include_in_schema", "examples",
                 "constraints")

    def __init__(
        self,
        default: Any = _UNSET,
        *,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
        examples: list[Any] | None = None,
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
        self.title = title
        self.examples = examples
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


class Form(Param):
    """A field of a form body (``application/x-www-form-urlencoded`` or ``multipart/form-data``)."""

    location = "form"
    __slots__ = ()


class File(Form):
    """An uploaded file of a ``multipart/form-data`` body (``UploadFile``, or ``bytes`` for its contents)."""

    __slots__ = ()


class Depends:
    """A parameter whose value is the result of calling ``dependency`` (resolved once per request).

    Parameters:
        dependency: a function, coroutine function, (async) generator function,
            class or callable instance; its own parameters are injected like a
            handler's. ``None`` uses the parameter's annotation (``Annotated[C, Depends()]``).
        use_cache: reuse the value when the same dependency appears again in
            this request; ``False`` calls it again every time it is declared.
        scope: for ``yield`` dependencies, when the code after ``yield`` runs:
            ``"request"`` (the default) once the response was sent and the
            request's background tasks finished; ``"function"`` right after
            the handler returns, before the response is sent.
    """

    __slots__ = ("dependency", "scope", "use_cache")

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: Literal["function", "request"] | None = None,
    ) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(f"Depends() needs a callable, got {dependency!r}")
        if scope not in (None, "function", "request"):
            raise ValueError(f"Depends(scope=...) must be 'function' or 'request', got {scope!r}")
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope = scope

    @property
    def scopes(self) -> tuple[str, ...]:
        return ()

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", None) or repr(self.dependency)
        cache = "" if self.use_cache else ", use_cache=False"
        return f"{type(self).__name__}({name}{cache})"


class Security(Depends):
    """``Depends`` that also requires OAuth2 ``scopes``; they reach ``SecurityScopes`` and the OpenAPI document."""

    __slots__ = ("_scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
        scope: Literal["function", "request"] | None = None,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache, scope=scope)
        if isinstance(scopes, str):
            raise TypeError(f"Security(scopes=...) needs a list of scope names, got the string {scopes!r}")
        self._scopes = tuple(scopes or ())

    @property
    def scopes(self) -> tuple[str, ...]:
        return self._scopes


class SecurityScopes:
    """Injected into a dependency that declares it: the scopes every ``Security`` above it requires."""

    __slots__ = ("scope_str", "scopes")

    def __init__(self, scopes: Sequence[str] | None = None) -> None:
        self.scopes: list[str] = list(scopes or ())
        # The form an OAuth2 WWW-Authenticate header wants: space-separated.
        self.scope_str = " ".join(self.scopes)

    def __repr__(self) -> str:
        return f"SecurityScopes({self.scopes!r})"
