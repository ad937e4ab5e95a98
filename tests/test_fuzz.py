"""Seeded fuzzing of everything gancli reads from disk: checkpoints, image folders, config files.

Every input must give a result or a GancliError of one line; any other exception fails the test. The counts of
inputs tried are printed (pytest -s shows them) and asserted, so the loops cannot silently shrink.
"""

import io
import json
import pickle
import random
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from gancli.data.folder import load_folder
from gancli.engine import checkpoint
from gancli.engine.config import FIELDS, build_config, config_from_toml
from gancli.engine.models import load_generator
from gancli.engine.plan import make_plan
from gancli.errors import GancliError
from gancli.plugins import get_registry
from helpers import TINY, run

ODD_VALUES = [None, True, -1, 0, 2 ** 70, 1e308, -1e-308, "", "x" * 300, "dcgan", [], [1, "a"], {}, {"a": {}},
              [2 ** 40, 2 ** 40, 2 ** 40], [0, 0, 0], [1, 16, 16, 16, 16]]
DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2", "U64", "XX"]


class Tally:
    def __init__(self):
        self.tried = self.refused = 0

    def attempt(self, action, *args):
        """Run ``action``; a GancliError must be one line; anything else but success fails the test."""
        self.tried += 1
        try:
            action(*args)
        except GancliError as exc:
            assert "\\n" not in str(exc) and str(exc), repr(exc)
            self.refused += 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz") / "run"
    assert run("train", "--steps", 2, "--out", out, *TINY).exit_code == 0
    training = sorted((out / "checkpoints").iterdir())[-1]
    return (out / "generator.safetensors").read_bytes(), training.read_bytes()


def split(blob: bytes):
    n = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def join(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def generator_inputs(blob: bytes, rng: random.Random):
    """Damaged variants of a generator file: bytes, lengths, header sizes, header fields, metadata, tensors."""
    header, data = split(blob)
    names = [k for k in header if k != "__metadata__"]
    for _ in range(200):  # random bytes
        yield bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 7, 8, 9, 64, 500, 3000])))
    for _ in range(200):  # cut short anywhere
        yield blob[:rng.randrange(len(blob))]
    for _ in range(200):  # a few bytes flipped anywhere
        damaged = bytearray(blob)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] ^= 1 << rng.randrange(8)
        yield bytes(damaged)
    for size in [0, 1, 2, 7, 2 ** 16, 2 ** 31, 2 ** 32 - 1, 2 ** 40, 2 ** 63, 2 ** 64 - 1, len(blob), len(blob) - 8]:
        yield struct.pack("<Q", size) + blob[8:]  # absurd header sizes
    for _ in range(120):  # one tensor's dtype, shape or offsets changed in the header
        changed = json.loads(json.dumps(header))
        entry = changed[rng.choice(names)]
        what = rng.choice(["dtype", "shape", "offsets", "both"])
        if what in ("dtype", "both"):
            entry["dtype"] = rng.choice(DTYPES)
        if what in ("shape", "both"):
            entry["shape"] = rng.choice([[], [0], [1], [2 ** 62], [3, 3], entry["shape"][::-1], entry["shape"] + [1],
                                         [-1], ["a"]])
        if what == "offsets":
            entry["data_offsets"] = rng.choice([[0, 0], [5, 2], [0, 2 ** 60], [-1, 3], [0], "x",
                                                [entry["data_offsets"][0], entry["data_offsets"][1] + 4]])
        yield join(changed, data)
    meta = json.loads(header["__metadata__"]["gancli"])
    paths = [("z_dim",), ("num_classes",), ("spec",), ("spec", "shape"), ("spec", "kind"), ("spec", "class_names"),
             ("arch",), ("arch", "name"), ("arch", "options"), ("arch", "options", "width"), ("format",), ("kind",)]
    for path in paths:  # the metadata's fields given odd values
        for value in ODD_VALUES:
            changed_meta = json.loads(json.dumps(meta))
            target = changed_meta
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            changed = {**header, "__metadata__": {"gancli": json.dumps(changed_meta)}}
            yield join(changed, data)
    for raw in ["", "{", "[]", "null", "1", '"x"', "[" * 5000 + "]" * 5000]:  # metadata that is not an object
        yield join({**header, "__metadata__": {"gancli": raw}}, data)
    yield join({**header, "__metadata__": {"other": "x"}}, data)
    yield join({**header, "__metadata__": "x"}, data)


def tensor_inputs(blob: bytes):
    """Files written by safetensors itself whose tensors are missing, extra, misshaped or of the wrong dtype."""
    from safetensors.torch import load, save

    header, _ = split(blob)
    meta = header["__metadata__"]
    tensors = load(blob)
    first = sorted(tensors)[0]
    for change in ("drop", "extra", "half", "double", "int", "bool", "shape", "scalar", "empty"):
        altered = dict(tensors)
        if change == "drop":
            altered.pop(first)
        elif change == "extra":
            altered["G.nonsense"] = torch.zeros(3)
        elif change == "half":
            altered[first] = altered[first].half()
        elif change == "double":
            altered = {k: v.double() for k, v in altered.items()}
        elif change == "int":
            altered[first] = altered[first].long()
        elif change == "bool":
            altered[first] = altered[first] > 0
        elif change == "shape":
            altered[first] = altered[first].reshape(-1)[:-1].clone() if altered[first].numel() > 1 else torch.zeros(5)
        elif change == "scalar":
            altered[first] = torch.tensor(1.0)
        else:
            altered = {}
        yield save(altered, metadata=meta)


def pickles(tmp_path):
    """Pickles renamed .safetensors: torch.save's zip, a plain pickle, and one that would run a command."""
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            import os

            return os.system, (f"touch {marker}",)

    buffer = io.BytesIO()
    torch.save({"G.weight": torch.zeros(3)}, buffer)
    return [buffer.getvalue(), pickle.dumps({"G.weight": np.zeros(3)}), pickle.dumps(Payload()),
            pickle.dumps(Payload(), protocol=0)], marker


def test_checkpoint_loader_fuzz(tmp_path, trained, capsys):
    generator_blob, training_blob = trained
    rng = random.Random(1234)
    tally, path = Tally(), tmp_path / "f.safetensors"

    def load_both(blob):
        path.write_bytes(blob)
        try:
            load_generator(str(path))
        finally:
            checkpoint.load(str(path))

    for blob in generator_inputs(generator_blob, rng):
        tally.attempt(load_both, blob)
    for blob in tensor_inputs(generator_blob):
        tally.attempt(load_both, blob)
    flips = 0
    for _ in range(60):  # a training checkpoint damaged in place: the checksum must catch every change
        damaged = bytearray(training_blob)
        damaged[rng.randrange(len(damaged) - 4096, len(damaged))] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(damaged))
        before = tally.refused
        tally.attempt(checkpoint.load, str(path))
        flips += tally.refused > before
    assert flips == 60
    blobs, marker = pickles(tmp_path)
    for blob in blobs:
        before = tally.refused
        tally.attempt(load_both, blob)
        assert tally.refused == before + 1  # refused, never unpickled
    assert not marker.exists()
    tally.attempt(load_generator, str(tmp_path))  # a folder that is not a run
    with capsys.disabled():
        print(f"\ncheckpoint fuzz: {tally.tried} inputs tried, {tally.refused} refused with a one-line error")
    assert tally.tried >= 1000 and tally.refused >= 0.8 * tally.tried


def image_bytes(kind: str, rng: random.Random) -> bytes:
    side = rng.choice([1, 3, 16, 40])
    pixels = np.array([[rng.getrandbits(8) for _ in range(side)] for _ in range(side)], dtype=np.uint8)
    buffer = io.BytesIO()
    if kind == "png16":
        Image.fromarray(pixels.astype(np.uint16) * 257).save(buffer, "PNG")
    elif kind == "palette":
        Image.fromarray(pixels).convert("P").save(buffer, "PNG")
    elif kind == "jpeg":
        Image.fromarray(np.stack([pixels] * 3, axis=-1)).save(buffer, "JPEG")
    elif kind == "rgba":
        Image.fromarray(np.stack([pixels] * 4, axis=-1), "RGBA").save(buffer, "PNG")
    else:
        Image.fromarray(pixels).save(buffer, "BMP" if kind == "bmp" else "PNG")
    return buffer.getvalue()


def test_image_folder_fuzz(tmp_path, capsys):
    rng = random.Random(99)
    tally = Tally()
    counted = 0
    for i in range(150):
        folder = tmp_path / f"f{i}"
        folder.mkdir()
        (folder / "good.png").write_bytes(image_bytes("png", rng))
        kind = rng.choice(["png", "png16", "palette", "jpeg", "rgba", "bmp"])
        blob = bytearray(image_bytes(kind, rng))
        how = rng.choice(["cut", "flip", "random", "whole"])
        if how == "cut":
            blob = blob[:rng.randrange(len(blob))]
        elif how == "flip":
            for _ in range(rng.randint(1, 20)):
                blob[rng.randrange(len(blob))] = rng.getrandbits(8)
        elif how == "random":
            blob = bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 400)))
        suffix = {"jpeg": ".jpg", "bmp": ".bmp"}.get(kind, ".png")
        (folder / f"fuzzed{suffix}").write_bytes(bytes(blob))

        def load(folder=folder):
            nonlocal counted
            bundle = load_folder(str(folder), size=8, channels=0)
            assert bundle.x.shape[1:] == (bundle.x.shape[1], 8, 8) and torch.isfinite(bundle.x).all()
            assert bundle.x.min() >= -1 and bundle.x.max() <= 1
            if len(bundle.x) == 1:  # the fuzzed file was skipped: it must be counted in a note
                assert any("skipped 1 unreadable file" in note for note in bundle.notes)
                counted += 1

        tally.attempt(load)
    with capsys.disabled():
        print(f"\nimage folder fuzz: {tally.tried} folders tried, {counted} fuzzed files skipped and counted")
    assert tally.tried == 150 and counted > 20


def test_config_file_fuzz(tmp_path, capsys):
    rng = random.Random(7)
    registry = get_registry()
    tally = Tally()
    toml_values = ['1', '-5', '0', '1.5', 'nan', 'inf', 'true', '"x"', '"dcgan"', '[]', '["gp", "sn"]', '[1, 2]',
                   '{}', '{ a = 1 }', '1979-05-27', '"none"', '["none"]', '2e9']
    for i in range(400):
        lines = []
        for _ in range(rng.randint(1, 3)):
            key = rng.choice(list(FIELDS) + ["unknown_key", "lr-decay", "arch-opt"])
            lines.append(f"{key.replace('_', rng.choice(['_', '-']))} = {rng.choice(toml_values)}")
        if i % 50 == 0:
            lines.append("this is = = not toml")
        file = tmp_path / f"c{i}.toml"
        file.write_text("\n".join(lines) + "\n")

        def resolve(file=file):
            config = build_config({**config_from_toml(str(file)), "steps": 0})
            make_plan(config, registry)

        tally.attempt(resolve)
    with capsys.disabled():
        print(f"\nconfig fuzz: {tally.tried} files tried, {tally.refused} refused with a one-line error")
    assert tally.tried == 400 and tally.refused > 200
