"""gancli sample: draw from a trained generator into a PNG grid or a .npy array."""

from __future__ import annotations

import click

from ..errors import GancliError
from .common import registry_for_command, truncation_options


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
    registry = registry_for_command()

    import torch

    from ..engine.images import save_samples
    from ..engine.models import load_generator
    from ..engine.trainer import pick_device

    from ..latents import LatentSpaces

    dev = pick_device(device)
    G, meta = load_generator(target, device=str(dev), registry=registry)
    spaces = LatentSpaces.of(G, meta, str(dev))
    spaces.check_truncation(truncation, truncation_cutoff)
    num_classes = spaces.num_classes
    if (label is not None or per_class or interpolate) and not num_classes:
        raise GancliError("--label, --per-class and --interpolate need a conditional generator; this one was "
                          "trained without --conditional")
    if mix_layers and mix_seed is None:
        raise GancliError("--mix-layers says which layers --mix SEED replaces; add --mix SEED")
    if mix_seed is not None and not spaces.has_w:
        raise GancliError("--mix needs a generator with a W space (a mapping network, such as --arch stylegan2); "
                          "this generator has a Z space only")
    nrow = None
    if per_class:  # row = class, column = one noise vector shared by every class
        def draw(noise):
            return spaces.sample_z(count, noise).repeat(num_classes, 1)
        labels, nrow = torch.arange(num_classes).repeat_interleave(count), count
    elif interpolate:  # row = one noise vector, column = a blend of the two one-hot class vectors
        start, end = _class_pair(interpolate, num_classes)
        if interp_steps < 2:
            raise GancliError(f"--interp-steps must be at least 2, got {interp_steps}")
        weights = torch.linspace(0, 1, interp_steps)
        onehot = torch.eye(num_classes)
        blends = (1 - weights)[:, None] * onehot[start] + weights[:, None] * onehot[end]

        def draw(noise):
            return spaces.sample_z(count, noise).repeat_interleave(interp_steps, 0)
        labels, nrow = blends.repeat(count, 1), interp_steps
    else:
        def draw(noise):
            return spaces.sample_z(count, noise)
        labels = None
        if num_classes:
            _check_class(label if label is not None else 0, num_classes, "--label")
            labels = torch.full((count,), label) if label is not None else torch.arange(count) % num_classes
    z = draw(seed)
    if mix_seed is None:
        samples = spaces.generate(z, "z", labels, truncation, truncation_cutoff)
    else:  # the same grid of latents from the mixing seed lends its layers to every sample
        ws, other = (spaces.convert(v, "z", "w+", labels, truncation, truncation_cutoff) for v in (z, draw(mix_seed)))
        layers = _layers(mix_layers, spaces.G.num_ws)
        samples = spaces.generate(spaces.mix(ws, other, layers), "w+")
    try:
        save_samples(samples, output, meta["spec"]["kind"], nrow=nrow)
    except OSError as exc:
        raise GancliError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {len(samples)} samples to {output} (generator at step {meta.get('step')})", err=True)


def _check_class(value: int, num_classes: int, flag: str) -> None:
    if not 0 <= value < num_classes:
        raise GancliError(f"{flag} classes must be in 0..{num_classes - 1}, got {value}")


def _class_pair(text: str, num_classes: int) -> tuple[int, int]:
    try:
        start, end = (int(part) for part in text.split(":"))
    except ValueError:
        raise GancliError(f"--interpolate takes two class numbers as A:B (for example 3:8), got {text!r}") from None
    _check_class(start, num_classes, "--interpolate")
    _check_class(end, num_classes, "--interpolate")
    return start, end


def _layers(text: str | None, num_ws: int) -> tuple[int, int]:
    if text is None:
        return num_ws // 2, num_ws
    try:
        start, stop = (int(part) for part in text.split(":"))
    except ValueError:
        raise GancliError(f"--mix-layers takes two layer numbers as A:B (for example 4:{num_ws}), got {text!r}") from None
    return start, stop
