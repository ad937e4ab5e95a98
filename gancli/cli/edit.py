"""gancli edit: move latent vectors along a named direction and draw a strip per sample."""

from __future__ import annotations

import click

from ..errors import GancliError
from .common import space_option, truncation_options


@click.command(help="""Edit samples of a generator along a named direction; rows are samples, columns strengths.

\b
The strength is the distance moved in latent space, in units of the latent's standard deviation. Without
--method the latents move along a direction saved in the run (see `gancli directions list RUN`); with
--method gradient each latent climbs the attribute classifier's gradient on its own (the course's method),
--condition-on penalising a change of the named attributes (--method-opt hold=true holds them instead).

\b
Examples:
  gancli edit pretrained:faces --direction smile -o strip.png
  gancli edit pretrained:faces --direction smile-cond-mouth_open --seed 3 -n 6 -o strip.png
  gancli edit runs/0001 --direction hat --latent z.npy --strength -2,0,2 -o hats.png
  gancli edit pretrained:faces --direction smile --method gradient --condition-on mouth_open -o grad.png
  gancli edit pretrained:faces --direction smile --method gradient --method-opt hold=true -o held.png
  gancli edit pretrained:faces --direction smile --method gradient --method-opt hold=true --method-opt refine=40 \\
      -o best.png
  gancli edit pretrained:faces --direction sefa-0 --save-latents edited.npy -o strip.png
  gancli edit runs/0004 --direction smile --truncation 0.7 -o strip.png      (a stylegan2 run: W directions)
  gancli edit runs/0004 --direction smile --method gradient --space w -o w-walk.png
""")
@click.argument("run", type=click.Path())
@click.option("--direction", required=True, help="saved direction (aliases work: smile -> smiling), or the attribute "
              "for --method")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latents (unless --latent)")
@click.option("-n", "count", type=int, default=4, show_default=True, help="number of samples (rows) drawn from --seed")
@click.option("--latent", type=click.Path(), help="latents to edit: .npy or .safetensors of Z, W or W+ (a .safetensors "
              "file names its space by its tensor: z, w or ws; a 3-D .npy is W+), shape (N, ...) or one latent")
@click.option("--latent-space", type=click.Choice(["z", "w", "w+"]), help="the space of a --latent .npy (default z)")
@space_option("with --method: the latent space the editor walks in (default w where the generator has it, else z); "
              "a saved direction moves latents in its own space")
@truncation_options
@click.option("--strength", default="-3:3:7", show_default=True, help="START:STOP:COUNT or a list such as -2,0,2")
@click.option("--method", help="per-latent editor instead of a saved direction: gradient (classifier-gradient)")
@click.option("--condition-on", multiple=True,
              help="with --method: attribute whose change is penalised, or held (repeatable)")
@click.option("--method-opt", multiple=True, metavar="KEY=VALUE", help="with --method: finder option (repeatable)")
@click.option("--classifier", type=click.Path(), help="with --method: attribute classifier file (default: the run's)")
@click.option("-o", "--output", required=True, type=click.Path(), help="OUT.png: the strip")
@click.option("--save-latents", type=click.Path(), help="write the edited latents, strip order, (N * S, ...), in the "
              "space they were moved in, to .npy or .safetensors")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
def edit(run, direction, seed, count, latent, latent_space, space, truncation, truncation_cutoff, strength, method,
         condition_on, method_opt, classifier, output, save_latents, device):
    if not output.lower().endswith(".png"):
        raise GancliError(f"output {output} must end in .png")
    if count < 1:
        raise GancliError(f"-n must be at least 1, got {count}")
    if save_latents and not save_latents.lower().endswith((".npy", ".safetensors")):
        raise GancliError(f"--save-latents {save_latents} must end in .npy or .safetensors")
    from ..api.generator import load
    from ..directions.latents import read_latents, save_latents as write_latents

    generator = load(run, device)
    generator.context()  # conditional and point generators are refused before any file is read
    latents, source = read_latents(latent, generator.spaces, latent_space) if latent else (count, "z")
    result = generator.edit(latents, direction, strength, seed=seed, latent_space=source, space=space, method=method,
                            condition_on=condition_on, method_options=method_opt, classifier=classifier,
                            truncation=truncation, cutoff=truncation_cutoff)
    try:
        result.grid.save(output)
        if save_latents:
            write_latents(save_latents, result.latents, result.space)
    except OSError as exc:
        raise GancliError(f"cannot write {exc.filename or output}: {exc.strerror or exc}") from None
    strengths_text = ", ".join(f"{s:g}" for s in result.strengths)
    click.echo(f"wrote {len(result.images) // len(result.strengths)} x {len(result.strengths)} edits "
               f"({result.description}; strengths {strengths_text}) to {output}", err=True)
