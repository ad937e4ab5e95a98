"""gancli export from Python: a generator as ONNX, TorchScript and/or .pt2, each verified against torch."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import GancliError


@dataclass
class ExportResult:
    """What was exported: the generator's ``info`` (the metadata every file carries) and the ``written`` files,
    each with its measured difference from torch eager."""

    source: str
    info: object
    written: list

    def as_json(self) -> dict:
        """The report `gancli export --json` prints."""
        return {"source": self.source, "metadata": self.info.as_json(), "exports": [e.as_json() for e in self.written]}

    @property
    def paths(self) -> list:
        """The files written, in the order of ``written``."""
        return [e.path for e in self.written]


def export(target, onnx: str | None = None, torchscript: str | None = None, pt2: str | None = None,
           opset: int | None = None, directions: str | None = None, truncation: float | None = None,
           cutoff: int | None = None, synthesis_only: bool = False, verify: bool = True) -> ExportResult:
    """Export the generator of a run directory or generator file. With no format named, ONNX beside it:
    RUN/generator.onnx (RUN/synthesis.onnx with ``synthesis_only``) or FILE.onnx. ``directions``: a directions
    file to embed instead of the run's own; ``truncation``/``cutoff``: the default psi recorded, and the layers
    truncated, for a generator with a W space. A file that differs from torch by more than the tolerance is not
    written (``verify=False`` skips the check)."""
    target = os.fspath(target)
    outputs = {fmt: os.fspath(path) for fmt, path in (("onnx", onnx), ("torchscript", torchscript), ("pt2", pt2))
               if path}
    if not outputs:
        outputs = {"onnx": default_onnx_path(target, "synthesis" if synthesis_only else "generator")}
    if directions and not os.path.isfile(directions):
        raise GancliError(f"directions file {directions} does not exist")
    try:
        import torch  # noqa: F401
    except ImportError:
        raise GancliError("gancli export needs torch, which this installation lacks (a light install only runs "
                          "gancli generate): pip install torch") from None
    from ..export import export_generator
    from .registry import registry_for_command

    info, written = export_generator(target, outputs, opset=opset, check=verify, directions=directions,
                                     registry=registry_for_command(), truncation=truncation, cutoff=cutoff,
                                     synthesis_only=synthesis_only)
    return ExportResult(target, info, written)


def default_onnx_path(target: str, graph: str) -> str:
    if os.path.isdir(target):
        return os.path.join(target, f"{graph}.onnx")
    return os.path.splitext(target)[0] + (".onnx" if graph == "generator" else f".{graph}.onnx")
