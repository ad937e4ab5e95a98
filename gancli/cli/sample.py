"""gancli sample: draw from a trained generator into a PNG grid or a .npy array."""

from __future__ import annotations

import click

from ..errors import GancliError
from .common import registry_for_command


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
""")
@click.argument("target", type=click.Path())
@click.option("-n", "count", type=int, help="number of samples (64); with --per-class or --interpolate, rows (8)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latent vectors")
@click.option("--label", type=int, help="class to draw (conditional generators; default: cycle through classes)")
@click.option("--per-class", is_flag=True, help="a grid with one row per class, the same noise down each column")
@click.option("--interpolate", metavar="A:B", help="morph class A into class B with fixed noise (one row per noise)")
@click.option("--interp-steps", type=int, default=8, show_default=True, help="columns of --interpolate")
@click.option("-o", "--output", required=True, type=click.Path(), help="OUT.png or OUT.npy")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
def sample(target, count, seed, label, per_class, interpolate, interp_steps, output, device):
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

    dev = pick_device(device)
    G, meta = load_generator(target, device=str(dev), registry=registry)
    num_classes, z_dim = int(meta["num_classes"]), int(meta["z_dim"])
    if (label is not None or per_class or interpolate) and not num_classes:
        raise GancliError("--label, --per-class and --interpolate need a conditional generator; this one was "
                          "trained without --conditional")
    noise = torch.Generator().manual_seed(seed)
    nrow = None
    if per_class:  # row = class, column = one noise vector shared by every class
        z = torch.randn(count, z_dim, generator=noise).repeat(num_classes, 1)
        labels, nrow = torch.arange(num_classes).repeat_interleave(count), count
    elif interpolate:  # row = one noise vector, column = a blend of the two one-hot class vectors
        start, end = _class_pair(interpolate, num_classes)
        if interp_steps < 2:
            raise GancliError(f"--interp-steps must be at least 2, got {interp_steps}")
        weights = torch.linspace(0, 1, interp_steps)
        onehot = torch.eye(num_classes)
        blends = (1 - weights)[:, None] * onehot[start] + weights[:, None] * onehot[end]
        z = torch.randn(count, z_dim, generator=noise).repeat_interleave(interp_steps, 0)
        labels, nrow = blends.repeat(count, 1), interp_steps
    else:
        z = torch.randn(count, z_dim, generator=noise)
        labels = None
        if num_classes:
            _check_class(label if label is not None else 0, num_classes, "--label")
            labels = torch.full((count,), label) if label is not None else torch.arange(count) % num_classes
    with torch.no_grad():  # not inference_mode: parametrizations such as spectral norm refuse it
        samples = G(z.to(dev), None if labels is None else labels.to(dev))
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
