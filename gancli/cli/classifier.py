"""gancli classifier: train gancli's attribute classifier on a labelled dataset."""

from __future__ import annotations

import json

import click

from .common import is_interactive


@click.group(help="""gancli's own image classifiers (what evaluation and controllable generation judge with).

\b
Examples:
  gancli classifier train --data faces
  gancli classifier train --data celeba:~/data/celeba --data-opt limit=50000 -o celeba-attributes.safetensors
""")
def classifier():
    pass


@classifier.command(help="""Train the multi-label attribute classifier of a dataset with attributes (faces, celeba:PATH).

\b
A fifth of the images is held out; the accuracy on them is printed per attribute and saved with the model.
The classifier is cached (in $GANCLI_CACHE_DIR, default ~/.cache/gancli), where `gancli directions fit`
finds it for runs trained on the same data; -o also writes a copy.

\b
Attribute combinations are balanced by default: each training image is weighted so that, under the weights,
every pair of attributes is independent and each keeps its frequency (entropy balancing of the pairwise
tables; weights capped at --balance-max-weight times their mean). The classifier then cannot read one
attribute from another the data pairs it with (an open mouth from a smile), which editing needs.
--no-balance trains on the data as it is. What balancing did is printed and saved with the model.

\b
Examples:
  gancli classifier train --data faces
  gancli classifier train --data faces --data-opt correlation=0 -o faces-independent.safetensors
  gancli classifier train --data faces --no-balance --members 1
""")
@click.option("--data", required=True, help="dataset with attributes: faces, or celeba:PATH")
@click.option("--data-opt", multiple=True, metavar="KEY=VALUE", help="dataset option (repeatable)")
@click.option("--steps", type=int, help="training steps at most (default 3000; fewer: faster, less accurate)")
@click.option("--members", type=int, help="networks trained from different seeds and averaged (default 3); "
                                         "gradient edits that climb the average carry over to other classifiers "
                                         "better; 1: a single network")
@click.option("--balance/--no-balance", default=None,
              help="weight training images so attributes are pairwise independent, frequencies kept (default: on)")
@click.option("--balance-max-weight", type=float, metavar="W",
              help="cap on an image's balancing weight, in units of the mean weight (default 20); lower keeps more "
                   "effective images, higher removes more correlation")
@click.option("--robust/--no-robust", default=None,
              help="also train on blurred and noisy copies, so that a generator's soft or speckled faces are read "
                   "by their shapes (default: off)")
@click.option("-o", "--output", type=click.Path(), help="also write the classifier to this .safetensors file")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def train(data, data_opt, steps, members, balance, balance_max_weight, robust, output, as_json):
    from ..api.classifier import train_classifier

    progress = _progress() if is_interactive() and not as_json else None
    try:
        result = train_classifier(data, list(data_opt), steps=steps, members=members, balance=balance,
                                  balance_max_weight=balance_max_weight, robust=robust, output=output,
                                  progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    per_name = result["accuracy_per_name"]
    click.echo(f"{'trained' if result['trained_now'] else 'cached'} attribute classifier: {result['file']}")
    networks = result["members"]
    click.echo(f"held-out accuracy on {result['n_holdout']} images"
               + (f" (the average of {networks} networks):" if networks > 1 else ":"))
    for name, value in per_name.items():
        click.echo(f"  {name:<24} {value:.1%}")
    report = result["balance"]
    if report:
        click.echo(f"balanced: largest pairwise attribute correlation {report['max_abs_correlation_before']:.3f} "
                   f"-> {report['max_abs_correlation_after']:.3f} under the weights; effective sample "
                   f"{report['effective_sample_fraction']:.0%} of the training images"
                   + (f"; {report['clipped']} weights capped" if report["clipped"] else ""))
    else:
        click.echo("not balanced: attributes keep the correlations of the data")
    if result["robust"]:
        click.echo("robust: trained on blurred and noisy copies too")


def _progress():
    """A callable progress(step, total) drawing a rich bar on stderr, with close()."""
    from rich.progress import Progress

    bar = Progress(transient=True)
    bar.start()
    task = bar.add_task("training classifier", total=None)

    def update(step, total):
        bar.update(task, completed=step, total=total)

    update.close = bar.stop
    return update
