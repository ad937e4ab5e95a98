"""Rebuild a generator from checkpoint metadata through the registry."""

from __future__ import annotations

from ..components import DataSpec
from ..errors import GancliError
from ..options import resolve, to_kwargs
from ..plugins import get_registry
from . import checkpoint
from .plan import missing_component_message
from .runs import generator_file


def build_generator(meta: dict, registry=None):
    """An untrained generator of the architecture, options and shapes a checkpoint's metadata records."""
    registry = registry or get_registry()
    try:
        item, spec = meta["arch"], DataSpec.from_json(meta["spec"])
        z_dim, num_classes = int(meta["z_dim"]), int(meta["num_classes"])
    except (KeyError, TypeError, ValueError) as exc:
        raise GancliError(f"checkpoint metadata is incomplete (missing {exc})") from None
    if not registry.has("architecture", item.get("name", "")):
        raise GancliError(missing_component_message("architecture", item))
    entry = registry.get("architecture", item["name"])
    options = resolve(entry.cls.Options, item.get("options", {}), f'architecture "{entry.name}"')
    arch = entry.cls(**to_kwargs(entry.cls.Options, options))
    return arch.build_generator(spec, z_dim, num_classes)


def load_generator(target: str, device: str = "cpu", registry=None):
    """(generator in eval mode, metadata) from a run directory or a checkpoint file."""
    path = generator_file(target)
    tensors, meta = checkpoint.load(path, prefix="G_ema.", device=device)  # a training checkpoint's average
    if not tensors:
        tensors, meta = checkpoint.load(path, prefix="G.", device=device)
    if not tensors:
        raise GancliError(f"{path} holds no generator weights")
    G = build_generator(meta, registry).to(device)
    try:
        G.load_state_dict(tensors)
    except RuntimeError as exc:
        first = str(exc).splitlines()[1].strip() if len(str(exc).splitlines()) > 1 else str(exc)
        raise GancliError(f"{path} does not match its recorded architecture ({first})") from None
    return G.eval(), meta
