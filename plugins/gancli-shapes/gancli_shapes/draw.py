"""Drawing shapes with signed distance functions, vectorised over a batch of images with numpy.

Coordinates run over [-1, 1] on both axes; a signed distance is negative inside a shape, and a pixel's
coverage is its distance in pixels clipped to [0, 1] around the edge (anti-aliasing without supersampling).
"""

import numpy as np

CHUNK = 1024  # images drawn at once: bounds the memory of the (chunk, size, size) arrays


def draw_shapes(n: int, size: int, color: bool, seed: int):
    """(images float32 (n, C, size, size) in [-1, 1], labels int64 (n,)): shape i % 3, in random order."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 3).astype(np.int64)
    radius = rng.uniform(0.35, 0.7, n)
    centre = rng.uniform(-1, 1, (n, 2)) * (1 - radius)[:, None]  # the whole shape stays inside the frame
    angle = rng.uniform(0, 2 * np.pi, n)
    colours = _hue_colours(rng.uniform(0, 1, n)) if color else np.ones((n, 1))
    images = np.empty((n, colours.shape[1], size, size), np.float32)
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        coverage = _coverage(labels[part], radius[part], centre[part], angle[part], size)
        images[part] = coverage[:, None] * colours[part, :, None, None] * 2 - 1
    return images, labels


def _coverage(labels, radius, centre, angle, size: int):
    """(m, size, size) fraction of each pixel inside its image's shape."""
    axis = (np.arange(size) + 0.5) / size * 2 - 1
    x, y = axis[None, None, :] - centre[:, 0, None, None], axis[None, :, None] - centre[:, 1, None, None]
    cos, sin = np.cos(angle)[:, None, None], np.sin(angle)[:, None, None]
    u, v = cos * x + sin * y, cos * y - sin * x  # the pixel in the shape's own (rotated) frame
    r = radius[:, None, None]
    distance = np.select([labels[:, None, None] == 0, labels[:, None, None] == 1],
                         [np.hypot(u, v) - r, _square(u, v, 0.8 * r)], _triangle(u, v, 0.95 * r))
    return np.clip(0.5 - distance * size / 2, 0, 1).astype(np.float32)


def _square(u, v, half):
    qx, qy = np.abs(u) - half, np.abs(v) - half
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _triangle(u, v, half):
    """Equilateral triangle of half-side ``half`` centred on its centroid (after Inigo Quilez's formula)."""
    k = np.sqrt(3)
    u, v = np.abs(u) - half, v + half / k
    fold = u + k * v > 0
    u, v = np.where(fold, (u - k * v) / 2, u), np.where(fold, (-k * u - v) / 2, v)
    u = u - np.clip(u, -2 * half, 0)
    return -np.hypot(u, v) * np.sign(v)


def _hue_colours(hue):
    """(n, 3) fully saturated, bright RGB colours in [0, 1] for hues in [0, 1)."""
    channel = (hue[:, None] * 6 + np.array([0, 4, 2])) % 6  # HSV -> RGB with s = v = 1
    return np.clip(np.abs(channel - 3) - 1, 0, 1)
