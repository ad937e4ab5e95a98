"""Run under torchrun (2 processes): the gradient penalty's double backward through DDP against one process.

Every rank builds the same critic and the same global batch; each rank computes the WGAN critic loss plus the
gradient penalty on its half through DistributedDataParallel (gancli's own wrapper and enforcer), with the
penalty's interpolation points drawn from seed 100 + rank. Rank 0 then computes, without DDP, the loss of the
whole global batch with the same interpolation points and compares the gradients; it writes the largest
difference, and the difference of its own un-averaged gradients as a control, to the JSON file argv[1].
"""

import copy
import json
import sys

import torch

from gancli.components import DataSpec
from gancli.engine import distributed
from gancli.options import resolve, to_kwargs
from gancli.plugins import get_registry


def component(kind, name, options):
    entry = get_registry().get(kind, name)
    return entry.cls(**to_kwargs(entry.cls.Options, resolve(entry.cls.Options, options, name)))


def critic_loss(D, loss, enforcer, real, fake, seed):
    value = loss.discriminator_loss(D(real), D(fake))
    torch.manual_seed(seed)
    return value + enforcer.penalty(lambda x: D(x), real, fake)


def main(out):
    world = distributed.join("cpu")
    torch.manual_seed(0)
    spec = DataSpec(kind="image", shape=(1, 16, 16))
    D = component("architecture", "dcgan", {"width": 4}).build_discriminator(spec, 0, batch_independent=True)
    reference = copy.deepcopy(D)
    loss = component("loss", "wgan", {})
    enforcer = component("lipschitz", "gradient-penalty", {"lambda": 10.0})
    real, fake = torch.rand(8, 1, 16, 16) * 2 - 1, torch.rand(8, 1, 16, 16) * 2 - 1

    ddp = distributed.wrap(D, torch.device("cpu"), world)
    critic_loss(ddp, loss, enforcer, world.shard(real), world.shard(fake), 100 + world.rank).backward()
    if world.is_main:
        # The global batch's loss: the critic loss on all 8 and the mean of the two halves' penalties (each half
        # with its rank's interpolation points) is the penalty of the whole batch.
        halves = [slice(0, 4), slice(4, 8)]
        total = loss.discriminator_loss(reference(real), reference(fake))
        for rank, half in enumerate(halves):
            torch.manual_seed(100 + rank)
            total = total + enforcer.penalty(lambda x: reference(x), real[half], fake[half]) / 2
        total.backward()
        local = copy.deepcopy(reference)
        local.zero_grad()
        critic_loss(local, loss, enforcer, real[halves[0]], fake[halves[0]], 100).backward()
        pairs = list(zip(D.parameters(), reference.parameters(), local.parameters()))
        result = {"max_diff": max((a.grad - b.grad).abs().max().item() for a, b, _ in pairs),
                  "control_diff": max((c.grad - b.grad).abs().max().item() for _, b, c in pairs),
                  "grad_scale": max(b.grad.abs().max().item() for _, b, _ in pairs),
                  "parameters": sum(p.numel() for p in D.parameters())}
        with open(out, "w") as fh:
            json.dump(result, fh)
    world.barrier()  # leave together: a rank tearing the group down while another works can abort in gloo
    distributed.leave()


if __name__ == "__main__":
    main(sys.argv[1])
