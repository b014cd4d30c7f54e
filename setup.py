"""Build the Cython extensions; all metadata lives in pyproject.toml.

ZIGMUND_FAST_DEBUG=1 builds with line tracing, annotated HTML, -O0 -g and -DZF_DEBUG.
"""

from __future__ import annotations

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

DEBUG = os.environ.get("ZIGMUND_FAST_DEBUG") == "1"

compile_args = ["-O0", "-g", "-DZF_DEBUG=1"] if DEBUG else ["-O2"]
macros = [("CYTHON_TRACE", "1")] if DEBUG else []

extensions = [
    Extension(
        f"zigmund_fast._compiled.{name}",
        [f"zigmund_fast/_compiled/{name}.pyx"],
        extra_compile_args=compile_args,
        define_macros=macros,
    )
    for name in ("events", "taskring", "messages", "handlers", "routematch", "extract", "protocol")
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "linetrace": DEBUG},
        annotate=DEBUG,
    ),
)
