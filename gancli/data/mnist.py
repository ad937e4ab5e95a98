"""MNIST from its IDX files (also Fashion-MNIST and the other drop-in look-alikes): 28x28 greys, classes 0-9.

The one IDX reader of gancli: datasets in MNIST's layout (gancli.data.fashion_mnist) call ``load_mnist`` with
their own name, class names and how-to-get-it hint, so every look-alike checks its files the same way.
"""

import gzip
import math
import zlib
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..components import DataBundle, DataSpec
from ..errors import GancliError, did_you_mean

# IDX magic numbers: 0x00, 0x00, data type (0x08 = uint8), number of dimensions.
MAGIC = {"images": 0x00000803, "labels": 0x00000801}
SPLIT_PREFIXES = {"train": ("train",), "test": ("t10k",), "all": ("train", "t10k")}


MISSING_HINT = "put the IDX files there or pass the path of one images file"


def load_mnist(path: str, split: str, size: int, *, name: str = "MNIST", class_names: tuple = (),
               missing_hint: str = MISSING_HINT) -> DataBundle:
    """MNIST as (N, 1, size, size) in [-1, 1], from a folder of IDX files or from one images file.

    A folder needs ``{train,t10k}-{images-idx3,labels-idx1}-ubyte`` (``.gz`` or not, or the dotted
    ``train-images.idx3-ubyte`` names) for ``split`` train, test or all. A file is read whatever
    ``split`` says, with the labels file beside it when there is one.

    A look-alike passes its ``name`` (for messages), its ``class_names`` (labels must then lie among them;
    empty: 0, 1, ... as many as the labels need, at least 10) and the ``missing_hint`` said when files are missing.
    """
    if split not in SPLIT_PREFIXES:
        raise GancliError(f'unknown {name} split "{split}"{did_you_mean(split, SPLIT_PREFIXES)}; '
                          f"use train, test or all")
    if size < 1:
        raise GancliError(f"image size must be at least 1, not {size}")
    root = Path(path).expanduser()
    if root.is_dir():
        pairs = [_split_files(root, prefix, name, missing_hint) for prefix in SPLIT_PREFIXES[split]]
    elif root.is_file():
        pairs = [(root, _labels_beside(root))]
    else:
        raise GancliError(f"{name} path {path} does not exist; pass the folder holding train-images-idx3-ubyte "
                          f"and the other IDX files, or the path of one images file")

    parts = [_read_pair(images, labels, size, name) for images, labels in pairs]
    x = torch.cat([part_x for part_x, _ in parts])
    if pairs[0][1] is None:
        return DataBundle(x=x, spec=DataSpec(kind="image", shape=(1, size, size)))
    labels = torch.cat([part_labels for _, part_labels in parts])
    top = int(labels.max()) if len(labels) else 0
    if class_names and top >= len(class_names):
        raise GancliError(f"{pairs[0][1]} has label {top}, but {name} has {len(class_names)} classes "
                          f"(0-{len(class_names) - 1}); pass {name}'s own labels files")
    names = tuple(class_names) or tuple(str(i) for i in range(max(10, top + 1)))  # look-alikes may have more
    spec = DataSpec(kind="image", shape=(1, size, size), class_names=names)
    return DataBundle(x=x, spec=spec, labels=labels)


def _split_files(root: Path, prefix: str, name: str = "MNIST", missing_hint: str = MISSING_HINT) -> tuple:
    """(images file, labels file) of one split in ``root``; a GancliError naming what is missing."""
    found, missing = [], []
    for kind, ndim in (("images", 3), ("labels", 1)):
        names = (f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte")
        file = _find(root, names)
        found.append(file)
        if file is None:
            missing.append(" or ".join(names))
    if missing:
        raise GancliError(f"{name} files missing in {root}: looked for {'; '.join(missing)} (each also with .gz); "
                          f"{missing_hint}")
    return tuple(found)


def _labels_beside(images: Path) -> Path | None:
    """The labels file matching an images file (train-images-idx3-ubyte -> train-labels-idx1-ubyte), if any."""
    name = images.name.removesuffix(".gz")
    if "images" not in name:
        return None
    return _find(images.parent, (name.replace("images", "labels").replace("idx3", "idx1"),))


def _find(folder: Path, names) -> Path | None:
    """The first of ``names`` (each plain or gzipped) that exists in ``folder``."""
    for name in names:
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def _read_pair(images_file: Path, labels_file: Path | None, size: int, name: str = "MNIST") -> tuple:
    """(images (N, 1, size, size) in [-1, 1], int64 labels (N,) or None) from one split's files."""
    images = _read_idx(images_file, "images", name)
    x = torch.from_numpy(images.astype(np.float32)).unsqueeze(1).div_(127.5).sub_(1)
    if x.shape[-2:] != (size, size):
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    if labels_file is None:
        return x, None
    labels = _read_idx(labels_file, "labels", name)
    if len(labels) != len(images):
        raise GancliError(f"{images_file} has {len(images)} images but {labels_file} has {len(labels)} labels; "
                          f"use the images and labels files of the same split")
    return x, torch.from_numpy(labels.astype(np.int64))


def _read_idx(file: Path, kind: str, name: str = "MNIST") -> np.ndarray:
    """The uint8 array in an IDX file (gzipped or not), checked against its header."""
    data = file.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip magic: trust the content, not the file name
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise GancliError(f"{file} is truncated or not a gzipped IDX file ({exc}); download it again") from None
    magic = MAGIC[kind]
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise GancliError(f"{file} is truncated or not an IDX {kind} file (magic number 0x{found:08X}, "
                          f"expected 0x{magic:08X}); pass {name}'s {kind} file or download it again")
    if len(data) < header:
        raise GancliError(f"{file} is truncated: it ends inside its {header}-byte header; download it again")
    dims = [int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4)]
    expected = header + math.prod(dims)
    if len(data) != expected:
        raise GancliError(f"{file} is truncated or not an IDX file: its header promises {expected} bytes "
                          f"but it has {len(data)}; download it again")
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims)
