"""Run under torchrun (2 processes): path-length regularisation of G through DDP.

``grad OUT``: every rank builds the same toy style-based generator and the same global batch of latents; each rank
computes the path-length term on its half (alone, and plus a stand-in for G's loss, the mean image) through
gancli's wrapper (GeneratorCalls in DistributedDataParallel, seen as a RoutedGenerator behind LatentSpaces), with
the term's randomness from seed 100 + rank, and compares DDP's averaged gradient with one process's mean of the
two halves' losses. The control, "bypassed", hands the regulariser the plain module (as calling
``G.module.mapping`` would): with nothing else going through DDP's forward, its gradient is not averaged. Rank 0
writes the largest differences to OUT (JSON).

``train OUT RUN CONFIG_JSON``: trains with gancli's trainer on the TrainConfig values CONFIG_JSON; every rank
writes the CRC of its generator, discriminator and regulariser state to OUT.RANK.json.
"""

import copy
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from gancli.default_plugins.generator_regularizers import PathLengthRegularizer  # noqa: E402
from gancli.engine import checkpoint, distributed  # noqa: E402
from gancli.engine.wrappers import GeneratorCalls, RoutedGenerator  # noqa: E402
from gancli.latents import LatentSpaces  # noqa: E402
from helpers import toy_style_generator  # noqa: E402


def loss(G, spaces, z, seed, with_loss):
    """The path-length term on ``z`` (its randomness from ``seed``), plus a stand-in for G's loss if asked."""
    torch.manual_seed(seed)
    term = PathLengthRegularizer(interval=1).penalty(G, spaces, z, None, step=0)
    return term + G(z).mean() if with_loss else term


def grad(out):
    """Gradients through DDP against one process's, for the term alone and with the loss, routed and bypassed."""
    world = distributed.join("cpu")
    G0 = toy_style_generator().train()
    z = torch.randn(8, G0.z_dim, generator=torch.Generator().manual_seed(1))
    halves = [slice(0, 4), slice(4, 8)]
    result = {}
    for case, with_loss, routed in (("alone", False, True), ("with_loss", True, True), ("bypassed", False, False)):
        G = copy.deepcopy(G0)
        ddp = distributed.wrap(GeneratorCalls(G), torch.device("cpu"), world)
        view = RoutedGenerator(ddp, G) if routed else G  # bypassed: the plain module, as G.module.mapping would be
        loss(RoutedGenerator(ddp, G), LatentSpaces(view, G.z_dim), world.shard(z), 100 + world.rank,
             with_loss).backward()
        reference = copy.deepcopy(G0)
        total = sum(loss(reference, LatentSpaces(reference, G.z_dim), z[half], 100 + rank, with_loss) / 2
                    for rank, half in enumerate(halves))
        total.backward()
        pairs = list(zip(G.parameters(), reference.parameters()))
        result[case] = max((a.grad - b.grad).abs().max().item() for a, b in pairs)
        result["grad_scale_" + case] = max(b.grad.abs().max().item() for _, b in pairs)
    if world.is_main:
        with open(out, "w") as fh:
            json.dump(result, fh)
    world.barrier()
    distributed.leave()


def train(out, run_dir, config_json):
    from gancli.engine.config import build_config
    from gancli.engine.plan import make_plan
    from gancli.engine.trainer import Trainer
    from gancli.plugins import get_registry

    world = distributed.join("cpu")
    plan = make_plan(build_config(json.loads(config_json)), get_registry())
    if world.is_main:
        os.makedirs(run_dir, exist_ok=True)
    world.barrier()
    trainer = Trainer(plan, run_dir)
    trainer.loggers.start(run_dir, plan.as_json(), trainer.step)  # metrics.jsonl, as gancli train writes it
    trainer.run()
    trainer.loggers.finish()
    tensors = {f"G.{k}": v for k, v in trainer.G.state_dict().items()}
    tensors.update({f"D.{k}": v for k, v in trainer.D.state_dict().items()})
    for choice, reg in zip(plan.g_reg, trainer.g_regs):
        tensors.update({f"g_reg.{choice.entry.name}.{k}": v for k, v in reg.state().items()})
    with open(f"{out}.{world.rank}.json", "w") as fh:
        json.dump({"crc": checkpoint.crc32(tensors), "step": trainer.step,
                   "state": {k: float(v) for k, v in tensors.items() if k.startswith("g_reg.")}}, fh)
    world.barrier()
    distributed.leave()


if __name__ == "__main__":
    {"grad": grad, "train": train}[sys.argv[1]](*sys.argv[2:])
