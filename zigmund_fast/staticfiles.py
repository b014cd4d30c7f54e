"""``StaticFiles``: the files of one directory, served where it is mounted.

``app.mount("/static", StaticFiles(directory="static"))``. Each file goes out
as a ``FileResponse`` (read off the event loop in chunks, with
``content-type``, ``content-length``, ``etag``, ``last-modified``, ``304`` for
``If-None-Match``/``If-Modified-Since``, byte ranges, and ``HEAD``). Looking
the path up (``realpath``, ``stat``) runs on the stream thread pool too.

A request can only reach files inside the directory: a path with a ``..``
segment (also when sent percent-encoded, which the server decodes first),
a NUL byte, or one that resolves (through a symlink, say) to a place outside
the directory is answered ``404``, the same as a missing file.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from zigmund_fast.exceptions import HTTPException
from zigmund_fast.fileresponse import FileResponse
from zigmund_fast.mounts import absolute_url
from zigmund_fast.responses import RedirectResponse, Response
from zigmund_fast.streaming import run_in_thread

if TYPE_CHECKING:
    from zigmund_fast.requests import Request

# What a lookup found: a file to send, a directory to redirect to its slash form, or nothing.
_FILE = "file"
_REDIRECT = "redirect"
_NOT_FOUND_PAGE = "404.html"
_MISSING = "missing"

Found = tuple[str, str, "os.stat_result | None"]


class StaticFiles:
    """Serves ``directory`` under the path it is mounted at.

    Parameters:
        directory: the folder to serve.
        html: HTML mode: a directory answers with its ``index.html`` (a request
            for ``/dir`` is first redirected to ``/dir/``), and a missing file
            with the directory's ``404.html`` and status 404, when present.
        check_dir: raise ``RuntimeError`` now if ``directory`` does not exist;
            with ``False`` it may appear later (until then every request is a 404).

    Only ``GET`` and ``HEAD`` are allowed (``405`` otherwise). Errors are
    ``HTTPException``s, answered by the mounting app's exception handlers.
    """

    def __init__(self, *, directory: str | os.PathLike[str], html: bool = False, check_dir: bool = True) -> None:
        self.directory = os.fspath(directory)
        self.html = html
        if check_dir:
            if not os.path.exists(self.directory):
                raise RuntimeError(f"StaticFiles directory {self.directory!r} does not exist")
            if not os.path.isdir(self.directory):
                raise RuntimeError(f"StaticFiles directory {self.directory!r} is not a directory")

    async def handle_mounted(self, request: Request) -> Response:
        """Called by the mount with ``request.path`` relative to the mount prefix."""
        if request.method not in ("GET", "HEAD"):
            raise HTTPException(405, headers={"allow": "GET, HEAD"})
        kind, path, info = await run_in_thread(self.lookup, request.path)
        if kind == _FILE:
            return FileResponse(path, stat_result=info)
        if kind == _REDIRECT:
            return RedirectResponse(absolute_url(request, request.root_path + request.path + "/"), 307)
        if kind == _NOT_FOUND_PAGE:
            return FileResponse(path, status_code=404, stat_result=info)
        raise HTTPException(404)

    def lookup(self, url_path: str) -> Found:
        """Runs on a worker thread: what ``url_path`` (decoded, relative to the mount) refers to."""
        root = os.path.realpath(self.directory)
        segments = [segment for segment in url_path.split("/") if segment and segment != "."]
        if any(segment == ".." or "\x00" in segment for segment in segments):
            return self._missing(root)
        # NOTE: no segment contains "/", so os.path.join can't be sent to an absolute path.
        full_path = os.path.realpath(os.path.join(root, *segments))
        info = _stat_inside(full_path, root)
        if info is not None and stat.S_ISREG(info.st_mode):
            return _FILE, full_path, info
        if info is not None and stat.S_ISDIR(info.st_mode) and self.html:
            index = os.path.realpath(os.path.join(full_path, "index.html"))
            index_info = _stat_inside(index, root)
            if index_info is not None and stat.S_ISREG(index_info.st_mode):
                if not url_path.endswith("/"):
                    return _REDIRECT, full_path, None
                return _FILE, index, index_info
        return self._missing(root)

    def _missing(self, root: str) -> Found:
        if self.html:
            page = os.path.realpath(os.path.join(root, "404.html"))
            info = _stat_inside(page, root)
            if info is not None and stat.S_ISREG(info.st_mode):
                return _NOT_FOUND_PAGE, page, info
        return _MISSING, "", None

    def __repr__(self) -> str:
        return f"StaticFiles(directory={self.directory!r}, html={self.html!r})"


def _stat_inside(path: str, root: str) -> os.stat_result | None:
    """``os.stat(path)`` if the (already resolved) ``path`` is inside ``root`` and exists, else None."""
    try:
        if os.path.commonpath([path, root]) != root:
            return None
        return os.stat(path)
    except (OSError, ValueError):
        return None


__all__ = ["StaticFiles"]
