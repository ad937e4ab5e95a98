"""gancli train: parse the flags, then train through the API (gancli.api.training), which checks and runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import click

from ..engine.config import TrainConfig
from ..errors import GancliError
from .common import registry_for_command

_DEFAULTS = TrainConfig()


def _default(name: str) -> str:
    return f"(default {getattr(_DEFAULTS, name)})"


EXAMPLES = """

\b
Examples:
  gancli train                                   DCGAN + BCE on the built-in digits
  gancli train --recipe mlp-grid                 a measured preset (gancli list recipes); flags still override
  gancli train --arch dcgan --loss wgan-gp --steps 3000
  gancli train --loss wgan --lipschitz weight-clip --lipschitz-opt clip=0.02
  gancli train --arch mlp --data grid --steps 5000
  gancli train --g-reg path-length --g-reg-opt weight=2   lazy path-length regularisation of G
  gancli train --data folder:~/pictures --data-opt size=64
  gancli train --data-opt fraction=0.1 --augment color,translation,cutout --augment-p auto
  gancli train --resume runs/0001 --steps 4000    continue a run
  gancli train --nproc-per-node 4 --steps 4000   data-parallel on 4 processes (torchrun)
  torchrun --nproc-per-node 4 -m gancli train    the same, launched by torchrun (multi-node too)
"""


@click.command(help="Train a GAN and write a run directory (config, metrics, sample grids, checkpoints)." + EXAMPLES)
@click.option("--recipe", metavar="NAME",
              help="start from this named preset of these options, for its dataset (see `gancli list recipes`); "
                   "--config and flags override it, option by option")
@click.option("--arch", help=f"architecture name, see `gancli list architectures` {_default('arch')}")
@click.option("--loss", help=f"loss name, see `gancli list losses` {_default('loss')}")
@click.option("--lipschitz", multiple=True,
              help="Lipschitz enforcer (repeatable); `none` for none (default: the loss's own, if any)")
@click.option("--data", help="dataset: NAME, NAME:PATH (mnist:DIR, fashion-mnist:DIR, folder:DIR) or a folder "
              f"{_default('data')}")
@click.option("--arch-opt", multiple=True, metavar="KEY=VALUE", help="architecture option (repeatable)")
@click.option("--loss-opt", multiple=True, metavar="KEY=VALUE", help="loss option (repeatable)")
@click.option("--lipschitz-opt", multiple=True, metavar="[NAME.]KEY=VALUE", help="enforcer option (repeatable)")
@click.option("--data-opt", multiple=True, metavar="KEY=VALUE", help="dataset option (repeatable)")
@click.option("--g-reg", multiple=True, metavar="NAME",
              help="regulariser of the generator, its term added to G's loss (repeatable; path-length, see "
                   "`gancli list generator-regularizers`) (default none)")
@click.option("--g-reg-opt", multiple=True, metavar="[NAME.]KEY=VALUE", help="generator regularizer option "
              "(repeatable)")
@click.option("--augment", metavar="NAME,...",
              help="augment D's real and generated inputs alike with these augmentations, in order (DiffAugment: "
                   "color,translation,cutout; see `gancli list augmentations`) (default none)")
@click.option("--augment-opt", multiple=True, metavar="[NAME.]KEY=VALUE", help="augmentation option (repeatable)")
@click.option("--augment-p", metavar="auto|P",
              help="probability of each augmentation per image: auto = ADA's adaptive p, starting at 0 and steered "
                   f"by D's overfitting on real images; a number fixes it (1 = DiffAugment) {_default('augment_p')}")
@click.option("--ada-target", type=float,
              help=f"adaptive p: the E[sign(D(real))] it steers towards {_default('ada_target')}")
@click.option("--ada-kimg", type=float,
              help="adaptive p: thousands of real images over which p can move from 0 to 1 "
                   f"(StyleGAN2-ADA: 500 for runs of millions of images) {_default('ada_kimg')}")
@click.option("--conditional/--unconditional", default=None, help="condition G and D on the dataset's classes")
@click.option("--ema", type=float, help="keep an exponential moving average of G's weights with this decay "
              "(e.g. 0.999) and sample from it (default off)")
@click.option("--pack", type=int, help="PacGAN: the discriminator judges this many samples at once (default 1)")
@click.option("--steps", type=int, help=f"generator steps to train to {_default('steps')}")
@click.option("--batch-size", type=int, help=_default("batch_size"))
@click.option("--z-dim", type=int, help=f"latent size {_default('z_dim')}")
@click.option("--n-critic", type=int, help="discriminator steps per generator step (default: the loss's)")
@click.option("--lr", type=float, help=f"Adam learning rate for G and D {_default('lr')}")
@click.option("--lr-decay", type=click.Choice(["none", "linear"]),
              help="linear: both learning rates fall linearly to 0 at the last step (default none)")
@click.option("--beta1", type=float, help=_default("beta1"))
@click.option("--beta2", type=float, help=_default("beta2"))
@click.option("--schedule", multiple=True, metavar="NAME=START:END[,warmup=N][,steps=N]",
              help="move lr, beta2, gamma (r1/r2), ema (half-life in images) or augment-p from START to END on a half "
                   "cosine (linear:START:END for a line) by step N (default: --steps), after a warm-up from 0 "
                   "(repeatable); it replaces --lr, --beta2, --ema or --augment-p (docs/training.md, Schedules)")
@click.option("--seed", type=int, help=_default("seed"))
@click.option("--device", help="auto, cpu, cuda or cuda:N (default auto)")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16"]),
              help="bf16: forward passes in bfloat16 autocast with channels-last images, weights and optimizer in "
                   "float32, 1.6-3x the speed on a CPU with bf16 instructions; fp32: the plain loop's exact "
                   "arithmetic; auto: bf16 for images where the hardware has it, else fp32 (docs/performance.md; "
                   "default auto)")
@click.option("--compile/--no-compile", "compile", default=None,
              help="torch.compile the networks: tens of seconds to start, then faster steps (default off)")
@click.option("--out", type=click.Path(), help="run directory (default: the next runs/NNNN)")
@click.option("--resume", type=click.Path(), help="continue the run in this directory from its last checkpoint")
@click.option("--config", "config_file", type=click.Path(), help="TOML file of these settings (flags win; it may "
              "name a recipe, which it overrides)")
@click.option("--sample-every", type=int, help=f"steps between sample grids {_default('sample_every')}")
@click.option("--checkpoint-every", type=int, help=f"steps between checkpoints {_default('checkpoint_every')}")
@click.option("--log-every", type=int, help=f"steps between metrics lines {_default('log_every')}")
@click.option("--logger", "--log", "log", multiple=True, metavar="NAME", help="also send the figures, sample grids "
              "and generator to this logger (repeatable): tensorboard, or a plugin's (`gancli list loggers`); "
              "metrics.jsonl is always written. Under torchrun spell it --logger: torchrun takes --log for its own")
@click.option("--log-opt", multiple=True, metavar="[NAME.]KEY=VALUE", help="logger option (repeatable)")
@click.option("--keep-checkpoints", type=int, help=f"training checkpoints kept {_default('keep_checkpoints')}")
@click.option("--on-nonfinite", type=click.Choice(["stop", "rollback"]),
              help="when a loss becomes NaN/inf: stop (keeping the last good checkpoint), or roll back to it and "
                   "halve the learning rate, up to 3 times (default stop)")
@click.option("--diagnostics", metavar="on|off|NAME,...",
              help="training diagnostics: gradient norm, saturation, diversity, coverage, overfitting, balance, "
                   "logged with the metrics, with alarms and advice (docs/diagnostics.md; `gancli list "
                   "diagnostics`) (default on)")
@click.option("--diagnostics-opt", multiple=True, metavar="NAME.KEY=VALUE",
              help="diagnostic option (repeatable): interval, threshold, patience...")
@click.option("--diagnostics-every", type=int, metavar="N",
              help="steps between diagnostics, for all of them (default 0: each one's own interval, 50-100)")
@click.option("--on-collapse", type=click.Choice(["continue", "stop"]),
              help="when a diagnostic's alarm fires (mode collapse, vanishing gradients, overfitting): continue "
                   "with the advice printed, or stop cleanly with a checkpoint (default continue)")
@click.option("--d-lr-scale", type=float, metavar="X",
              help=f"the discriminator's learning rate is --lr times X {_default('d_lr_scale')}")
@click.option("--nproc-per-node", type=int, metavar="N",
              help="train data-parallel on N processes of this machine (one per GPU, or CPU processes), launched "
                   "through torchrun; --batch-size is the global batch")
@click.option("--dry-run", is_flag=True, help="print the resolved configuration and exit")
@click.pass_context
def train(ctx, config_file, out, resume, dry_run, nproc_per_node, **flags):
    from ..api.training import new_plan, next_run, resume_plan

    registry = registry_for_command()
    given = {name: value for name, value in flags.items() if value not in (None, ())}
    for name in ("lipschitz", "g_reg"):
        if name in given:
            given[name] = list(given[name])
    if resume:  # --config and --out are refused too: a resumed run keeps its own
        fixed = {name: value for name, value in (("config", config_file), ("out", out)) if value}
        plan = resume_plan(resume, {**given, **fixed}, registry)
        run_dir = resume
    else:
        plan = new_plan(given, config_file, registry)
        run_dir = out or next_run()
    if dry_run:
        click.echo(json.dumps({"run_dir": run_dir, "resume": bool(resume), **plan.as_json()}, indent=2))
        return
    if nproc_per_node is not None:
        _launch(ctx, nproc_per_node, run_dir, new_run=not resume)
        return
    _run(plan, run_dir, bool(resume))


def _launch(ctx, nproc: int, run_dir: str, new_run: bool) -> None:
    """Run this same command under torchrun on ``nproc`` local processes, with the run directory fixed."""
    if nproc < 1:
        raise GancliError(f"--nproc-per-node must be at least 1, got {nproc}")
    if "WORLD_SIZE" in os.environ:
        raise GancliError("--nproc-per-node is for a plain `gancli train`; under torchrun leave it out")
    args = _command_line(ctx, skip=("nproc_per_node", "out"))
    if new_run:
        args += ["--out", run_dir]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
               "-m", "gancli", "train", *args]
    click.echo(f"launching {nproc} processes: torchrun --standalone --nproc-per-node {nproc} -m gancli train "
               f"{' '.join(args)}", err=True)
    process = subprocess.Popen(command)
    received = []

    def forward(signum, frame):  # Ctrl-C already reaches torchrun through the terminal; SIGTERM may not
        received.append(signum)
        if signum == signal.SIGTERM:
            process.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = process.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        click.echo(f"interrupted; continue with: gancli train --resume {run_dir} --nproc-per-node {nproc}",
                   err=True)
        raise SystemExit(130)
    if code:
        raise SystemExit(code)


def _command_line(ctx, skip: tuple) -> list:
    """The options this command was given, as arguments again (``skip`` left out)."""
    args = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.name in skip or value is None or value == () or value is False:
            continue
        if param.is_flag and param.secondary_opts:  # --conditional/--unconditional
            args.append(param.opts[0] if value else param.secondary_opts[0])
        elif param.is_flag:
            args.append(param.opts[0])
        else:
            for item in value if param.multiple else (value,):
                args += [param.opts[0], str(item)]
    return args


def _run(plan, run_dir: str, resume: bool) -> None:
    from ..api.progress import RichReporter
    from ..api.training import execute

    run = execute(plan, run_dir, resume, progress=RichReporter(), hint=f"gancli train --resume {run_dir}")
    if run is None:  # another rank of torchrun: rank 0 reports
        return
    if run.interrupted is not None:
        raise SystemExit(130)
    record = run.last
    summary = ", ".join(f"{k} {v}" for k, v in record.items() if k != "step")
    click.echo(f"done: step {record['step']}{': ' + summary if summary else ''}", err=True)
    click.echo(f"samples in {os.path.join(run.path, 'samples')}; draw more with: gancli sample {run.path} -n 64 "
               f"-o grid.png", err=True)
