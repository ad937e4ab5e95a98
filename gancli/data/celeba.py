"""CelebA from its standard download: the aligned images and the attribute file, read from disk.

The folder PATH holds ``list_attr_celeba.txt`` (also accepted under ``Anno/``) and the images folder
``img_align_celeba/`` (also ``Img/img_align_celeba/``; the nested ``img_align_celeba/img_align_celeba/``
that some archives unpack to works too). The attribute file is the original text format::

    202599
    5_o_Clock_Shadow Arched_Eyebrows ... Young
    000001.jpg -1  1  1 -1 ...

Each image is centre-cropped to a ``crop`` x ``crop`` square (faces sit in the middle of the 178x218
aligned images) and resized to ``size``; attributes become 0/1 columns under CelebA's own names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..components import DataBundle, DataSpec
from ..errors import GancliError

ATTR_FILES = ("list_attr_celeba.txt", "Anno/list_attr_celeba.txt")
IMAGE_FOLDERS = ("img_align_celeba/img_align_celeba", "img_align_celeba", "Img/img_align_celeba")


def load_celeba(path: str, size: int, crop: int, limit: int) -> DataBundle:
    """The first ``limit`` images of the attribute file (all with 0) as (N, 3, size, size) in [-1, 1]."""
    if size < 4:
        raise GancliError(f"image size must be at least 4, not {size}")
    root = Path(path).expanduser()
    if not root.is_dir():
        raise GancliError(f"CelebA folder {path} does not exist; pass the folder holding list_attr_celeba.txt "
                          f"and img_align_celeba/")
    names, files, values = read_attribute_file(_first_existing(root, ATTR_FILES, "attribute file", path))
    images = _first_existing(root, IMAGE_FOLDERS, "images folder", path)
    if limit:
        files, values = files[:limit], values[:limit]
    pixels, missing = [], []
    for name in files:
        file = images / name
        if not file.is_file():
            missing.append(name)
            continue
        pixels.append(_read_crop(file, size, crop))
    if missing:
        raise GancliError(f"{len(missing)} images named in the attribute file are missing from {images} "
                          f"(first: {missing[0]}); unpack the whole archive or pass --data-opt limit=N")
    x = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float().div_(127.5).sub_(1)
    spec = DataSpec(kind="image", shape=(3, size, size), attribute_names=tuple(names))
    return DataBundle(x=x, spec=spec, attributes=torch.from_numpy(values))


def read_attribute_file(path: Path) -> tuple[list, list, np.ndarray]:
    """(attribute names, image file names, (N, A) float32 0/1 values) from list_attr_celeba.txt."""
    lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if len(lines) < 2:
        raise GancliError(f"{path} is not a CelebA attribute file: it needs a count line and a names line")
    names = lines[1]
    files, rows = [], []
    for number, parts in enumerate(lines[2:], start=3):
        if len(parts) != len(names) + 1 or any(v not in ("1", "-1") for v in parts[1:]):
            raise GancliError(f"{path} line {number}: expected a file name and {len(names)} values of 1 or -1")
        files.append(parts[0])
        rows.append([v == "1" for v in parts[1:]])
    if not files:
        raise GancliError(f"{path} lists no images")
    return names, files, np.asarray(rows, dtype=np.float32)


def _first_existing(root: Path, candidates, what: str, path: str) -> Path:
    for candidate in candidates:
        if (root / candidate).exists():
            return root / candidate
    raise GancliError(f"CelebA {what} not found in {path}: looked for {', '.join(candidates)}")


def _read_crop(file: Path, size: int, crop: int) -> np.ndarray:
    with Image.open(file) as img:
        img = img.convert("RGB")
    side = min(crop, *img.size) if crop else min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    square = img.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.LANCZOS))
