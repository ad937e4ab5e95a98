"""An exported generator run by onnxruntime: latents, labels and named directions in numpy."""

from __future__ import annotations

import os

import numpy as np

from ..errors import GancliError, did_you_mean
from .metadata import GeneratorInfo


class OnnxGenerator:
    """``G(z, labels)`` over an ONNX file written by ``gancli export``, with its gancli metadata as ``info``."""

    def __init__(self, path: str, threads: int = 0):
        try:
            import onnxruntime
        except ImportError:
            raise GancliError("running an ONNX generator needs onnxruntime: pip install onnxruntime") from None
        if not os.path.isfile(path):
            raise GancliError(f"{path} does not exist: give an .onnx file written by gancli export")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0 = onnxruntime's choice (one per core)
        try:
            self.session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own error types for unreadable models
            reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            raise GancliError(f"{path} is not a readable ONNX model ({reason})") from None
        self.path = path
        self.info = GeneratorInfo.from_props(self.session.get_modelmeta().custom_metadata_map, path)

    def latents(self, count: int, seed: int) -> np.ndarray:
        """``count`` standard normal latent vectors from numpy's generator (not torch's: draws differ from
        ``gancli sample`` with the same seed)."""
        rng = np.random.default_rng(seed)
        return rng.standard_normal((count, self.info.z_dim), dtype=np.float32)

    def labels(self, count: int, label: int | None = None) -> np.ndarray | None:
        """Class labels for a conditional generator: ``label`` for every sample, or cycling through the classes."""
        k = self.info.num_classes
        if not k:
            if label is not None:
                raise GancliError("--label needs a conditional generator; this one was trained without --conditional")
            return None
        if label is None:
            return np.arange(count, dtype=np.int64) % k
        if not 0 <= label < k:
            raise GancliError(f"--label must be in 0..{k - 1}, got {label}")
        return np.full(count, label, dtype=np.int64)

    def direction(self, name: str) -> np.ndarray:
        """The unit latent direction called ``name``, as recorded in the file."""
        known = self.info.directions
        if not known:
            raise GancliError(f"{self.path} carries no named directions; fit them on the run, then export it again")
        if name not in known:
            raise GancliError(f"unknown direction {name!r}{did_you_mean(name, known)}; "
                              f"this model has: {', '.join(sorted(known))}")
        return np.asarray(known[name], dtype=np.float32)

    def __call__(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        feeds = {"z": np.ascontiguousarray(z, dtype=np.float32)}
        if self.info.num_classes:
            feeds["label"] = np.ascontiguousarray(labels, dtype=np.int64)
        return self.session.run([self.info.output_name], feeds)[0]
