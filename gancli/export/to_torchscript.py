"""TorchScript through torch.jit.trace, with gancli metadata in the extra file gancli.json.

torch.jit is deprecated in torch 2.13 and warns on every call; those warnings are silenced here because
the export is checked against eager. Load with ``torch.jit.load(path)`` (which warns the same way).
"""

from __future__ import annotations

import json

from ..errors import GancliError
from ..runtime.metadata import EXTRA_FILE, GeneratorInfo
from .prepare import example_inputs
from .quiet import first_line, quiet
from .verify import check_extra_file, torch_runner

SUFFIX = ".pt"


def write(module, info: GeneratorInfo, path: str, opset: int | None = None) -> None:
    import torch

    try:
        with quiet():
            traced = torch.jit.trace(module, example_inputs(info))
            torch.jit.save(traced, path, _extra_files={EXTRA_FILE: json.dumps(info.as_json())})
    except Exception as exc:
        raise GancliError(f"torch.jit.trace failed on this generator ({first_line(exc)})") from None


def load(path: str, info: GeneratorInfo):
    import torch

    files = {EXTRA_FILE: ""}
    with quiet():
        module = torch.jit.load(path, _extra_files=files)
    check_extra_file(path, files[EXTRA_FILE], info)
    return torch_runner(module)

