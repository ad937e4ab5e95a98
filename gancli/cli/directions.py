"""gancli directions: fit named latent directions into a run, and list them."""

from __future__ import annotations

import json

import click

from .common import space_option


@click.group(help="""Named directions in a generator's latent space, saved in the run (directions.safetensors).

\b
Examples:
  gancli directions fit runs/0001 --method interfacegan --attribute smile
  gancli directions fit runs/0001 --method interfacegan --attribute smile --condition-on mouth_open
  gancli directions fit runs/0001 --method classifier-gradient --attribute hat --method-opt penalty=1
  gancli directions fit runs/0001 --method sefa --method-opt k=5
  gancli directions list pretrained:faces
""")
def directions():
    pass


@directions.command(help="""Find directions with a finder (see `gancli list direction-finders`) and add them to the run.

\b
Supervised finders (interfacegan, classifier-gradient) need --attribute and an attribute classifier: the
run's own classifier.safetensors, --classifier PATH, or the cached classifier of the run's dataset (trained
on first use). Unsupervised ones (sefa, pca) name their directions sefa-0.., pca-0...

\b
Examples:
  gancli directions fit runs/0001 --method interfacegan --attribute smile --condition-on mouth_open
  gancli directions fit runs/0001 --method pca --method-opt k=4
  gancli directions fit runs/0004 --space w --method sefa      (a stylegan2 run: SeFa on its style weights)


A direction is saved with the latent space it lives in (W and W+ ones are named NAME@w, NAME@w+); a
supervised one also with what it measured at (success and drift at strength 3, on 200 latents the finder
never sampled, by the run's classifier), so that `gancli edit RUN --direction ATTRIBUTE` picks the best. A
finder with a per-latent editor (classifier-gradient) has that editor measured too, with the same options, as
NAME/per-latent: it competes for --direction ATTRIBUTE with the saved directions.
""")
@click.argument("run", type=click.Path())
@click.option("--method", required=True, help="direction finder: interfacegan, classifier-gradient, sefa, pca...")
@click.option("--attribute", help="target attribute of a supervised finder (aliases work: smile -> smiling)")
@click.option("--condition-on", multiple=True, help="attribute the direction must leave unchanged (repeatable)")
@click.option("--method-opt", multiple=True, metavar="KEY=VALUE", help="finder option (repeatable)")
@click.option("--classifier", type=click.Path(), help="attribute classifier file (default: the run's, or the dataset's)")
@click.option("--seed", type=int, default=0, show_default=True, help="seed of the latents the finder samples")
@space_option("latent space to find directions in (default w where the generator has one, else z)")
@click.option("--measure", "measure_samples", type=click.IntRange(min=0), default=200, show_default=True,
              help="latents each supervised direction (and per-latent editor) is measured on; 0: do not measure")
@click.option("--device", default="cpu", show_default=True, help="cpu, cuda or auto")
@click.option("--json", "as_json", is_flag=True, help="print what was saved as JSON")
def fit(run, method, attribute, condition_on, method_opt, classifier, seed, space, measure_samples, device, as_json):
    from ..api.generator import load

    generator = load(run, device)
    recorded = generator.fit_directions(method, attribute, condition_on, method_opt, classifier, seed, space,
                                        measure_samples)
    path = generator.context().directions_path
    if as_json:
        click.echo(json.dumps({"file": path, "directions": recorded}, indent=2))
        return
    for name in recorded:
        click.echo(name)
    click.echo(f"saved {len(recorded)} direction(s) in {path}; try: gancli edit {run} "
               f"--direction {next(iter(recorded))} -o strip.png", err=True)


@directions.command("list", help="""The directions saved in a run, with the finder and attribute behind each.

\b
Example:
  gancli directions list pretrained:faces
""")
@click.argument("run", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="print them as JSON")
def list_directions(run, as_json):
    from ..api.directions import saved_directions

    found = saved_directions(run)
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    listed = [*found["directions"].items(), *found["editors"].items()]
    for name, record in listed:
        what = f"{record['space']:<3} {record.get('method', '?')}" + (" per-latent editor" if name in found["editors"]
                                                                       else "")
        if record.get("attribute"):
            what += f" on {record['attribute']}"
        if record.get("condition_on"):
            what += f", conditioned on {', '.join(record['condition_on'])}"
        measured = record.get("measured")
        if measured:
            what += f" (success {measured['success']:.0%}, drift {measured['drift']:.3f})"
        click.echo(f"{name:<36} {what}")
    accuracy = (found["classifier"] or {}).get("accuracy_per_name")
    if accuracy:
        figures = ", ".join(f"{k} {v:.1%}" for k, v in accuracy.items())
        click.echo(f"attribute classifier held-out accuracy: {figures}", err=True)
