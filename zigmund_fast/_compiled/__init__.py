"""The compiled extension modules (protocol, taskring).

NOTE: ``python -m zigmund_fast`` run from a source checkout imports the
checkout's package (the current directory comes first on ``sys.path``), whose
extensions are not built when the package was installed with ``pip install .``.
In that one case the search path of this package is extended with the
installed copy's ``_compiled`` directory, if that copy has the same version, so
the checkout's examples can be served with ``python -m`` as well.
"""

from __future__ import annotations

import importlib.machinery
import os


def _installed_extensions() -> str | None:
    here = os.path.dirname(os.path.abspath(__file__))
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    if any(name.startswith("protocol.") and name.endswith(suffixes) for name in os.listdir(here)):
        return None  # built in place
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        from zigmund_fast._version import __version__

        dist = distribution("zigmund-fast")
    except (ImportError, PackageNotFoundError):
        return None
    if dist.version != __version__:
        return None
    candidate = os.path.abspath(str(dist.locate_file("zigmund_fast/_compiled")))
    if candidate == here or not os.path.isdir(candidate):
        return None
    return candidate


_extra = _installed_extensions()
if _extra is not None:
    __path__.append(_extra)
