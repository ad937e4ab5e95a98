"""gancli sample: draw from a trained generator into a PNG grid or a .npy array."""

from __future__ import annotations

import click

from ..errors import GancliError
from .common import truncation_options


@click.command(help="""Draw samples from a trained generator (a run directory or a generator .safetensors file).

\b
PNG output is a grid of images (a scatter plot for 2-D point data); .npy output is the raw float
array, shape (N, C, H, W) in [-1, 1] for images or (N, 2) for points.

\b
Examples:
  gancli sample runs/0001 -n 64 -o grid.png
  gancli sample runs/0001/generator.safetensors -n 1000 --seed 3 -o samples.npy
  gancli sample runs/0002 --label 7 -n 16 -o sevens.png     (conditional runs)
  gancli sample runs/0002 --per-class -o classes.png
  gancli sample runs/0002 --interpolate 3:8 -o morph.png
  gancli sample runs/0004 --truncation 0.7 -o truncated.png      (generators with a W space, such as stylegan2)
  gancli sample runs/0004 --mix 5 --mix-layers 4:8 -o mixed.png    (style mixing: layers 4..7 from seed 5)
""")
@click.argument("target", type=click.Path())
@click.option("-n", "count", type=int, help="number of samples (64); with --per-class or --interpolate, rows (8)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latent vectors")
@click.option("--label", type=int, help="class to draw (conditional generators; default: cycle through classes)")
@click.option("--per-class", is_flag=True, help="a grid with one row per class, the same noise down each column")
@click.option("--interpolate", metavar="A:B", help="morph class A into class B with fixed noise (one row per noise)")
@click.option("--interp-steps", type=int, default=8, show_default=True, help="columns of --interpolate")
@truncation_options
@click.option("--mix", "mix_seed", type=int, metavar="SEED",
              help="style mixing: the --mix-layers of every sample come from the latents of this seed (W generators)")
@click.option("--mix-layers", metavar="A:B", help="with --mix: the W+ layers A..B-1 to take from --mix (default: the "
              "second half, the fine styles)")
@click.option("-o", "--output", required=True, type=click.Path(), help="OUT.png or OUT.npy")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
def sample(target, count, seed, label, per_class, interpolate, interp_steps, truncation, truncation_cutoff, mix_seed,
           mix_layers, output, device):
    if sum(map(bool, (label is not None, per_class, interpolate))) > 1:
        raise GancliError("choose one of --label, --per-class and --interpolate")
    count = count if count is not None else (8 if per_class or interpolate else 64)
    if count < 1:
        raise GancliError(f"-n must be at least 1, got {count}")
    if not output.lower().endswith((".png", ".npy")):
        raise GancliError(f"output {output} must end in .png (a picture) or .npy (the raw array)")
    if mix_layers and mix_seed is None:
        raise GancliError("--mix-layers says which layers --mix SEED replaces; add --mix SEED")
    from ..api.generator import load

    generator = load(target, device)
    truncated = {"truncation": truncation, "cutoff": truncation_cutoff, "mix_seed": mix_seed,
                 "mix_layers": _layers(mix_layers)}
    if per_class:
        grid = generator.per_class(count, seed, **truncated)
    elif interpolate:
        grid = generator.interpolate(*_class_pair(interpolate), count, interp_steps, seed, **truncated)
    else:
        grid = generator.images(count, seed, label, **truncated)
    try:
        grid.save(output)
    except OSError as exc:
        raise GancliError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(grid.samples)} samples to {output} (generator at step {generator.step})", err=True)


def _class_pair(text: str) -> tuple[int, int]:
    try:
        start, end = (int(part) for part in text.split(":"))
    except ValueError:
        raise GancliError(f"--interpolate takes two class numbers as A:B (for example 3:8), got {text!r}") from None
    return start, end


def _layers(text: str | None) -> tuple[int, int] | None:
    """--mix-layers A:B; None for the default (the second half of W+, the fine styles)."""
    if text is None:
        return None
    try:
        start, stop = (int(part) for part in text.split(":"))
    except ValueError:
        raise GancliError(f"--mix-layers takes two layer numbers as A:B (for example 4:8), got {text!r}") from None
    return start, stop
