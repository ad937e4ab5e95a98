"""A folder of images (PNG, JPEG, BMP, WebP), with one class per sub-folder when there are several."""

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from ..components import DataBundle, DataSpec
from ..errors import GancliError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp"})
ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})


def load_folder(path: str, size: int, channels: int) -> DataBundle:
    """Every image under ``path`` as (N, C, size, size) in [-1, 1]; ``channels`` 0 picks 1 or 3 itself."""
    if channels not in (0, 1, 3):
        raise GancliError(f"channels must be 0 (auto), 1 or 3, not {channels}")
    if size < 1:
        raise GancliError(f"image size must be at least 1, not {size}")
    root = Path(path).expanduser()
    files = _image_files(root, path)

    images, kept, failures = [], [], []
    for file in files:
        try:
            images.append(_read_square(file, size))
            kept.append(file)
        except Exception as exc:  # Pillow raises many types: OSError, SyntaxError, DecompressionBombError...
            failures.append((file, exc))
    if not images:
        raise GancliError(f"none of the {len(files)} image files in {path} could be read "
                          f"({_first_failure(root, failures)}); check that they are valid images")

    if channels == 0:
        channels = 1 if all(_is_grey(img) for img in images) else 3
    mode = "L" if channels == 1 else "RGB"
    pixels = torch.from_numpy(np.stack([np.asarray(img.convert(mode)) for img in images]))
    x = pixels.float().div_(127.5).sub_(1)
    x = x.unsqueeze(1) if channels == 1 else x.permute(0, 3, 1, 2).contiguous()

    class_names, labels = _class_labels(root, kept)
    notes = []
    if failures:
        plural = "s" if len(failures) > 1 else ""
        notes.append(f"skipped {len(failures)} unreadable file{plural} of {len(files)} in {path} "
                     f"({_first_failure(root, failures)})")
    spec = DataSpec(kind="image", shape=(channels, size, size), class_names=class_names)
    return DataBundle(x=x, spec=spec, labels=labels, notes=notes)


def _image_files(root: Path, path: str) -> list:
    """The image files under ``root``, recursively, sorted by their path for a deterministic order."""
    if not root.exists():
        raise GancliError(f"data folder {path} does not exist; check the path")
    if not root.is_dir():
        raise GancliError(f"data path {path} is a file, not a folder; pass the folder that holds the images")
    files = [p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if not files:
        raise GancliError(f"data folder {path} contains no PNG/JPEG images; "
                          f"put images in it or in one sub-folder per class")
    return sorted(files, key=lambda p: p.relative_to(root).parts)


def _read_square(file: Path, size: int) -> Image.Image:
    """One file as an 8-bit 'L' or 'RGB' image, upright, centre-cropped to a square of ``size`` pixels."""
    with Image.open(file) as img:
        img.draft(None, (2 * size, 2 * size))  # JPEG: decode at 1/2..1/8 scale when big, as thumbnail() does
        img = _to_8bit(ImageOps.exif_transpose(img))
    return ImageOps.fit(img, (size, size), method=Image.Resampling.LANCZOS)


def _to_8bit(img: Image.Image) -> Image.Image:
    """``img`` in mode 'L' or 'RGB': 16-bit greys scaled (not clipped), transparency composited on white."""
    if img.mode in ("L", "RGB"):
        return img
    if img.mode == "1":
        return img.convert("L")
    if img.mode.startswith("I"):  # 'I;16*' and 'I' come from 16-bit PNGs: 0..65535 -> 0..255
        grey = np.asarray(img, dtype=np.float64) / 257.0
        return Image.fromarray(np.clip(np.rint(grey), 0, 255).astype(np.uint8))
    if img.mode in ALPHA_MODES or "transparency" in img.info:
        white = Image.new("RGBA", img.size, "white")
        return Image.alpha_composite(white, img.convert("RGBA")).convert("RGB")
    return img.convert("RGB")  # palette, CMYK, YCbCr...


def _is_grey(img: Image.Image) -> bool:
    """True for 'L', and for 'RGB' whose three channels are equal at every pixel."""
    if img.mode == "L":
        return True
    rgb = np.asarray(img)
    return bool((rgb[..., 0] == rgb[..., 1]).all() and (rgb[..., 1] == rgb[..., 2]).all())


def _class_labels(root: Path, files: list) -> tuple:
    """(sorted class names, int64 labels) when every file sits under one of 2+ sub-folders, else ((), None)."""
    parts = [file.relative_to(root).parts for file in files]
    if any(len(p) == 1 for p in parts):  # an image directly in the folder: no class layout
        return (), None
    names = sorted({p[0] for p in parts})
    if len(names) < 2:
        return (), None
    index = {name: i for i, name in enumerate(names)}
    return tuple(names), torch.tensor([index[p[0]] for p in parts], dtype=torch.int64)


def _first_failure(root: Path, failures: list) -> str:
    """'first: NAME: REASON' on one line, for the first file that could not be read."""
    file, exc = failures[0]
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return f"first: {file.relative_to(root)}: {reason}"
