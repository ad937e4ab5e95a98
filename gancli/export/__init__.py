"""Exporting trained generators for deployment: ONNX, TorchScript and the torch.export .pt2 format.

Each export is written to a temporary file beside its destination, checked against torch eager on
fixed inputs (unless asked not to) and only then renamed into place, so a file that exists is a file
that passed. ``export_generator`` is what ``gancli export`` calls; ``export_model`` takes a module.
"""

from .exporter import FORMATS, Exported, export_generator, export_model, generator_info
from .verify import BATCHES, TOLERANCE

__all__ = ["BATCHES", "FORMATS", "TOLERANCE", "Exported", "export_generator", "export_model", "generator_info"]
