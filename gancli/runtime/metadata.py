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
    gancli.directions     JSON {name: floats}: named unit directions in latent space ({} if none): [z_dim]
                          floats in Z, [w_dim] in W, [num_ws][w_dim] in W+
    gancli.step           training step of the exported weights

Only where the directions file names attributes (so that ``--direction smile`` finds ``smiling@w``, and a bare
attribute the direction that measured best, as ``gancli edit`` does):

    gancli.direction_lookup   JSON {"attributes": [names], "records": {name: {"attribute", "measured"}}}

Only for a generator with a W space (a mapping network: see gancli.latents); a Z-only export has none of these:

    gancli.graph          "generator" (inputs z [, label], psi), "synthesis" (input ws) or "mapping"
                          (inputs z [, label], output w)
    gancli.w_dim          width of w
    gancli.num_ws         number of w the synthesis takes (one per layer: W+)
    gancli.w_avg          JSON [w_dim floats]: the centre of truncation
    gancli.w_scale        standard deviation of w per dimension: W and W+ edits move by strength x w_scale
    gancli.truncation     default psi for consumers (1 = none); a "generator" graph takes psi as an input
    gancli.truncation_cutoff  layers truncated (the first K of W+; null = all): baked into a "generator" graph,
                          the default for numpy truncation of a "synthesis" export
    gancli.direction_spaces   JSON {name: "z" | "w" | "w+"}: the space each direction lives in
    gancli.mapping_file   for a "synthesis" file: the companion mapping network's file name, in the same folder

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
TEXT_KEYS = ("version", "data_kind", "graph", "mapping_file")  # stored as they are; every other value is JSON
GRAPHS = ("generator", "synthesis", "mapping")
W_KEYS = ("graph", "w_dim", "num_ws", "w_avg", "w_scale", "truncation", "truncation_cutoff", "direction_spaces",
          "mapping_file")


def floats(values):
    """A list (or nested lists) of Python floats, from lists or arrays."""
    if isinstance(values, (int, float)) or getattr(values, "ndim", 1) == 0:
        return float(values)
    return [floats(v) for v in values]


@dataclass(frozen=True)
class GeneratorInfo:
    """Everything a consumer needs to feed an exported generator and read what it returns.

    The W fields are None for a generator with a Z space only (and ``graph`` is then "generator")."""

    gancli_version: str
    architecture: dict
    z_dim: int
    class_names: tuple
    data_kind: str
    sample_shape: tuple
    directions: dict = field(default_factory=dict)  # name -> unit direction as (nested) lists of floats
    step: int | None = None
    direction_lookup: dict | None = None
    graph: str = "generator"
    w_dim: int | None = None
    num_ws: int | None = None
    w_avg: list | None = None
    w_scale: float | None = None
    truncation: float | None = None
    truncation_cutoff: int | None = None
    direction_spaces: dict | None = None
    mapping_file: str | None = None

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def has_w(self) -> bool:
        return self.w_dim is not None

    @property
    def value_range(self):
        return [-1, 1] if self.data_kind == "image" else None

    @property
    def input_names(self) -> list:
        if self.graph == "synthesis":
            return ["ws"]
        names = ["z", "label"] if self.num_classes else ["z"]
        return names + ["psi"] if self.graph == "generator" and self.has_w else names

    @property
    def output_name(self) -> str:
        return "w" if self.graph == "mapping" else OUTPUT_NAMES[self.data_kind]

    def space_of(self, name: str) -> str:
        """The latent space the direction ``name`` lives in."""
        return (self.direction_spaces or {}).get(name, "z")

    def as_json(self) -> dict:
        data = {"version": self.gancli_version, "architecture": self.architecture, "z_dim": self.z_dim,
                "num_classes": self.num_classes, "class_names": list(self.class_names),
                "data_kind": self.data_kind, "sample_shape": list(self.sample_shape),
                "value_range": self.value_range, "directions": self.directions, "step": self.step}
        if self.direction_lookup is not None:
            data["direction_lookup"] = self.direction_lookup
        if self.has_w:
            data.update({key: getattr(self, key) for key in W_KEYS})
            if data["mapping_file"] is None:
                del data["mapping_file"]
        return data

    def to_props(self) -> dict:
        """String -> string pairs for ONNX metadata_props."""
        return {PREFIX + key: str(value) if key in TEXT_KEYS else json.dumps(value)
                for key, value in self.as_json().items()}

    @classmethod
    def from_json(cls, data: dict, source: str) -> "GeneratorInfo":
        try:
            w = {}
            if data.get("w_dim") is not None:
                cutoff = data.get("truncation_cutoff")
                w = dict(graph=str(data["graph"]), w_dim=int(data["w_dim"]), num_ws=int(data["num_ws"]),
                         w_avg=floats(data["w_avg"]), w_scale=float(data["w_scale"]),
                         truncation=float(data["truncation"]),
                         truncation_cutoff=None if cutoff is None else int(cutoff),
                         direction_spaces={str(k): str(v) for k, v in data.get("direction_spaces", {}).items()},
                         mapping_file=data.get("mapping_file"))
            info = cls(gancli_version=str(data["version"]), architecture=dict(data["architecture"]),
                       z_dim=int(data["z_dim"]), class_names=tuple(data["class_names"]),
                       data_kind=str(data["data_kind"]), sample_shape=tuple(int(s) for s in data["sample_shape"]),
                       directions={str(k): floats(v) for k, v in data.get("directions", {}).items()},
                       step=data.get("step"), direction_lookup=data.get("direction_lookup"), **w)
        except KeyError as exc:
            raise GancliError(f"{source} lacks gancli metadata {PREFIX}{exc.args[0]}; "
                              "export it again with gancli export") from None
        except (TypeError, ValueError) as exc:
            raise GancliError(f"{source} has damaged gancli metadata ({exc})") from None
        if info.data_kind not in OUTPUT_NAMES:
            raise GancliError(f"{source} holds data kind {info.data_kind!r}, which this gancli cannot draw; "
                              "upgrade gancli")
        if info.graph not in GRAPHS:
            raise GancliError(f"{source} holds a {info.graph!r} network, which this gancli cannot run; upgrade gancli")
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
