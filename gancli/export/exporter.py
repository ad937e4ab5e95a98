"""Export a trained generator to the asked formats, each verified before it is moved into place."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
from dataclasses import dataclass

from .. import __version__
from ..engine.checkpoint import give_ordinary_permissions
from ..errors import GancliError
from ..latents import LatentSpaces, check_truncation
from ..runtime.metadata import GeneratorInfo, floats
from . import to_onnx, to_pt2, to_torchscript, verify
from .prepare import exportable

FORMATS = {"onnx": to_onnx, "torchscript": to_torchscript, "pt2": to_pt2}
MAPPING_SUFFIX = ".mapping.onnx"


@dataclass
class Exported:
    """One written file and how close it came to torch eager ({batch: max abs difference}, the worst over psi
    where psi is checked too; None: not checked). ``psi_differences``: {psi: {batch: difference}} or None."""

    format: str
    path: str
    bytes: int
    seconds: float
    differences: dict | None
    graph: str = "generator"
    psi_differences: dict | None = None

    def as_json(self) -> dict:
        diffs = None if self.differences is None else {str(b): d for b, d in self.differences.items()}
        data = {"format": self.format, "path": self.path, "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "max_abs_difference": diffs, "tolerance": verify.TOLERANCE}
        if self.graph != "generator":
            data["graph"] = self.graph
        if self.psi_differences is not None:
            data["max_abs_difference_by_psi"] = {f"{psi:g}": {str(b): d for b, d in table.items()}
                                                 for psi, table in self.psi_differences.items()}
        return data


def generator_info(meta: dict, directions: dict, G=None, directions_meta: dict | None = None,
                   truncation: float | None = None, cutoff: int | None = None) -> GeneratorInfo:
    """What an export records, from a checkpoint's metadata and ``{name: vector}`` directions.

    ``G`` (the generator) is needed for a generator with a W space: its W facts (``w_avg``, the scale of W,
    num_ws, w_dim) come from gancli.latents, and so does the check of ``truncation`` (the default psi recorded)
    and ``cutoff`` (the layers truncated). ``directions_meta`` is the directions file's metadata: the space of
    each direction (``spaces``; missing means "z") and the attributes and measurements behind their names."""
    spec = meta["spec"]
    num_classes = int(meta["num_classes"])
    z_dim = int(meta["z_dim"])
    names = list(spec.get("class_names", ()))[:num_classes] if num_classes else []
    if num_classes and len(names) != num_classes:  # a checkpoint without names: number the classes
        names = [str(i) for i in range(num_classes)]
    spaces = LatentSpaces(G, z_dim, num_classes) if G is not None else None
    if G is not None:
        check_truncation(G, truncation, cutoff)
    has_w = spaces is not None and spaces.has_w
    directions_meta = directions_meta or {}
    recorded = directions_meta.get("spaces") or {}
    where = {name: recorded.get(name, directions_meta.get("space", "z")) for name in directions}
    vectors = {}
    for name, vector in directions.items():
        space = where[name]
        if space != "z" and not has_w:
            raise GancliError(f"direction {name!r} lives in {space}, but this generator has a Z space only (no "
                              "mapping network); the directions belong to another run")
        shape = (z_dim,) if space == "z" else spaces.shape(space)
        values = floats(vector)
        found = _shape(values)
        if found != shape:
            if space == "z" and len(found) == 1:
                raise GancliError(f"direction {name!r} has {found[0]} components but the generator's latent "
                                  f"size is {z_dim}; the directions belong to another run")
            raise GancliError(f"direction {name!r} of {space} has shape {found} but the generator's {space} "
                              f"latents have shape {shape}; the directions belong to another run")
        vectors[name] = values
    lookup = None
    if directions_meta.get("attributes"):
        records = directions_meta.get("directions") or {}
        lookup = {"attributes": list(directions_meta["attributes"]),
                  "records": {name: {k: records[name][k] for k in ("attribute", "measured") if k in records[name]}
                              for name in vectors if isinstance(records.get(name), dict)}}
    w = {}
    if has_w:
        w = dict(w_dim=int(G.w_dim), num_ws=int(G.num_ws), w_avg=floats(G.w_avg.detach().float().cpu().numpy()),
                 w_scale=float(spaces.scale("w")), truncation=1.0 if truncation is None else float(truncation),
                 truncation_cutoff=cutoff, direction_spaces=where)
    return GeneratorInfo(gancli_version=__version__, architecture=dict(meta["arch"]), z_dim=z_dim,
                         class_names=tuple(names), data_kind=spec["kind"], sample_shape=tuple(spec["shape"]),
                         directions=vectors, step=meta.get("step"), direction_lookup=lookup, **w)


def _shape(values) -> tuple:
    shape = []
    while isinstance(values, list):
        shape.append(len(values))
        values = values[0] if values else None
    return tuple(shape)


def export_generator(target: str, outputs: dict, opset: int | None = None, check: bool = True,
                     directions: str | None = None, registry=None, truncation: float | None = None,
                     cutoff: int | None = None, synthesis_only: bool = False) -> tuple[GeneratorInfo, list]:
    """Export the generator of a run directory or checkpoint file to ``outputs`` ({format: path}).

    ``directions`` is a directions file to embed; by default the run's own directions.safetensors, if any.
    ``truncation``/``cutoff``: the default psi recorded, and the layers truncated, for a generator with a W space.
    ``synthesis_only``: ONNX of the synthesis network alone, and its mapping network beside it (see
    :func:`export_synthesis`).
    """
    from ..engine.directions import directions_beside, load_directions
    from ..engine.models import load_generator

    _check_request(outputs, opset, check)
    if synthesis_only and set(outputs) != {"onnx"}:
        raise GancliError("--synthesis-only writes ONNX only (for torch-free consumers); drop --torchscript and "
                          "--pt2, or export them in a command of their own")
    G, meta = load_generator(target, registry=registry)
    source = directions or directions_beside(target)
    vectors, directions_meta = load_directions(source) if source else ({}, {})
    info = generator_info(meta, vectors, G, directions_meta, truncation, cutoff)
    if synthesis_only:
        return synthesis_info(info, outputs["onnx"]), export_synthesis(G, info, outputs["onnx"], opset, check)
    return info, export_model(G, info, outputs, opset, check)


def export_model(G, info: GeneratorInfo, outputs: dict, opset: int | None = None, check: bool = True) -> list:
    """Export the module ``G`` (``G(z, labels=None)``) described by ``info``; returns one Exported per file.

    Each file is moved into place as soon as it passes (a later format's failure leaves it written)."""
    _check_request(outputs, opset, check)
    _check_info(G, info)
    return _write(G, [[(fmt, path, info)] for fmt, path in outputs.items()], opset, check)


def mapping_path(path: str) -> str:
    """The companion mapping file of a synthesis-only export: g.onnx -> g.mapping.onnx."""
    stem = path[:-len(".onnx")] if path.lower().endswith(".onnx") else path
    return stem + MAPPING_SUFFIX


def export_synthesis(G, info: GeneratorInfo, path: str, opset: int | None = None, check: bool = True) -> list:
    """ONNX of the synthesis network (input ``ws``) at ``path`` and of the mapping network (``z [, label] -> w``)
    beside it (:func:`mapping_path`), named in the synthesis file's metadata. Both are verified before either is
    moved into place; returns [synthesis, mapping]."""
    _check_request({"onnx": path}, opset, check)
    if not info.has_w:
        raise GancliError("--synthesis-only needs a generator with a W space (a mapping network, such as --arch "
                          "stylegan2); this generator has a Z space only: export it without --synthesis-only")
    mapping = dataclasses.replace(info, graph="mapping", directions={}, direction_spaces={}, direction_lookup=None)
    _check_info(G, info)
    return _write(G, [[("onnx", path, synthesis_info(info, path)), ("onnx", mapping_path(path), mapping)]], opset,
                  check)


def synthesis_info(info: GeneratorInfo, path: str) -> GeneratorInfo:
    """What the synthesis file of a synthesis-only export at ``path`` records."""
    return dataclasses.replace(info, graph="synthesis", mapping_file=os.path.basename(mapping_path(path)))


def _check_info(G, info: GeneratorInfo) -> None:
    if LatentSpaces(G, info.z_dim, info.num_classes).has_w != info.has_w:
        raise GancliError("the export's GeneratorInfo does not describe this generator's latent spaces; build it "
                          "with generator_info(meta, directions, G)")


def _write(G, groups: list, opset: int | None, check: bool) -> list:
    """Write, verify and move into place groups of (format, path, info); a group is moved in only when all its
    files pass (a synthesis file never stands without its mapping)."""
    temps = {}
    try:
        for group in groups:  # claim every destination first: a bad path fails before any work
            for fmt, path, _ in group:
                temps[path] = _temporary_beside(path, FORMATS[fmt].SUFFIX)
        written, prepared = [], {}
        for group in groups:
            done = []
            for fmt, path, info in group:
                started = time.perf_counter()
                if info.graph not in prepared:  # one baked module and one torch reference per graph
                    prepared[info.graph] = (exportable(G, info), verify.reference_outputs(G, info) if check else None)
                module, references = prepared[info.graph]
                FORMATS[fmt].write(module, info, temps[path], opset)
                diffs = None
                if check:
                    diffs = verify.differences(FORMATS[fmt].load(temps[path], info), info, references)
                    try:
                        verify.check(fmt, path, diffs, references)
                    except GancliError as exc:
                        others = [p for _, p, _ in group if p != path]
                        raise GancliError(f"{exc}{', nor ' + ', '.join(others) if others else ''}") from None
                done.append(Exported(fmt, path, 0, time.perf_counter() - started,
                                     None if diffs is None else verify.by_batch(diffs), info.graph,
                                     None if diffs is None else verify.by_psi(diffs)))
            for exported in reversed(done):  # a synthesis file's mapping goes into place before it
                os.replace(temps.pop(exported.path), exported.path)
                exported.bytes = os.path.getsize(exported.path)
            written += done
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
