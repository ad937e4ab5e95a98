"""Checkpoints: safetensors files (never pickle) with gancli's JSON metadata, written atomically.

A file holds tensors under prefixes ("G." generator, "D." discriminator, "opt_G." ...) and one metadata
entry "gancli": a JSON object naming every component and its options, the latent size, data spec, step,
format and gancli version: enough to rebuild the generator through the registry with nothing else.

Safety: safetensors holds raw tensor bytes and a JSON header, so reading a file never runs code (a pickle
renamed .safetensors is refused as unreadable). A file cut short is refused by safetensors itself (its header
says where the data end); training checkpoints also carry a CRC-32 of their tensors, so a file damaged in
place is refused too, and resume falls back to the previous checkpoint.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib

from ..errors import GancliError

FORMAT_VERSION = 1
META_KEY = "gancli"


def save(path: str, tensors: dict, meta: dict, checksum: bool = False) -> None:
    """Write ``tensors`` and ``meta`` to ``path`` atomically: a temporary file in the same folder, then rename.

    A process killed at any moment leaves either the old file or the new one under ``path``, never a torn one
    (at worst a stray ``.tmp-*`` file, which resume removes). ``checksum`` adds a CRC-32 of the tensors.
    """
    from safetensors.torch import save_file

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    meta = {**meta, "format": FORMAT_VERSION}
    if checksum:
        meta["crc32"] = crc32(tensors)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={META_KEY: json.dumps(meta)})
        give_ordinary_permissions(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read_meta(path: str) -> dict:
    """The gancli metadata of a checkpoint, without reading its tensors."""
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as fh:
            raw = (fh.metadata() or {}).get(META_KEY)
    except FileNotFoundError:
        raise GancliError(f"checkpoint {path} does not exist") from None
    except Exception as exc:  # safetensors raises its own error types for damaged headers
        raise GancliError(f"{path} is not a readable safetensors checkpoint ({_reason(exc)}); "
                          "it may be truncated or corrupted") from None
    if raw is None:
        raise GancliError(f"{path} is a safetensors file without gancli metadata; it was not written by gancli")
    try:
        meta = json.loads(raw)
    except (json.JSONDecodeError, RecursionError):
        raise GancliError(f"{path} has damaged gancli metadata") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("format", 0), int):
        raise GancliError(f"{path} has damaged gancli metadata (not an object with a whole format number)")
    if meta.get("format", 0) > FORMAT_VERSION:
        raise GancliError(f"{path} uses checkpoint format {meta['format']}, newer than this gancli understands "
                          f"({FORMAT_VERSION}); upgrade gancli")
    return meta


def load(path: str, prefix: str | None = None, device: str = "cpu") -> tuple[dict, dict]:
    """(tensors, meta) of a checkpoint; with ``prefix`` only those tensors, the prefix stripped."""
    from safetensors import safe_open

    meta = read_meta(path)
    try:
        tensors = {}
        with safe_open(path, framework="pt", device=device) as fh:
            for key in fh.keys():
                if prefix is None:
                    tensors[key] = fh.get_tensor(key)
                elif key.startswith(prefix):
                    tensors[key[len(prefix):]] = fh.get_tensor(key)
    except Exception as exc:
        raise GancliError(f"{path} could not be read ({_reason(exc)}); it may be truncated or corrupted") from None
    if prefix is None and "crc32" in meta and meta["crc32"] != crc32(tensors):
        raise GancliError(f"{path} is corrupted: its tensors do not match the checksum written with them")
    return tensors, meta


def crc32(tensors: dict) -> int:
    """CRC-32 of the tensors' names, dtypes, shapes and bytes, in name order."""
    import torch

    value = 0
    for key in sorted(tensors):
        tensor = tensors[key].detach().contiguous().cpu()
        value = zlib.crc32(f"{key}:{tensor.dtype}:{tuple(tensor.shape)};".encode(), value)
        value = zlib.crc32(tensor.reshape(-1).view(torch.uint8).numpy(), value)
    return value


def load_state(module, tensors: dict, path: str, prefix: str = "") -> None:
    """``module.load_state_dict(tensors)``, refusing missing, extra, misshaped or wrongly typed tensors."""
    expected = module.state_dict()
    missing, extra = sorted(expected.keys() - tensors.keys()), sorted(tensors.keys() - expected.keys())
    if missing or extra:
        which = f"lacks {prefix}{missing[0]}" if missing else f"has an unexpected tensor {prefix}{extra[0]}"
        raise GancliError(f"{path} does not match its recorded architecture: it {which}")
    for key, want in expected.items():
        got = tensors[key]
        if got.shape != want.shape or got.dtype != want.dtype:
            raise GancliError(f"{path} does not match its recorded architecture: {prefix}{key} is "
                              f"{got.dtype} {tuple(got.shape)}, expected {want.dtype} {tuple(want.shape)}")
    module.load_state_dict(tensors)


# Bounds on what a checkpoint may ask gancli to build: beyond them a damaged or crafted file would make
# gancli allocate absurd amounts of memory before anything could check the weights.
_MAX_Z_DIM, _MAX_SIDE, _MAX_VALUES, _MAX_CLASSES = 2 ** 16, 2 ** 14, 2 ** 26, 2 ** 20


def generator_fields(meta: dict) -> tuple:
    """(architecture entry, DataSpec, z_dim, num_classes) from checkpoint metadata, checked for sense."""
    from ..components import DataSpec

    try:
        item, spec = meta["arch"], DataSpec.from_json(meta["spec"])
        z_dim, num_classes = meta["z_dim"], meta["num_classes"]
        shape = [int(side) for side in spec.shape]
        names = [str(name) for name in spec.class_names]
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or \
                not isinstance(item.get("options", {}), dict):
            raise TypeError("arch")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise GancliError(f"checkpoint metadata is incomplete or damaged (at {exc})") from None
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (z_dim, num_classes, *spec.shape))
    values = 1
    for side in shape:
        values *= max(side, 1)
    if not whole or not 1 <= z_dim <= _MAX_Z_DIM or not 0 <= num_classes <= _MAX_CLASSES or \
            not 1 <= len(shape) <= 3 or not all(1 <= side <= _MAX_SIDE for side in shape) or \
            values > _MAX_VALUES or spec.kind not in ("image", "points") or len(names) > _MAX_CLASSES:
        raise GancliError(f"checkpoint metadata is damaged: latent size {z_dim!r}, classes {num_classes!r}, "
                          f"data shape {spec.shape!r} are not sensible")
    return item, spec, z_dim, num_classes


def give_ordinary_permissions(path: str) -> None:
    """Mode 0666 less the umask: mkstemp and safetensors make private files, but outputs are ordinary ones."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
