"""zigmund_fast: FastAPI-style handlers on a Cython HTTP/1.1 server, with background tasks you can trust."""

from __future__ import annotations

from zigmund_fast._version import __version__

# Application
from zigmund_fast.app import App

# Requests, responses, tasks
from zigmund_fast.background import BackgroundTasks
from zigmund_fast.exceptions import HTTPException, RequestValidationError

# Parameter markers
from zigmund_fast.params import Body, Cookie, Header, Path, Query
from zigmund_fast.requests import Request
from zigmund_fast.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

__all__ = [
    "__version__",
    # Application
    "App",
    # Requests, responses, tasks
    "Request",
    "Response",
    "JSONResponse",
    "HTMLResponse",
    "PlainTextResponse",
    "BackgroundTasks",
    "HTTPException",
    "RequestValidationError",
    # Parameter markers
    "Query",
    "Path",
    "Header",
    "Cookie",
    "Body",
]
