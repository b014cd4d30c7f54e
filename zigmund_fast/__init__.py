"""zigmund_fast: FastAPI-style handlers on a Cython HTTP/1.1 server, with background tasks you can trust."""

from __future__ import annotations

from zigmund_fast._version import __version__

# Application
from zigmund_fast.app import App

# Requests, responses, tasks
from zigmund_fast.background import BackgroundTasks
from zigmund_fast.exceptions import (
    HTTPException,
    RequestValidationError,
    ResponseValidationError,
)
from zigmund_fast.fileresponse import FileResponse

# Parameter markers
from zigmund_fast.forms import FormData, UploadFile
from zigmund_fast.params import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Security,
    SecurityScopes,
)
from zigmund_fast.requests import Request
from zigmund_fast.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from zigmund_fast.routers import APIRouter, Router
from zigmund_fast.sse import EventSourceResponse, ServerSentEvent
from zigmund_fast.staticfiles import StaticFiles
from zigmund_fast.streaming import StreamingResponse

# WebSockets
from zigmund_fast.websockets import (
    WebSocket,
    WebSocketDisconnect,
    WebSocketException,
    WebSocketState,
)

__all__ = [
    "__version__",
    # Application
    "App",
    "Router",
    "APIRouter",
    "StaticFiles",
    # Requests, responses, tasks
    "Request",
    "Response",
    "JSONResponse",
    "HTMLResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "StreamingResponse",
    "FileResponse",
    "EventSourceResponse",
    "ServerSentEvent",
    "BackgroundTasks",
    "HTTPException",
    "RequestValidationError",
    "ResponseValidationError",
    # Parameter markers
    "Query",
    "Path",
    "Header",
    "Cookie",
    "Body",
    "File",
    "Form",
    "FormData",
    "UploadFile",
    # Dependencies (security schemes: zigmund_fast.security)
    "Depends",
    "Security",
    "SecurityScopes",
    # WebSockets
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketState",
]
