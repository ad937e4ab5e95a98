"""An exported generator run by onnxruntime: latents, labels, truncation and named directions in numpy.

A Z-only export is one graph ``z [, label] -> image``. A generator with a W space exports either one graph
``z [, label], psi -> image`` (truncation inside, Z directions only) or, with ``--synthesis-only``, the synthesis
network ``ws -> image`` plus its mapping network ``z [, label] -> w`` in a companion file; then truncation
(``w_avg + psi (w - w_avg)`` on the first ``cutoff`` layers) and W/W+ directions are applied here, in numpy.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import GancliError, did_you_mean
from ..latents import TRUNCATION_RANGE
from .metadata import GeneratorInfo

SYNTHESIS_HINT = "gancli export RUN --onnx OUT.onnx --synthesis-only"


class OnnxModel:
    """One ONNX file written by ``gancli export``: its session, its gancli metadata as ``info``, and
    ``run(*inputs)`` taking the inputs ``info.input_names`` lists, in order (None values are left out: labels of
    an unconditional generator, psi of a Z-only one)."""

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
        self.path, self.threads = path, threads
        self.info = GeneratorInfo.from_props(self.session.get_modelmeta().custom_metadata_map, path)

    def run(self, *inputs) -> np.ndarray:
        dtypes = {"z": np.float32, "label": np.int64, "psi": np.float32, "ws": np.float32}
        values = [x for x in inputs if x is not None]
        if len(values) != len(self.info.input_names):
            raise GancliError(f"{self.path} takes {', '.join(self.info.input_names)}; got {len(values)} inputs")
        feeds = {name: np.ascontiguousarray(value, dtype=dtypes[name])
                 for name, value in zip(self.info.input_names, values)}
        return self.session.run([self.info.output_name], feeds)[0]


class OnnxGenerator(OnnxModel):
    """``G(z, labels)`` over an ONNX file written by ``gancli export``, with its gancli metadata as ``info``.

    For a synthesis-only export, ``G(z, labels)`` maps z through the companion mapping file, truncates and
    synthesises; :meth:`draw` also takes latents of W or W+ and moves them along W and W+ directions."""

    def __init__(self, path: str, threads: int = 0):
        super().__init__(path, threads)
        if self.info.graph == "mapping":
            raise GancliError(f"{path} is the mapping network of a synthesis-only export: give the synthesis file "
                              "beside it (its gancli.mapping_file names this file)")
        self._mapping = None

    # ---- what the file takes -------------------------------------------------------------------------
    @property
    def spaces(self) -> tuple:
        """The latent spaces this file can draw from: ("z",), or ("z", "w", "w+") for a synthesis export."""
        return ("z", "w", "w+") if self.info.graph == "synthesis" else ("z",)

    def shape(self, space: str) -> tuple:
        info = self.info
        return {"z": (info.z_dim,), "w": (info.w_dim,), "w+": (info.num_ws, info.w_dim)}[space]

    def scale(self, space: str) -> float:
        """The latent's standard deviation per dimension: what a strength of 1 moves (1 in Z)."""
        return 1.0 if space == "z" else float(self.info.w_scale)

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

    def direction_name(self, name: str) -> str:
        """The stored name ``name`` means: itself, or through the attribute aliases and measured records the
        export carries (``smile`` -> ``smiling@w``), as ``gancli edit`` resolves it."""
        known = self.info.directions
        if not known:
            raise GancliError(f"{self.path} carries no named directions; fit them on the run, then export it again")
        if name in known:
            return name
        lookup = self.info.direction_lookup or {}
        if lookup.get("attributes"):
            from ..directions.names import resolve_direction  # plain Python: no torch

            try:
                return resolve_direction(name, known, lookup["attributes"], lookup.get("records", {}))
            except GancliError:
                pass
        raise GancliError(f"unknown direction {name!r}{did_you_mean(name, known)}; "
                          f"this model has: {', '.join(sorted(known))}")

    def direction(self, name: str) -> np.ndarray:
        """The unit latent direction called ``name`` (of its space's shape), as recorded in the file."""
        return np.asarray(self.info.directions[self.direction_name(name)], dtype=np.float32)

    # ---- truncation ----------------------------------------------------------------------------------
    def check_truncation(self, truncation: float | None, cutoff: int | None = None) -> None:
        """One line for a psi outside [-1, 2], a cutoff out of range, either on a Z-only export, or a cutoff
        other than the one baked into a full export (the checks of gancli.latents.check_truncation)."""
        if truncation is None and cutoff is None:
            return
        info = self.info
        if not info.has_w:
            raise GancliError(f"truncation needs a generator with a W space (a mapping network, such as --arch "
                              f"stylegan2); {self.path} was exported from a generator with a Z space only: "
                              "drop --truncation")
        low, high = TRUNCATION_RANGE
        if truncation is not None and not low <= truncation <= high:
            raise GancliError(f"--truncation must be in [{low:g}, {high:g}] (1 = none, 0.7 is common), "
                              f"got {truncation:g}")
        if cutoff is not None and not 1 <= cutoff <= info.num_ws:
            raise GancliError(f"--truncation-cutoff must be a layer count in 1..{info.num_ws}, got {cutoff}")
        if cutoff is not None and info.graph == "generator" and cutoff != info.truncation_cutoff:
            baked = "all layers" if info.truncation_cutoff is None else f"the first {info.truncation_cutoff} layers"
            raise GancliError(f"{self.path} truncates {baked} (the cutoff is baked into its graph): export again "
                              f"with --truncation-cutoff {cutoff}, or make a synthesis-only export ({SYNTHESIS_HINT})")

    def truncate(self, latents: np.ndarray, truncation: float | None, cutoff: int | None = None) -> np.ndarray:
        """``w_avg + psi (w - w_avg)`` for W (N, w_dim) or W+ (N, num_ws, w_dim) latents; with ``cutoff``, on
        the first ``cutoff`` layers of W+ only."""
        if truncation is None or truncation == 1:
            return latents
        w_avg = np.asarray(self.info.w_avg, dtype=np.float32)
        truncated = w_avg + np.float32(truncation) * (latents - w_avg)
        if cutoff is None or latents.ndim == 2:
            return truncated
        out = latents.copy()
        out[:, :cutoff] = truncated[:, :cutoff]
        return out

    # ---- networks ------------------------------------------------------------------------------------
    def map(self, z: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """w (N, w_dim) for z, through the companion mapping network of a synthesis-only export."""
        if self.info.graph != "synthesis":
            raise GancliError(f"{self.path} holds no separate mapping network; export one with {SYNTHESIS_HINT}")
        if self._mapping is None:
            path = os.path.join(os.path.dirname(os.path.abspath(self.path)), self.info.mapping_file)
            if not os.path.isfile(path):
                raise GancliError(f"{self.path} needs its mapping network {self.info.mapping_file} in the same "
                                  f"folder, and it is missing: export again with {SYNTHESIS_HINT}")
            self._mapping = OnnxModel(path, self.threads)
            if self._mapping.info.graph != "mapping" or self._mapping.info.w_avg != self.info.w_avg:
                raise GancliError(f"{path} is not the mapping network of {self.path}: export them again together "
                                  f"with {SYNTHESIS_HINT}")
        return self._mapping.run(z, labels)

    def synthesize(self, ws: np.ndarray) -> np.ndarray:
        """Images for W+ latents (N, num_ws, w_dim), from a synthesis-only export."""
        if self.info.graph != "synthesis":
            raise GancliError(f"{self.path} takes z, not ws; export the synthesis network with {SYNTHESIS_HINT}")
        return self.run(ws)

    def __call__(self, z: np.ndarray, labels: np.ndarray | None = None, truncation: float | None = None,
                 cutoff: int | None = None) -> np.ndarray:
        """Images for z; on an export with a W space, truncated at ``truncation`` (default: the export's)."""
        return self.draw(z, "z", labels, truncation, cutoff)

    # ---- the whole way from latents to images --------------------------------------------------------
    def draw(self, latents: np.ndarray, space: str = "z", labels: np.ndarray | None = None,
             truncation: float | None = None, cutoff: int | None = None, direction: str | None = None,
             strength: float = 1.0) -> np.ndarray:
        """Images for latents of ``space``, moved ``strength`` x scale along ``direction`` (if given).

        Truncation (default: the export's psi and cutoff) applies on the way from z into W; latents given in W
        or W+ are truncated only when ``truncation`` is given. A Z direction moves z; a W or W+ direction moves
        the truncated W+ latents (a W direction every layer alike), as ``gancli edit`` does."""
        info = self.info
        self.check_truncation(truncation, cutoff)
        if space not in self.spaces:
            raise GancliError(f"{self.path} takes z, not {space} latents: feed W latents to a synthesis-only "
                              f"export ({SYNTHESIS_HINT})" if info.has_w else
                              f"{self.path} was exported from a generator with a Z space only; give z latents")
        step, where = None, "z"
        if direction is not None:
            name = self.direction_name(direction)
            where = info.space_of(name)
            if where not in self.spaces:
                raise GancliError(f"direction {name!r} lives in {where}, and {self.path} takes z only, so it cannot "
                                  f"move w: export the synthesis network for it ({SYNTHESIS_HINT})")
            if where == "z" and space != "z":
                raise GancliError(f"direction {name!r} lives in z and cannot move {space} latents (the mapping has "
                                  "no inverse): give z latents or a direction of W")
            step = np.float32(strength * self.scale(where)) * self.direction(name)
        if space == "z" and where == "z" and step is not None:
            latents = latents + step
        if info.graph != "synthesis":
            psi = (info.truncation if truncation is None else truncation) if info.has_w else None
            return self.run(latents, labels, psi)
        if space == "z":
            truncation = info.truncation if truncation is None else truncation
            latents, space = self.map(latents, labels), "w"
        cutoff = info.truncation_cutoff if cutoff is None else cutoff
        ws = latents if space == "w+" else np.repeat(latents[:, None], info.num_ws, axis=1)
        ws = self.truncate(ws, truncation, cutoff)
        if step is not None and where != "z":
            ws = ws + step
        return self.synthesize(np.ascontiguousarray(ws, dtype=np.float32))
