"""Option schemas: typed, documented fields that feed the CLI, validation and checkpoint metadata.

A component declares::

    class Options(gancli.Options):
        margin: float = gancli.field(1.0, help="margin of the hinge", min=0)

and users set it with ``--loss-opt margin=2``. Values are checked against the annotation's type,
``choices`` and ``min``/``max`` here, so a component receives only valid values.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

from .errors import GancliError, did_you_mean

_SCALARS = (bool, int, float, str)


class Options:
    """Base class of every component's option schema. Subclasses become dataclasses."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls)


def field(default, *, help: str = "", choices=None, min=None, max=None):
    """A documented option with a default, optional allowed ``choices`` and bounds."""
    meta = {"help": help, "choices": tuple(choices) if choices else None, "min": min, "max": max}
    return dataclasses.field(default=default, metadata=meta)


@dataclass(frozen=True)
class OptionInfo:
    """One field of a schema as the CLI and `gancli list --options` show it."""

    name: str  # the key users type (a trailing underscore dropped: ``lambda_`` -> ``lambda``)
    attr: str  # the Python attribute
    type: type
    default: object
    help: str
    choices: tuple | None
    min: float | None
    max: float | None

    def describe(self) -> str:
        text = f"{self.name} ({self.type.__name__}, default {self.default!r})"
        if self.choices:
            text += f" one of {', '.join(map(str, self.choices))}"
        return text + (f": {self.help}" if self.help else "")

    def as_json(self) -> dict:
        return {"name": self.name, "type": self.type.__name__, "default": self.default,
                "help": self.help, "choices": list(self.choices) if self.choices else None,
                "min": self.min, "max": self.max}


def schema(options_cls) -> list[OptionInfo]:
    """The fields of an Options class (empty for a component without options)."""
    if options_cls is None:
        return []
    hints = typing.get_type_hints(options_cls)
    infos = []
    for f in dataclasses.fields(options_cls):
        kind = hints.get(f.name, str)
        if kind not in _SCALARS:
            raise TypeError(f"{options_cls.__qualname__}.{f.name}: options must be bool, int, float or str")
        infos.append(OptionInfo(
            name=f.name.rstrip("_"), attr=f.name, type=kind, default=f.default,
            help=f.metadata.get("help", ""), choices=f.metadata.get("choices"),
            min=f.metadata.get("min"), max=f.metadata.get("max"),
        ))
    return infos


def _convert(info: OptionInfo, value, where: str):
    kind = info.type
    try:
        if kind is bool and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError(value)
            value = lowered in ("true", "1", "yes", "on")
        elif kind is bool and not isinstance(value, bool):
            raise ValueError(value)
        elif kind is int and isinstance(value, float) and value.is_integer():
            value = int(value)
        elif kind is int and isinstance(value, bool):
            raise ValueError(value)
        else:
            value = kind(value)
    except (TypeError, ValueError):
        raise GancliError(f"{where}: option {info.name} must be {kind.__name__}, got {value!r}") from None
    if info.choices and value not in info.choices:
        raise GancliError(f"{where}: option {info.name} must be one of {', '.join(map(str, info.choices))}, "
                          f"got {value!r}")
    if info.min is not None and value < info.min:
        raise GancliError(f"{where}: option {info.name} must be at least {info.min}, got {value!r}")
    if info.max is not None and value > info.max:
        raise GancliError(f"{where}: option {info.name} must be at most {info.max}, got {value!r}")
    return value


def parse_pairs(pairs) -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}`` (values converted later against the schema)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise GancliError(f"option {pair!r} must look like key=value")
        target, dot, name = key.strip().rpartition(".")  # "enforcer.key" keeps the enforcer's own spelling
        out[target + dot + name.replace("-", "_")] = value.strip()
    return out


def resolve(options_cls, values: dict, where: str) -> dict:
    """Check ``values`` against the schema and return every option (defaults filled in) by its key.

    ``where`` names the component in error messages, for example ``loss "wgan"``.
    """
    infos = {info.name: info for info in schema(options_cls)}
    by_attr = {info.attr: info for info in infos.values()}
    resolved = {name: info.default for name, info in infos.items()}
    for key, value in values.items():
        info = infos.get(key) or by_attr.get(key)
        if info is None:
            known = ", ".join(infos) or "none"
            raise GancliError(f"{where} has no option {key!r}{did_you_mean(key, infos)}; its options: {known}")
        resolved[info.name] = _convert(info, value, where)
    return resolved


def to_kwargs(options_cls, resolved: dict) -> dict:
    """Option keys -> Python attribute names, ready for ``Component(**kwargs)``."""
    return {info.attr: resolved[info.name] for info in schema(options_cls) if info.name in resolved}
