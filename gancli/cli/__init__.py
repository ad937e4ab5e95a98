"""The gancli command line. Commands are imported when used, so `gancli --help` never loads torch."""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import GancliError

COMMANDS = {
    "train": "gancli.cli.train:train",
    "sample": "gancli.cli.sample:sample",
    "list": "gancli.cli.list_cmd:list_components",
    "plugins": "gancli.cli.plugins_cmd:plugins",
    "evaluate": "gancli.cli.evaluate:evaluate",
    "report": "gancli.cli.report:report",
    "diagnose": "gancli.cli.diagnose:diagnose",
    "export": "gancli.cli.export:export",
    "generate": "gancli.cli.generate:generate",
    "classifier": "gancli.cli.classifier:classifier",
    "directions": "gancli.cli.directions:directions",
    "edit": "gancli.cli.edit:edit",
}


class LazyGroup(click.Group):
    """A group whose subcommands live in their own modules, imported on first use."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GancliError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except ModuleNotFoundError as exc:
            if exc.name != "torch":
                raise
            click.echo("Error: this command needs PyTorch, which is not installed: pip install torch "
                       "(only `gancli generate` works without it)", err=True)
            ctx.exit(1)
        except (RuntimeError, MemoryError) as exc:
            from ..engine.memory import requested

            asked = requested(exc)
            if asked is None:
                raise
            click.echo(f"Error: out of memory: the command asked for {asked}; ask for less at once (a smaller -n "
                       "or --batch-size)", err=True)
            ctx.exit(1)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gancli", prog_name="gancli")
@click.option("--plugins-dir", "plugins_dirs", multiple=True, metavar="DIR",
              type=click.Path(exists=True, file_okay=False),
              help="also load every *.py file in DIR as a one-file plugin (repeatable; the environment "
                   "variable GANCLI_PLUGINS_DIR does the same)")
def cli(plugins_dirs):
    """gancli: train, sample and inspect Generative Adversarial Networks.

    \b
    Examples:
      gancli train --arch dcgan --loss wgan-gp     train on the built-in digits
      gancli sample runs/0001 -n 64 -o grid.png    draw from a trained generator
      gancli evaluate runs/0001                    quality figures beside the real-data floor
      gancli export runs/0001 --onnx g.onnx        ONNX / TorchScript / .pt2, verified against torch
      gancli generate g.onnx -n 64 -o grid.png     draw from an ONNX export, without torch
      gancli edit pretrained:faces --direction hat steer samples along a named latent direction
      gancli list losses                           what can be combined, and its options
      gancli --plugins-dir ./mine list losses      with the one-file plugins in ./mine
    """
    if plugins_dirs:
        from ..plugins import use_plugin_dirs

        use_plugin_dirs(plugins_dirs)


def main():
    cli(prog_name="gancli")


if __name__ == "__main__":
    sys.exit(main())
