"""ONNX through the torch.export-based exporter: one self-contained file, dynamic batch, gancli metadata.

The exporter folds BatchNorm into a preceding convolution or linear layer (eval mode) and writes opset
20 unless asked otherwise. Inputs are ``z`` (float32, (batch, z_dim)) and, for conditional generators,
``label`` (int64, (batch,)); the output is ``image`` ((batch, C, H, W) in [-1, 1]) or ``points``.
A generator with a W space also takes ``psi`` (float32, shape (): the truncation); its synthesis-only graph
takes ``ws`` (float32, (batch, num_ws, w_dim)), and its mapping graph returns ``w`` (float32, (batch, w_dim)).
"""

from __future__ import annotations

import importlib

from ..errors import GancliError
from ..runtime.metadata import GeneratorInfo
from .prepare import dynamic_batch, example_inputs
from .quiet import first_line, quiet

SUFFIX = ".onnx"
SINGLE_FILE_LIMIT = 2**31 - 2**24  # protobuf cannot hold a message of 2 GiB; keep room for the graph


def check_installed() -> None:
    for name in ("onnx", "onnxscript"):
        try:
            importlib.import_module(name)
        except ImportError:
            raise GancliError(f"ONNX export needs the onnx and onnxscript packages ({name} is missing): "
                              "pip install onnx onnxscript") from None


def check_runtime() -> None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise GancliError("verifying an ONNX export needs onnxruntime: pip install onnxruntime, "
                          "or pass --no-verify") from None


def check_opset(opset: int | None) -> None:
    if opset is None:
        return
    import onnx

    newest = onnx.defs.onnx_opset_version()
    if not 1 <= opset <= newest:
        raise GancliError(f"--opset must be between 1 and {newest} (the newest this onnx knows), got {opset}")


def write(module, info: GeneratorInfo, path: str, opset: int | None = None) -> None:
    import torch

    size = sum(t.numel() * t.element_size() for t in module.state_dict().values())
    if size > SINGLE_FILE_LIMIT:
        raise GancliError(f"the generator's weights take {size / 2**30:.1f} GiB, more than one ONNX file can "
                          "hold; export it with --pt2 instead")
    try:
        with quiet():
            program = torch.onnx.export(module, example_inputs(info), dynamo=True, verbose=False,
                                        dynamic_shapes=dynamic_batch(info), input_names=info.input_names,
                                        output_names=[info.output_name], opset_version=opset)
    except Exception as exc:  # the exporter raises many types; the user needs the first line
        raise GancliError(f"the ONNX exporter failed on this generator ({first_line(exc)}); "
                          "--torchscript or --pt2 may still work") from None
    fixed = [value.name for value in program.model.graph.inputs
             if value.name != "psi" and value.shape is not None and isinstance(value.shape[0], int)]
    if fixed:  # the exporter falls back to the example's batch when the generator's code fixes it
        raise GancliError(f"the ONNX graph came out with a fixed batch size for input {fixed[0]}: the generator's "
                          "forward turns the batch size into a Python int (len(x), int(x.shape[0]), ...); use "
                          "x.shape[0] or view(-1, ...) there")
    produced = program.model.opset_imports.get("")
    if opset is not None and produced != opset:
        # the exporter falls back to its own opset, with a log line only, when it cannot convert
        raise GancliError(f"the ONNX exporter cannot produce opset {opset} for this generator "
                          f"(it made opset {produced}); try --opset 18 or newer")
    program.model.metadata_props.update(info.to_props())
    what = "generator" if info.graph == "generator" else f"{info.graph} network"
    program.model.doc_string = (f"gancli {info.architecture.get('name')} {what}: z_dim {info.z_dim}, "
                                f"{info.num_classes} classes, {info.data_kind} {list(info.sample_shape)}")
    program.save(path, external_data=False)


def load(path: str, info: GeneratorInfo):
    """``run(*inputs) -> numpy`` (the inputs ``info.input_names`` lists) through onnxruntime, reading the file
    as a consumer would."""
    from ..runtime.onnx_generator import OnnxModel

    model = OnnxModel(path)
    if model.info != info:
        raise GancliError(f"the gancli metadata read back from {path} differs from what was written")
    return model.run

