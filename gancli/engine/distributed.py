"""Data-parallel training over torch.distributed, one process per device, as torchrun launches it.

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE (and the rendezvous address); gancli reads them, joins the
process group (gloo on CPU, NCCL on CUDA) and wraps G and D in DistributedDataParallel, which averages
gradients across ranks during backward. The rules that keep ranks in step:

- ``--batch-size`` is the global batch: every rank draws the same global batch of indices and noise (same
  seed, same RNG stream) and keeps its own slice, so the data are sharded per rank and the random state of
  every rank equals rank 0's, which is what rank 0's checkpoint records. A run can therefore resume on
  another number of processes.
- Randomness inside a Lipschitz penalty (the gradient penalty's interpolation points) is drawn per rank from a
  seed derived from (seed, discriminator step, rank), outside the shared stream.
- Rank 0 alone writes run.json, metrics, sample grids and checkpoints.
- Per-step losses, a stop request (SIGINT/SIGTERM) and non-finite flags travel in one small all-reduce per
  step, so every rank stops at the same step.
"""

from __future__ import annotations

import datetime
import gc
import os
from dataclasses import dataclass

import torch

from ..errors import GancliError


@dataclass(frozen=True)
class World:
    """Where this process stands: ``rank`` of ``size`` processes, ``local_rank`` on its node."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def active(self) -> bool:
        return self.size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous slice of a global batch (the batch size is a multiple of ``size``)."""
        if not self.active:
            return batch
        part = batch.shape[0] // self.size
        return batch[self.rank * part:(self.rank + 1) * part]

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over ranks, in place."""
        if self.active:
            torch.distributed.all_reduce(tensor)
        return tensor

    def barrier(self) -> None:
        if self.active:
            torch.distributed.barrier()

    def agree_text(self, text: str) -> str:
        """Rank 0's ``text`` on every rank (a run directory chosen by rank 0, for instance). No pickle."""
        if not self.active:
            return text
        device = _collective_device()
        data = torch.tensor(list(text.encode()), dtype=torch.uint8, device=device)
        length = torch.tensor([data.numel()], device=device)
        torch.distributed.broadcast(length, 0)
        if not self.is_main:
            data = torch.empty(int(length), dtype=torch.uint8, device=device)
        torch.distributed.broadcast(data, 0)
        return bytes(data.cpu().tolist()).decode()

    def agree_error(self, message: str | None) -> None:
        """Raise ``message`` (or another rank's) as a GancliError on every rank, or return when no rank failed."""
        if not self.active:
            if message:
                raise GancliError(message)
            return
        failed = torch.tensor([float(bool(message))], device=_collective_device())
        torch.distributed.all_reduce(failed)
        if failed.item():
            raise GancliError(message or "another process of this distributed run failed; see its error above")


SINGLE = World()


def world_from_env() -> World:
    """The World described by torchrun's variables; a single process when they are absent."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise GancliError("WORLD_SIZE, RANK and LOCAL_RANK must be whole numbers (torchrun sets them)") from None
    if size < 1 or not 0 <= rank < size:
        raise GancliError(f"RANK {rank} is outside WORLD_SIZE {size}; launch with torchrun")
    return World(rank=rank, size=size, local_rank=local)


def current() -> World:
    """The World of the joined process group, or a single process."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return World(rank=torch.distributed.get_rank(), size=torch.distributed.get_world_size(),
                     local_rank=int(os.environ.get("LOCAL_RANK", "0")))
    return SINGLE


def device_for(device_name: str, world: World) -> str:
    """The device this rank trains on: CUDA device LOCAL_RANK under torchrun when CUDA is asked for."""
    wants_cuda = device_name.startswith("cuda") or (device_name == "auto" and torch.cuda.is_available())
    if world.active and wants_cuda:
        if device_name.startswith("cuda:"):
            raise GancliError("--device cuda:N does not combine with torchrun: each process takes the GPU numbered "
                              "by its LOCAL_RANK; use --device cuda")
        if world.local_rank >= torch.cuda.device_count():
            raise GancliError(f"process {world.local_rank} on this node has no GPU ({torch.cuda.device_count()} "
                              "visible); start at most one process per GPU")
        return f"cuda:{world.local_rank}"
    return device_name


def join(device_name: str, timeout_s: float = 1800) -> World:
    """Join torchrun's process group (when launched by it); returns this process's World."""
    world = world_from_env()
    if not world.active or current().active:
        return current() if world.active else SINGLE
    if not torch.distributed.is_available():
        raise GancliError("this PyTorch build has no torch.distributed; train on one process")
    device = device_for(device_name, world)
    backend = "nccl" if device.startswith("cuda") else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(torch.device(device))
    torch.distributed.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return current()


def leave() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        # Free what still holds the group (DDP reducers in reference cycles) while the interpreter is whole: a
        # gloo group left to die at interpreter shutdown can abort the process after training has finished.
        gc.collect()
        torch.distributed.destroy_process_group()


def wrap(module: torch.nn.Module, device: torch.device, world: World):
    """``module`` for training: wrapped in DistributedDataParallel when several processes train.

    Buffers (BatchNorm running statistics, spectral-norm power-iteration vectors) are broadcast from rank 0 at
    every forward, so they stay identical on every rank and rank 0's checkpoint holds them. Batch statistics
    themselves are per rank (see docs/distributed.md).
    """
    if not world.active:
        return module
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=True)


def penalty_seed(seed: int, d_step: int, rank: int) -> int:
    """The seed of one rank's penalty randomness at one discriminator step (distinct, reproducible)."""
    return (seed * 1_000_003 + d_step * 7_919 + rank * 104_729 + 1) % (2 ** 63)


def _collective_device() -> torch.device:
    backend = torch.distributed.get_backend()
    return torch.device("cuda", torch.cuda.current_device()) if backend == "nccl" else torch.device("cpu")
