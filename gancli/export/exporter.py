"""Export a trained generator to the asked formats, each verified before it is moved into place."""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass

from .. import __version__
from ..engine.checkpoint import give_ordinary_permissions
from ..errors import GancliError
from ..runtime.metadata import GeneratorInfo
from . import to_onnx, to_pt2, to_torchscript, verify
from .prepare import exportable

FORMATS = {"onnx": to_onnx, "torchscript": to_torchscript, "pt2": to_pt2}


@dataclass
class Exported:
    """One written file and how close it came to torch eager ({batch: max abs difference}; None: not checked)."""

    format: str
    path: str
    bytes: int
    seconds: float
    differences: dict | None

    def as_json(self) -> dict:
        diffs = None if self.differences is None else {str(b): d for b, d in self.differences.items()}
        return {"format": self.format, "path": self.path, "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "max_abs_difference": diffs, "tolerance": verify.TOLERANCE}


def generator_info(meta: dict, directions: dict) -> GeneratorInfo:
    """What an export records, from a checkpoint's metadata and ``{name: vector}`` directions."""
    spec = meta["spec"]
    num_classes = int(meta["num_classes"])
    z_dim = int(meta["z_dim"])
    names = list(spec.get("class_names", ()))[:num_classes] if num_classes else []
    if num_classes and len(names) != num_classes:  # a checkpoint without names: number the classes
        names = [str(i) for i in range(num_classes)]
    vectors = {}
    for name, vector in directions.items():
        values = [float(x) for x in vector]
        if len(values) != z_dim:
            raise GancliError(f"direction {name!r} has {len(values)} components but the generator's latent "
                              f"size is {z_dim}; the directions belong to another run")
        vectors[name] = values
    return GeneratorInfo(gancli_version=__version__, architecture=dict(meta["arch"]), z_dim=z_dim,
                         class_names=tuple(names), data_kind=spec["kind"], sample_shape=tuple(spec["shape"]),
                         directions=vectors, step=meta.get("step"))


def export_generator(target: str, outputs: dict, opset: int | None = None, check: bool = True,
                     directions: str | None = None, registry=None) -> tuple[GeneratorInfo, list]:
    """Export the generator of a run directory or checkpoint file to ``outputs`` ({format: path}).

    ``directions`` is a directions file to embed; by default the run's own directions.safetensors, if any.
    """
    from ..engine.directions import directions_beside, load_directions
    from ..engine.models import load_generator

    _check_request(outputs, opset, check)
    G, meta = load_generator(target, registry=registry)
    source = directions or directions_beside(target)
    vectors = load_directions(source)[0] if source else {}
    info = generator_info(meta, vectors)
    return info, export_model(G, info, outputs, opset, check)


def export_model(G, info: GeneratorInfo, outputs: dict, opset: int | None = None, check: bool = True) -> list:
    """Export the module ``G`` (``G(z, labels=None)``) described by ``info``; returns one Exported per file."""
    _check_request(outputs, opset, check)
    temps = {}
    try:
        for fmt, path in outputs.items():  # claim every destination first: a bad path fails before any work
            temps[fmt] = _temporary_beside(path, FORMATS[fmt].SUFFIX)
        module = exportable(G, info)
        references = verify.reference_outputs(G, info) if check else None
        written = []
        for fmt, path in outputs.items():
            started = time.perf_counter()
            FORMATS[fmt].write(module, info, temps[fmt], opset)
            diffs = None
            if check:
                diffs = verify.differences(FORMATS[fmt].load(temps[fmt], info), info, references)
                verify.check(fmt, path, diffs, references)
            os.replace(temps.pop(fmt), path)
            written.append(Exported(fmt, path, os.path.getsize(path), time.perf_counter() - started, diffs))
        return written
    finally:
        for temp in temps.values():
            if os.path.exists(temp):
                os.remove(temp)


def _check_request(outputs: dict, opset: int | None, check: bool) -> None:
    """Everything that can be refused before loading or exporting anything."""
    if not outputs:
        raise GancliError("nothing to export: give --onnx, --torchscript or --pt2 with a file name")
    unknown = set(outputs) - set(FORMATS)
    if unknown:
        raise GancliError(f"unknown export format {sorted(unknown)[0]!r}; known: {', '.join(FORMATS)}")
    paths = [os.path.abspath(p) for p in outputs.values()]
    if len(set(paths)) != len(paths):
        raise GancliError("each format needs its own output file; the same path was given twice")
    for path in outputs.values():
        if os.path.isdir(path):
            raise GancliError(f"output {path} is a folder; give a file name such as {os.path.join(path, 'g.onnx')}")
    if "onnx" in outputs:
        to_onnx.check_installed()
        to_onnx.check_opset(opset)
        if check:
            to_onnx.check_runtime()
    elif opset is not None:
        raise GancliError("--opset applies to ONNX only; add --onnx OUT.onnx")


def _temporary_beside(path: str, suffix: str) -> str:
    """An empty temporary file in the destination's folder (so the final rename is atomic)."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    except (FileExistsError, NotADirectoryError):
        raise GancliError(f"cannot write {path}: part of {folder} is a file, not a folder") from None
    except OSError as exc:
        raise GancliError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    give_ordinary_permissions(temp)
    return temp
