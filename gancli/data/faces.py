"""Procedural cartoon faces with binary attributes: no download, the same images for the same seed.

Each face is drawn with Pillow at 4x the asked size and shrunk with a Lanczos filter, so features stay
crisp at 32x32. Attributes (columns of ``DataBundle.attributes``, in this order):

- ``smiling``: the mouth curves up (a U-shaped line, or a wide D-shaped opening) instead of flat/down;
- ``mouth_open``: the mouth is a filled dark opening (D-shaped when smiling, a small "O" otherwise);
- ``eyeglasses``: dark rings round both eyes and a bridge between them;
- ``hat``: a coloured hat with a brim over the top of the head.

Nuisance variation the attributes must see through: skin tone, face size, face position and the
background colour. ``correlation`` ties ``mouth_open`` to ``smiling``: P(open | smiling) = (1 + c) / 2 and
P(open | not smiling) = (1 - c) / 2, so the default c = 0.6 gives 80% / 20% (open mouths mostly smile, as
in photographs of people) and c = 0 makes the two independent. That correlation is what makes a naively
fitted "smile" direction also open the mouth, the entanglement conditional directions remove.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..components import DataBundle, DataSpec
from ..errors import GancliError

ATTRIBUTES = ("smiling", "mouth_open", "eyeglasses", "hat")
SUPERSAMPLE = 4
# skin tones from light to dark; a face's tone is a random blend of two neighbours
SKIN = np.array([(255, 224, 196), (241, 194, 155), (224, 172, 125), (198, 134, 86), (141, 85, 54), (95, 60, 40)],
                dtype=np.float64)
MOUTH = (120, 20, 30)
INK = (25, 20, 20)


def attribute_probabilities(correlation: float, eyeglasses: float, hat: float) -> dict:
    """The generating probabilities, recorded beside the data so a reader knows what 'correlated' means."""
    return {"smiling": 0.5, "mouth_open|smiling": (1 + correlation) / 2,
            "mouth_open|not smiling": (1 - correlation) / 2, "eyeglasses": eyeglasses, "hat": hat}


def draw_attributes(n: int, rng: np.random.Generator, correlation: float, eyeglasses: float,
                    hat: float) -> np.ndarray:
    """(n, 4) 0/1 attributes: smiling fair, mouth_open tied to it by ``correlation``, the others independent."""
    smiling = rng.random(n) < 0.5
    p_open = np.where(smiling, (1 + correlation) / 2, (1 - correlation) / 2)
    mouth_open = rng.random(n) < p_open
    glasses = rng.random(n) < eyeglasses
    hats = rng.random(n) < hat
    return np.stack([smiling, mouth_open, glasses, hats], axis=1).astype(np.float32)


def load_faces(size: int, n: int, seed: int, correlation: float, eyeglasses: float = 0.4,
               hat: float = 0.4) -> DataBundle:
    """``n`` faces (n, 3, size, size) in [-1, 1] with their attributes, drawn once from ``seed``."""
    if size not in (32, 64):
        raise GancliError(f"faces are drawn at 32 or 64 pixels, not {size}")
    if not -1 <= correlation <= 1:
        raise GancliError(f"faces correlation must be in [-1, 1], got {correlation}")
    rng = np.random.default_rng(seed)
    attributes = draw_attributes(n, rng, correlation, eyeglasses, hat)
    pixels = np.stack([draw_face(size, row, rng) for row in attributes.astype(bool)])
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(127.5).sub_(1)
    spec = DataSpec(kind="image", shape=(3, size, size), attribute_names=ATTRIBUTES)
    return DataBundle(x=x, spec=spec, attributes=torch.from_numpy(attributes))


def draw_face(size: int, attributes, rng: np.random.Generator) -> np.ndarray:
    """One face as a (size, size, 3) uint8 array; ``attributes`` are the four flags in ATTRIBUTES order."""
    smiling, mouth_open, glasses, hat = attributes
    big = size * SUPERSAMPLE
    background = tuple(int(v) for v in rng.integers(40, 235, 3))
    img = Image.new("RGB", (big, big), background)
    draw = ImageDraw.Draw(img)

    r = big * rng.uniform(0.26, 0.34)  # face radius: nuisance size
    cx = big * (0.5 + rng.uniform(-0.07, 0.07))  # nuisance position
    cy = big * (0.54 + rng.uniform(-0.05, 0.05))
    tone = rng.uniform(0, len(SKIN) - 1)
    low = int(tone)
    skin = tuple(int(v) for v in SKIN[low] + (SKIN[min(low + 1, len(SKIN) - 1)] - SKIN[low]) * (tone - low))
    draw.ellipse((cx - r, cy - 1.1 * r, cx + r, cy + 1.1 * r), fill=skin, outline=INK, width=max(1, int(0.04 * r)))

    eye_y, eye_dx, eye_r = cy - 0.2 * r, 0.4 * r, 0.11 * r
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse((ex - eye_r, eye_y - eye_r, ex + eye_r, eye_y + eye_r), fill=INK)
    if glasses:
        ring, thick = 0.27 * r, max(2, int(0.09 * r))
        for side in (-1, 1):
            ex = cx + side * eye_dx
            draw.ellipse((ex - ring, eye_y - ring, ex + ring, eye_y + ring), outline=INK, width=thick)
        draw.line((cx - eye_dx + ring, eye_y, cx + eye_dx - ring, eye_y), fill=INK, width=thick)
    _mouth(draw, cx, cy + 0.5 * r, r, smiling, mouth_open)
    if hat:
        _hat(draw, cx, cy - 0.62 * r, r, _hat_colour(rng, skin, background))
    return np.asarray(img.resize((size, size), Image.Resampling.LANCZOS))


def _mouth(draw: ImageDraw.ImageDraw, mx: float, my: float, r: float, smiling: bool, mouth_open: bool) -> None:
    thick = max(2, int(0.09 * r))
    if smiling and mouth_open:  # a wide D: flat top, round bottom, a row of teeth
        w, h = 0.55 * r, 0.42 * r
        draw.pieslice((mx - w, my - h, mx + w, my + h), 0, 180, fill=MOUTH, outline=INK, width=thick // 2)
        draw.rectangle((mx - 0.8 * w, my, mx + 0.8 * w, my + 0.12 * r), fill=(250, 250, 250))
    elif smiling:  # a U-shaped line
        w, h = 0.5 * r, 0.3 * r
        draw.arc((mx - w, my - h, mx + w, my + h), 15, 165, fill=INK, width=thick)
    elif mouth_open:  # a small round "O"
        w, h = 0.2 * r, 0.24 * r
        draw.ellipse((mx - w, my - h + 0.1 * r, mx + w, my + h + 0.1 * r), fill=MOUTH, outline=INK, width=thick // 2)
    else:  # a flat, slightly downturned line
        w, h = 0.4 * r, 0.12 * r
        draw.arc((mx - w, my + 0.1 * r, mx + w, my + 0.1 * r + 2 * h), 200, 340, fill=INK, width=thick)


def _hat(draw: ImageDraw.ImageDraw, cx: float, brim_y: float, r: float, colour: tuple) -> None:
    """A crown above the brim line and a brim wider than the head."""
    draw.rectangle((cx - 0.75 * r, brim_y - 0.85 * r, cx + 0.75 * r, brim_y), fill=colour, outline=INK,
                   width=max(1, int(0.04 * r)))
    draw.rectangle((cx - 1.2 * r, brim_y - 0.12 * r, cx + 1.2 * r, brim_y + 0.12 * r), fill=colour, outline=INK,
                   width=max(1, int(0.04 * r)))


def _hat_colour(rng: np.random.Generator, skin: tuple, background: tuple) -> tuple:
    """A saturated colour that stands out from both the skin and the background."""
    for _ in range(20):
        colour = np.zeros(3)
        colour[rng.integers(3)] = rng.uniform(160, 255)
        colour[rng.integers(3)] = rng.uniform(0, 90)
        colour = np.where(colour == 0, rng.uniform(0, 120, 3), colour)
        if min(np.abs(colour - skin).sum(), np.abs(colour - background).sum()) > 150:
            break
    return tuple(int(v) for v in colour)
