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
    from importlib.metadata import distributions

    from zigmund_fast._version import __version__

    # NOTE: several may be found: a build leaves zigmund_fast.egg-info in the checkout itself.
    for dist in distributions(name="zigmund-fast"):
        if dist.version != __version__:
            continue
        candidate = os.path.abspath(str(dist.locate_file("zigmund_fast/_compiled")))
        if candidate != here and os.path.isdir(candidate) and any(
            name.startswith("protocol.") and name.endswith(suffixes) for name in os.listdir(candidate)
        ):
            return candidate
    return None


_extra = _installed_extensions()
if _extra is not None:
    __path__.append(_extra)
