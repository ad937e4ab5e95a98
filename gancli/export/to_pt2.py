"""The torch.export format (.pt2): torch.export.export with a dynamic batch, then torch.export.save.

gancli metadata travels in the extra file gancli.json. Load with
``torch.export.load(path).module()`` (a module without ``.eval()``; it is already in inference form).
"""

from __future__ import annotations

import json

from ..errors import GancliError
from ..runtime.metadata import EXTRA_FILE, GeneratorInfo
from .prepare import dynamic_batch, example_inputs
from .quiet import first_line, quiet
from .verify import check_extra_file, torch_runner

SUFFIX = ".pt2"


def write(module, info: GeneratorInfo, path: str, opset: int | None = None) -> None:
    import torch

    try:
        with quiet():
            program = torch.export.export(module, example_inputs(info), dynamic_shapes=dynamic_batch(info))
            torch.export.save(program, path, extra_files={EXTRA_FILE: json.dumps(info.as_json())})
    except Exception as exc:
        raise GancliError(f"torch.export failed on this generator ({first_line(exc)})") from None


def load(path: str, info: GeneratorInfo):
    import torch

    files = {EXTRA_FILE: ""}
    with quiet():
        module = torch.export.load(path, extra_files=files).module()
    check_extra_file(path, files[EXTRA_FILE], info)
    return torch_runner(module)
