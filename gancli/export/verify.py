"""Checking an export against torch eager: max absolute difference on fixed inputs at several batch sizes.

The tolerance is 1e-4 of the output's scale (images are in [-1, 1], so 1e-4 absolute; unbounded 2-D points
and mapped w are compared relative to their largest magnitude when it is above 1). Faithful exports measure
1e-9 to 1e-6: float32 rounding from reordered or folded operations. A real fault (a wrong op, a weight left out,
a batch-size bug) shows up orders of magnitude higher.

A generator with a W space is checked at several psi too (:data:`PSIS`, and the export's default psi): the
"generator" graph takes psi as an input; the "synthesis" graph is fed W+ latents (one w of its own per layer)
truncated at each psi; the "mapping" graph has no psi. The torch side is always gancli.latents, the one module
that knows the spaces. A check's key is the batch size, or (psi, batch) where psi is part of the check.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import GancliError
from ..latents import LatentSpaces
from ..runtime.metadata import GeneratorInfo
from .quiet import first_line

TOLERANCE = 1e-4
BATCHES = (1, 7, 64)
PSIS = (0.5, 0.7, 1.0)


def fixed_inputs(info: GeneratorInfo, batch: int) -> tuple:
    """(z float32, labels int64 or None) as numpy arrays, the same on every call."""
    z = torch.randn(batch, info.z_dim, generator=torch.Generator().manual_seed(1000 + batch)).numpy()
    labels = np.arange(batch, dtype=np.int64) % info.num_classes if info.num_classes else None
    return z, labels


def psis(info: GeneratorInfo) -> tuple:
    """The truncations an export of ``info`` is checked at (none for a Z-only generator or a mapping)."""
    if not info.has_w or info.graph == "mapping":
        return ()
    return tuple(sorted({*PSIS, float(info.truncation)}))


def reference_outputs(G, info: GeneratorInfo) -> dict:
    """{key: (inputs for the export's runner, torch eager output)} of the generator as trained (parametrizations
    and all)."""
    G = G.eval()
    cases = {}
    with torch.no_grad():  # not inference_mode: spectral norm's parametrization fails under it
        if not info.has_w:
            for batch in BATCHES:
                z, labels = fixed_inputs(info, batch)
                y = G(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels))
                cases[batch] = ((z, labels), y.float().cpu().numpy())
            return cases
        spaces = LatentSpaces(G, info.z_dim, info.num_classes)
        for batch in BATCHES:
            z, labels = fixed_inputs(info, batch)
            tz, tl = torch.from_numpy(z), None if labels is None else torch.from_numpy(labels)
            if info.graph == "mapping":
                cases[batch] = ((z, labels), spaces.convert(tz, "z", "w", tl).float().numpy())
            for psi in psis(info):
                if info.graph == "generator":
                    y = spaces.decode(tz, "z", tl, truncation=psi, cutoff=info.truncation_cutoff)
                    cases[psi, batch] = ((z, labels, np.float32(psi)), y.float().numpy())
                else:
                    ws = mixed_ws(spaces, batch, psi)
                    cases[psi, batch] = ((ws.numpy(),), spaces.decode(ws, "w+").float().numpy())
    return cases


def mixed_ws(spaces: LatentSpaces, batch: int, psi: float) -> torch.Tensor:
    """W+ latents (batch, num_ws, w_dim) whose layers hold w of different z, truncated at ``psi``."""
    labels = torch.arange(batch) % spaces.num_classes if spaces.num_classes else None
    layers = [spaces.sample(batch, 2000 + 97 * batch + layer, "w", labels, truncation=psi)
              for layer in range(int(spaces.G.num_ws))]
    return torch.stack(layers, 1)


def differences(run, info: GeneratorInfo, references: dict) -> dict:
    """{key: max |export - eager|} for ``run(*inputs) -> numpy``."""
    found = {}
    for key, (inputs, expected) in references.items():
        try:
            got = np.asarray(run(*inputs))
        except GancliError:
            raise
        except Exception as exc:  # onnxruntime's and torch's own errors: a batch size the file cannot take, ...
            raise GancliError(f"the export fails at {describe(key)} ({first_line(exc)[:200]})") from None
        if got.shape != expected.shape:
            raise GancliError(f"the export returns shape {got.shape} at {describe(key)}, torch {expected.shape}")
        found[key] = float(np.abs(got.astype(np.float64) - expected).max())
    return found


def describe(key) -> str:
    return f"batch {key}" if isinstance(key, int) else f"batch {key[1]}, psi {key[0]:g}"


def check(fmt: str, path: str, diffs: dict, references: dict) -> None:
    """A GancliError naming the worst batch (and psi) when a difference is above tolerance (or not a number)."""
    for key, diff in diffs.items():
        limit = TOLERANCE * max(1.0, float(np.abs(references[key][1]).max()))
        if not diff <= limit:  # also catches NaN
            raise GancliError(f"{fmt} export differs from torch by {diff:.3g} at {describe(key)} "
                              f"(tolerance {limit:.0e}); {path} was not written")


def by_batch(diffs: dict) -> dict:
    """{batch: the worst difference over psi}."""
    worst = {}
    for key, diff in diffs.items():
        batch = key if isinstance(key, int) else key[1]
        worst[batch] = max(worst.get(batch, diff), diff)
    return worst


def by_psi(diffs: dict) -> dict | None:
    """{psi: {batch: difference}}, or None where psi was not part of the check."""
    if all(isinstance(key, int) for key in diffs):
        return None
    table = {}
    for (psi, batch), diff in diffs.items():
        table.setdefault(psi, {})[batch] = diff
    return table


def torch_runner(module):
    """``run(*inputs) -> numpy`` for a loaded TorchScript or torch.export module (None inputs are left out)."""

    def run(*inputs):
        tensors = [torch.from_numpy(np.asarray(x)) for x in inputs if x is not None]
        with torch.no_grad():
            return module(*tensors).numpy()

    return run


def check_extra_file(path: str, raw, info: GeneratorInfo) -> None:
    """The gancli.json read back from a TorchScript or .pt2 file must say what was written."""
    import json

    if GeneratorInfo.from_json(json.loads(raw or "{}"), path) != info:
        raise GancliError(f"the gancli metadata read back from {path} differs from what was written")
