"""Checkpoints: safetensors files (never pickle) with gancli's JSON metadata, written atomically.

A file holds tensors under prefixes ("G." generator, "D." discriminator, "opt_G." ...) and one metadata
entry "gancli": a JSON object naming every component and its options, the latent size, data spec, step,
format and gancli version: enough to rebuild the generator through the registry with nothing else.
"""

from __future__ import annotations

import json
import os
import tempfile

from ..errors import GancliError

FORMAT_VERSION = 1
META_KEY = "gancli"


def save(path: str, tensors: dict, meta: dict) -> None:
    """Write ``tensors`` and ``meta`` to ``path`` atomically: a temporary file in the same folder, then rename."""
    from safetensors.torch import save_file

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    meta = {**meta, "format": FORMAT_VERSION}
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".safetensors", dir=folder)
    os.close(fd)
    try:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, tmp,
                  metadata={META_KEY: json.dumps(meta)})
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
    except json.JSONDecodeError:
        raise GancliError(f"{path} has damaged gancli metadata") from None
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
    return tensors, meta


def give_ordinary_permissions(path: str) -> None:
    """Mode 0666 less the umask: mkstemp and safetensors make private files, but outputs are ordinary ones."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
