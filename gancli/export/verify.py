"""Checking an export against torch eager: max absolute difference on fixed inputs at several batch sizes.

The tolerance is 1e-4 of the output's scale (images are in [-1, 1], so 1e-4 absolute; unbounded 2-D points
are compared relative to their largest magnitude when it is above 1). Faithful exports measure 1e-9 to 1e-6:
float32 rounding from reordered or folded operations. A real fault (a wrong op, a weight left out, a
batch-size bug) shows up orders of magnitude higher.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import GancliError
from ..runtime.metadata import GeneratorInfo

TOLERANCE = 1e-4
BATCHES = (1, 7, 64)


def fixed_inputs(info: GeneratorInfo, batch: int) -> tuple:
    """(z float32, labels int64 or None) as numpy arrays, the same on every call."""
    z = torch.randn(batch, info.z_dim, generator=torch.Generator().manual_seed(1000 + batch)).numpy()
    labels = np.arange(batch, dtype=np.int64) % info.num_classes if info.num_classes else None
    return z, labels


def reference_outputs(G, info: GeneratorInfo) -> dict:
    """{batch: torch eager output} of the generator as trained (parametrizations and all)."""
    G = G.eval()
    outputs = {}
    with torch.no_grad():  # not inference_mode: spectral norm's parametrization fails under it
        for batch in BATCHES:
            z, labels = fixed_inputs(info, batch)
            y = G(torch.from_numpy(z), None if labels is None else torch.from_numpy(labels))
            outputs[batch] = y.float().cpu().numpy()
    return outputs


def differences(run, info: GeneratorInfo, references: dict) -> dict:
    """{batch: max |export - eager|} for ``run(z, labels) -> numpy``."""
    found = {}
    for batch, expected in references.items():
        got = np.asarray(run(*fixed_inputs(info, batch)))
        if got.shape != expected.shape:
            raise GancliError(f"the export returns shape {got.shape} at batch {batch}, torch {expected.shape}")
        found[batch] = float(np.abs(got.astype(np.float64) - expected).max())
    return found


def check(fmt: str, path: str, diffs: dict, references: dict) -> None:
    """A GancliError naming the worst batch when a difference is above tolerance (or not a number)."""
    for batch, diff in diffs.items():
        limit = TOLERANCE * max(1.0, float(np.abs(references[batch]).max()))
        if not diff <= limit:  # also catches NaN
            raise GancliError(f"{fmt} export differs from torch by {diff:.3g} at batch {batch} "
                              f"(tolerance {limit:.0e}); {path} was not written")


def torch_runner(module):
    """``run(z, labels) -> numpy`` for a loaded TorchScript or torch.export module."""

    def run(z, labels=None):
        inputs = [torch.from_numpy(z)] + ([] if labels is None else [torch.from_numpy(labels)])
        with torch.no_grad():
            return module(*inputs).numpy()

    return run


def check_extra_file(path: str, raw, info: GeneratorInfo) -> None:
    """The gancli.json read back from a TorchScript or .pt2 file must say what was written."""
    import json

    if GeneratorInfo.from_json(json.loads(raw or "{}"), path) != info:
        raise GancliError(f"the gancli metadata read back from {path} differs from what was written")
