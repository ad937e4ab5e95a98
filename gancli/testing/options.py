"""check_options: a component's option schema works on the command line, in config files and in checkpoints."""

from __future__ import annotations

import json

from ..components import Component
from ..options import resolve, schema, to_kwargs
from .common import ContractError, require


def check_options(cls, values=None) -> dict:
    """Check a component class's ``Options`` schema and return the resolved options.

    - the schema reads (fields typed bool, int, float or str), every field has help text (``gancli list
      --options`` shows it), and the defaults satisfy the field's own choices and bounds;
    - ``values`` (what a user would pass with ``--loss-opt``; strings are fine) resolve, survive the
      JSON round trip through checkpoint metadata unchanged, resolve again to the same values, and build
      a component whose attributes hold them.
    """
    require(isinstance(cls, type) and issubclass(cls, Component), f"{cls!r} is not a gancli component class")
    name = cls.__name__
    try:
        fields = schema(cls.Options)
    except TypeError as exc:
        raise ContractError(f"{name}.Options: {exc}") from None
    for info in fields:
        require(info.help, f"{name} option {info.name!r} has no help text; give gancli.field(..., help=...)")
    defaults = {info.name: info.default for info in fields}
    try:
        resolve(cls.Options, defaults, name)
    except Exception as exc:
        raise ContractError(f"{name}'s default options are invalid: {exc}") from None

    resolved = resolve(cls.Options, dict(values or {}), name)
    try:
        recorded = json.loads(json.dumps(resolved))
    except (TypeError, ValueError) as exc:
        raise ContractError(f"{name}'s options cannot be written to checkpoint metadata: {exc}") from None
    again = resolve(cls.Options, recorded, name)
    require(again == resolved, f"{name}'s options change through checkpoint metadata: {resolved} -> {again}")
    instance = cls(**to_kwargs(cls.Options, again))
    for info in fields:
        require(getattr(instance, info.attr, None) == again[info.name],
                f"{name}() did not keep option {info.name!r} as attribute {info.attr!r}; if it defines "
                "__init__, accept every option as a keyword argument and store it")
    return again
