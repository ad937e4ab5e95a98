"""Write docs/api.md from the API's own signatures and docstrings, so the reference cannot drift from the code.

    python -m gancli.api.docgen            print the page
    python -m gancli.api.docgen --write    rewrite docs/api.md (tests/test_api_docs.py fails until it matches)
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

from ..docpage import page_main

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
HEADER = """# Python API reference

`import gancli` is cheap (no torch); these names load on first use. Generated from the signatures and docstrings
by `python -m gancli.api.docgen --write`; do not edit by hand (`tests/test_api_docs.py` fails when this page and
the code disagree). A tour: [docs/notebooks/course.ipynb](notebooks/course.ipynb) and the README's "Use from
Python".
"""
FUNCTIONS = ("train", "resume", "load", "evaluate", "diagnose", "list_components")
# What the remaining commands do, importable from their modules (gancli classifier train, gancli plugins)
MORE = (("gancli.api.classifier", "train_classifier"), ("gancli.api.listing", "plugins"))
# (class, what returns it) in the order a reader meets them
CLASSES = (("Run", "gancli.train, gancli.resume, gancli.Run(path)"), ("Generator", "gancli.load"),
           ("Grid", "Generator.images and friends"), ("EditResult", "Generator.edit"),
           ("ExportResult", "Generator.export"), ("OnnxGenerator", 'gancli.load("g.onnx")'))


def _classes() -> dict:
    from . import Generator, Grid, Run
    from .directions import EditResult
    from .exporting import ExportResult
    from .onnx import OnnxGenerator

    return {"Run": Run, "Generator": Generator, "Grid": Grid, "EditResult": EditResult,
            "ExportResult": ExportResult, "OnnxGenerator": OnnxGenerator}


def _doc(obj) -> str:
    return inspect.cleandoc(obj.__doc__ or "").strip()


def _signature(name: str, obj, drop_self: bool = False) -> str:
    """``name(a: int = 1, *, b=None) -> Run``, annotations written as in the source (they are strings here)."""
    signature = inspect.signature(obj)
    params, star = [], False
    for param in signature.parameters.values():
        if drop_self and param.name == "self":
            continue
        text = {param.VAR_POSITIONAL: "*", param.VAR_KEYWORD: "**"}.get(param.kind, "") + param.name
        if param.kind == param.KEYWORD_ONLY and not star:
            params.append("*")
        star = star or param.kind in (param.KEYWORD_ONLY, param.VAR_POSITIONAL)
        if param.annotation is not param.empty:
            text += f": {_annotation(param.annotation)}"
        if param.default is not param.empty:
            text += f" = {param.default!r}" if param.annotation is not param.empty else f"={param.default!r}"
        params.append(text)
    returns = "" if signature.return_annotation is signature.empty else f" -> {_annotation(signature.return_annotation)}"
    return f"{name}({', '.join(params)}){returns}"


def _annotation(value) -> str:
    return value.strip("'\"") if isinstance(value, str) else getattr(value, "__name__", repr(value))


def _members(cls) -> list:
    """Public methods and properties defined on ``cls`` itself, in source order."""
    found = []
    for name, value in cls.__dict__.items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            found.append((name, None, value.fget))
        elif inspect.isfunction(value) or isinstance(value, (classmethod, staticmethod)):
            function = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
            found.append((name, function, function))
    return found


def render() -> str:
    from .. import api

    parts = [HEADER, "## Functions\n"]
    for name in FUNCTIONS:
        function = getattr(api, name)
        parts += [f"### gancli.{name}\n", f"```python\n{_signature('gancli.' + name, function)}\n```\n",
                  _doc(function) + "\n"]
    for module, name in MORE:
        function = getattr(importlib.import_module(module), name)
        parts += [f"### {module}.{name}\n", f"```python\n{_signature(name, function)}\n```\n", _doc(function) + "\n"]
    parts.append("## Classes\n")
    for name, (cls, (_, returned_by)) in zip(_classes(), zip(_classes().values(), CLASSES)):
        parts += [f"### {name}\n", f"*Returned by {returned_by}.*\n", _doc(cls) + "\n"]
        for member, function, documented in _members(cls):
            heading = f"{name}.{member}" if function is None else _signature(f"{name}.{member}", function, True)
            parts += [f"#### `{heading}`" + (" (property)" if function is None else "") + "\n",
                      (_doc(documented) or "") + "\n"]
    return "\n".join(parts).rstrip() + "\n"


def main(argv=None) -> int:
    return page_main(render, PAGE, __doc__, argv)


if __name__ == "__main__":
    sys.exit(main())
