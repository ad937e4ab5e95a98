"""Rebuild a generator from checkpoint metadata through the registry."""

from __future__ import annotations

from ..errors import GancliError
from ..options import resolve, to_kwargs
from ..plugins import get_registry
from . import checkpoint
from .plan import missing_component_message
from .runs import generator_file


def build_generator(meta: dict, registry=None):
    """An untrained generator of the architecture, options and shapes a checkpoint's metadata records."""
    registry = registry or get_registry()
    item, spec, z_dim, num_classes = checkpoint.generator_fields(meta)
    if not registry.has("architecture", item.get("name", "")):
        raise GancliError(missing_component_message("architecture", item))
    entry = registry.get("architecture", item["name"])
    options = resolve(entry.cls.Options, item.get("options", {}), f'architecture "{entry.name}"')
    arch = entry.cls(**to_kwargs(entry.cls.Options, options))
    try:
        return arch.build_generator(spec, z_dim, num_classes)
    except (ValueError, TypeError, RuntimeError, MemoryError) as exc:  # sizes no network can be built for
        raise GancliError(f'checkpoint metadata asks for a generator "{entry.name}" cannot build '
                          f"({str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__})") from None


def load_generator(target: str, device: str = "cpu", registry=None):
    """(generator in eval mode, metadata) from a run directory or a checkpoint file."""
    path = generator_file(target)
    tensors, meta = checkpoint.load(path, prefix="G_ema.", device=device)  # a training checkpoint's average
    if not tensors:
        tensors, meta = checkpoint.load(path, prefix="G.", device=device)
    if not tensors:
        raise GancliError(f"{path} holds no generator weights")
    G = build_generator(meta, registry).to(device)
    checkpoint.load_state(G, tensors, path)  # names, shapes and dtypes must all match
    return G.eval(), meta
