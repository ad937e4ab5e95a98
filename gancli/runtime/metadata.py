"""The gancli metadata an exported generator carries, as one definition shared by writer and reader.

ONNX files hold it as ``metadata_props`` (string keys and values; structured values are JSON):

    gancli.version        gancli version that exported the model
    gancli.architecture   JSON {"name", "options", "plugin", "distribution", "version"} of the architecture
    gancli.z_dim          latent size: the width of input ``z``
    gancli.num_classes    0 for an unconditional generator; else input ``label`` takes 0..num_classes-1
    gancli.class_names    JSON list of the class names (empty when unconditional)
    gancli.data_kind      "image" or "points"
    gancli.sample_shape   JSON shape of one sample: [C, H, W] for images, [2] for points
    gancli.value_range    JSON [-1, 1] for images, null for points (unbounded)
    gancli.directions     JSON {name: [z_dim floats]}: named unit directions in latent space ({} if none)
    gancli.step           training step of the exported weights

TorchScript and .pt2 files carry the same information as one JSON object (``as_json``) in an extra file
named ``gancli.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import GancliError

PREFIX = "gancli."
EXTRA_FILE = "gancli.json"
OUTPUT_NAMES = {"image": "image", "points": "points"}
TEXT_KEYS = ("version", "data_kind")  # stored as they are; every other value is JSON


@dataclass(frozen=True)
class GeneratorInfo:
    """Everything a consumer needs to feed an exported generator and read what it returns."""

    gancli_version: str
    architecture: dict
    z_dim: int
    class_names: tuple
    data_kind: str
    sample_shape: tuple
    directions: dict = field(default_factory=dict)  # name -> list of z_dim floats, unit norm
    step: int | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def value_range(self):
        return [-1, 1] if self.data_kind == "image" else None

    @property
    def input_names(self) -> list:
        return ["z", "label"] if self.num_classes else ["z"]

    @property
    def output_name(self) -> str:
        return OUTPUT_NAMES[self.data_kind]

    def as_json(self) -> dict:
        return {"version": self.gancli_version, "architecture": self.architecture, "z_dim": self.z_dim,
                "num_classes": self.num_classes, "class_names": list(self.class_names),
                "data_kind": self.data_kind, "sample_shape": list(self.sample_shape),
                "value_range": self.value_range, "directions": self.directions, "step": self.step}

    def to_props(self) -> dict:
        """String -> string pairs for ONNX metadata_props."""
        return {PREFIX + key: str(value) if key in TEXT_KEYS else json.dumps(value)
                for key, value in self.as_json().items()}

    @classmethod
    def from_json(cls, data: dict, source: str) -> "GeneratorInfo":
        try:
            info = cls(gancli_version=str(data["version"]), architecture=dict(data["architecture"]),
                       z_dim=int(data["z_dim"]), class_names=tuple(data["class_names"]),
                       data_kind=str(data["data_kind"]), sample_shape=tuple(int(s) for s in data["sample_shape"]),
                       directions={str(k): [float(x) for x in v] for k, v in data.get("directions", {}).items()},
                       step=data.get("step"))
        except KeyError as exc:
            raise GancliError(f"{source} lacks gancli metadata {PREFIX}{exc.args[0]}; "
                              "export it again with gancli export") from None
        except (TypeError, ValueError) as exc:
            raise GancliError(f"{source} has damaged gancli metadata ({exc})") from None
        if info.data_kind not in OUTPUT_NAMES:
            raise GancliError(f"{source} holds data kind {info.data_kind!r}, which this gancli cannot draw; "
                              "upgrade gancli")
        if int(data.get("num_classes", info.num_classes)) != info.num_classes:
            raise GancliError(f"{source} has damaged gancli metadata (num_classes does not match class_names)")
        return info

    @classmethod
    def from_props(cls, props: dict, source: str) -> "GeneratorInfo":
        """Read ONNX metadata_props back; a file not exported by gancli gets one clear line."""
        if not any(key.startswith(PREFIX) for key in props):
            raise GancliError(f"{source} carries no gancli metadata; it was not exported by gancli export")
        data = {}
        for key, raw in props.items():
            if key.startswith(PREFIX):
                name = key[len(PREFIX):]
                try:
                    data[name] = raw if name in TEXT_KEYS else json.loads(raw)
                except json.JSONDecodeError:
                    raise GancliError(f"{source} has damaged gancli metadata ({key} is not JSON)") from None
        return cls.from_json(data, source)
