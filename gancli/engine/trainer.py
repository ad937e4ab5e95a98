"""The training loop: explicit discriminator and generator phases over a resolved Plan.

Losses, Lipschitz enforcers and generator regularisers are pure components; the trainer owns every forward
pass, backward pass and optimizer step. Under torchrun it trains data-parallel (see distributed.py); every step's health is
checked without stalling the device (see health.py).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import signal
import threading
import time
from dataclasses import replace

import torch

from .. import __version__
from ..augment.ada import AugmentProbability
from ..augment.pipeline import AugmentPipeline
from ..components import LipschitzEnforcer
from ..diagnostics.monitor import Monitor
from ..errors import GancliError
from ..latents import LatentSpaces
from . import checkpoint, distributed, memory, runs, speed
from .health import LOGGED, MAX_ROLLBACKS, Checks, StepMonitor, explain, format_values
from .images import save_samples
from .loggers import LoggerSet
from .plan import Plan
from .schedules import Scheduler
from .state import BatchSampler, optimizer_tensors, restore_optimizer, restore_rng, rng_tensors
from .wrappers import GeneratorCalls, GeneratorEMA, PackedDiscriminator, RoutedGenerator, packed_shape


class TrainingInterrupted(Exception):
    """SIGINT (Ctrl-C) or SIGTERM during training: the step finished and a checkpoint was written at ``step``."""

    def __init__(self, step: int):
        super().__init__(step)
        self.step = step


class Reporter:
    """Progress callbacks; the CLI supplies one that draws a progress bar. This one stays silent."""

    def start(self, total: int, step: int) -> None: ...
    def update(self, step: int, record: dict | None) -> None: ...
    def message(self, text: str) -> None: ...
    def finish(self) -> None: ...


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise GancliError(f"--device {name} asked for, but this PyTorch has no CUDA device; use --device cpu")
    return torch.device(name)


class Trainer:
    def __init__(self, plan: Plan, run_dir: str, reporter: Reporter | None = None):
        self.plan, self.run_dir = plan, run_dir
        self.reporter = reporter or Reporter()
        config = plan.config
        self.world = world = distributed.current()
        self.device = pick_device(distributed.device_for(config.device, world))
        if config.batch_size % (world.size * config.pack):
            raise GancliError(f"--batch-size {config.batch_size} is the global batch: it must be a multiple of "
                              f"{world.size} processes x --pack {config.pack}")
        torch.manual_seed(config.seed)

        self.data = plan.data.build().load()
        spec = self.spec = self.data.spec
        # auto becomes what it chose before run.json records it, so a resumed run keeps the arithmetic
        config.precision = speed.resolve_precision(config.precision, self.device, spec.kind)
        for note in self.data.notes:
            self.reporter.message(note)
        if not torch.isfinite(self.data.x).all():
            raise GancliError(f'dataset "{plan.data.entry.name}" gave non-finite values (NaN or inf); fix the data')
        arch = plan.arch.build()
        if spec.kind not in arch.data_kinds:
            raise GancliError(f'architecture "{plan.arch.entry.name}" handles {", ".join(arch.data_kinds)} data, '
                              f'but dataset "{plan.data.entry.name}" gives {spec.kind}; try --arch mlp')
        self.num_classes = spec.num_classes if config.conditional else 0
        if config.conditional and (self.data.labels is None or not self.num_classes):
            raise GancliError(f'--conditional needs a labelled dataset; "{plan.data.entry.name}" has no labels')

        self.loss = plan.loss.build()
        self.enforcers = [choice.build() for choice in plan.lipschitz]
        self.has_penalty = any(type(e).penalty is not LipschitzEnforcer.penalty for e in self.enforcers)
        batch_independent = any(e.batch_independent for e in self.enforcers)
        self.G = arch.build_generator(spec, config.z_dim, self.num_classes).to(self.device)
        self.g_regs = [choice.build() for choice in plan.g_reg]
        self._check_generator_regularizers()
        if config.pack > 1:
            packed = replace(spec, shape=packed_shape(spec.shape, config.pack))
            D = PackedDiscriminator(arch.build_discriminator(packed, 0, batch_independent), config.pack)
        else:
            D = arch.build_discriminator(spec, self.num_classes, batch_independent=batch_independent)
        for enforcer in self.enforcers:
            D = enforcer.prepare(D)
        self.D = D.to(self.device)
        speed.memory_format(config.precision, self.G, self.D)  # channels-last under bf16
        # The wrapped networks average gradients over ranks; the plain ones are what checkpoints hold. With
        # generator regularisers, G is wrapped as GeneratorCalls, so that their calls of mapping and synthesis
        # go through DDP's forward too, and left uncompiled (their double backward cannot go through it).
        G_train = distributed.wrap(GeneratorCalls(self.G) if self.g_regs else self.G, self.device, world)
        self.G_train = G_train if self.g_regs else speed.compiled(G_train, config.compile)
        routed = RoutedGenerator(self.G_train, self.G)
        self.g_reg_G, self.g_reg_spaces = routed, LatentSpaces(routed, config.z_dim, self.num_classes, self.device)
        self.D_train = distributed.wrap(self.D, self.device, world)
        if not self.has_penalty:  # a penalty's double backward cannot go through a compiled network
            self.D_train = speed.compiled(self.D_train, config.compile)
        self.G_sample = speed.compiled(self.G, config.compile)  # the critic steps' generated batches
        betas = (config.beta1, config.beta2)
        self.opt_G = speed.adam(self.G.parameters(), config.lr, betas)
        self.opt_D = speed.adam(self.D.parameters(), config.lr * config.d_lr_scale, betas)
        scheduled_ema = "ema" in config.schedule  # its decay set each step, from 0 (no ramp)
        self.ema = GeneratorEMA(self.G, config.ema, ramp=not scheduled_ema) if config.ema or scheduled_ema else None

        self.x = speed.memory_format(config.precision, self.data.x.to(self.device))
        self.labels = self.data.labels.to(self.device) if self.num_classes else None
        self.sampler = BatchSampler(len(self.x), config.batch_size, config.seed)
        self.step, self.elapsed = 0, 0.0
        self.d_steps = 0  # discriminator steps over the whole run (lazy regularisers count them)
        self.lr_scale, self.rollbacks = 1.0, 0  # --on-nonfinite rollback halves the rate each time
        self.fixed_z, self.fixed_labels = self._fixed_inputs()
        self.augment, self.augment_p = self._augmentation()
        self.schedules = Scheduler(config, (self.opt_G, self.opt_D), self.enforcers, self.ema, self.augment_p,
                                   lr_scales=(1.0, config.d_lr_scale))
        self.loggers = LoggerSet(plan.log if world.is_main else [], self.reporter)  # rank 0 logs
        self.outputs: dict = {}  # D's outputs of the last step, detached, for the diagnostics
        self.diagnostics = Monitor(self) if plan.diagnostics else None
        for note in self.diagnostics.notes() if self.diagnostics and world.is_main else ():
            self.reporter.message(note)

    def _check_generator_regularizers(self) -> None:
        """Refuse a regulariser the data or the generator cannot serve, with one line."""
        spaces = LatentSpaces(self.G, self.plan.config.z_dim, self.num_classes).spaces
        for choice, reg in zip(self.plan.g_reg, self.g_regs):
            name = choice.entry.name
            if self.spec.kind not in reg.data_kinds:
                raise GancliError(f'--g-reg {name} handles {", ".join(reg.data_kinds)} data, but dataset '
                                  f'"{self.plan.data.entry.name}" gives {self.spec.kind}')
            for space in reg.needs:
                if space not in spaces:
                    raise GancliError(f'--g-reg {name} needs a generator with a {space.upper()} space (a mapping '
                                      f'network); architecture "{self.plan.arch.entry.name}" builds one with a Z '
                                      "space only: choose another --arch or regulariser")

    def _augmentation(self):
        """The augmentations of D's inputs and their probability (fixed, or ADA's adaptive p from 0)."""
        plan, config = self.plan, self.plan.config
        if plan.augment and self.spec.kind != "image":
            raise GancliError(f'--augment transforms images; dataset "{plan.data.entry.name}" gives {self.spec.kind}')
        pipeline = AugmentPipeline([choice.build() for choice in plan.augment], self.world.shard, self.world.size)
        fixed = config.fixed_augment_p
        probability = AugmentProbability(fixed or 0.0, self.device, adaptive=config.adaptive_augment_p,
                                         target=config.ada_target, kimg=config.ada_kimg,
                                         images_per_step=config.batch_size * plan.n_critic)
        return pipeline, probability

    def _augmented(self, x):
        """What D sees: ``x`` through the augmentations (the same for real and generated batches), or ``x``."""
        return self.augment(x, self.augment_p.p) if self.augment else x

    # ---- the two phases -------------------------------------------------------------------------
    def _real_batch(self):
        """This rank's slice of the global batch: every rank draws the same indices and keeps its part."""
        idx = self.world.shard(self.sampler.next()).to(self.device)
        return self.x[idx], (self.labels[idx] if self.labels is not None else None)

    def _noise(self):
        """This rank's slice of the global batch's noise (drawn whole, so every rank's RNG stays in step)."""
        z = torch.randn(self.plan.config.batch_size, self.plan.config.z_dim, device=self.device)
        return self.world.shard(z)

    def _penalty_rng(self, generator: bool = False):
        """Under torchrun each rank's penalty draws its own randomness, outside the stream all ranks share.

        Discriminator penalties are seeded by the discriminator step, generator regularisers by -1 - the
        generator step, so the two never share a seed."""
        if not self.world.active:
            return contextlib.nullcontext()
        step = -1 - self.step if generator else self.d_steps
        seed = distributed.penalty_seed(self.plan.config.seed, step, self.world.rank)
        devices = [self.device] if self.device.type == "cuda" else []
        return _seeded(seed, devices)

    def discriminator_step(self, checks: Checks, phase: str = ""):
        real, labels = self._real_batch()
        with torch.no_grad():
            fake = self.G_sample(self._noise(), labels)
        checks.add("generator output" + phase, fake)
        self.opt_D.zero_grad(set_to_none=True)
        # D sees (and any penalty is taken at) the augmented batches: the inputs D is trained on.
        real_in, fake_in = self._augmented(real), self._augmented(fake)
        real_out, fake_out = self.D_train(real_in, labels), self.D_train(fake_in, labels)
        if self.augment:
            self.augment_p.observe(real_out)
        checks.add("D(real)" + phase, real_out)
        checks.add("D(fake)" + phase, fake_out)
        self.outputs.update(real=real_out.detach(), fake=fake_out.detach())
        d_loss = self.loss.discriminator_loss(real_out, fake_out)
        checks.add("d_loss" + phase, d_loss)
        penalty = torch.zeros((), device=self.device)
        with self._penalty_rng():
            for enforcer in self.enforcers:
                term = enforcer.penalty(lambda x: self.D_train(x, labels), real_in, fake_in, step=self.d_steps)
                if term is not None:
                    penalty = penalty + term
        checks.add("penalty" + phase, penalty)
        (d_loss + penalty).backward()
        self.opt_D.step()
        self.d_steps += 1
        for enforcer in self.enforcers:
            enforcer.after_step(self.D)
        return d_loss.detach(), penalty.detach(), real_out.detach().mean(), fake_out.detach().mean(), real, labels

    def generator_step(self, real, labels, checks: Checks):
        self.D.requires_grad_(False)  # the generator step needs no gradients for D's weights
        self.opt_G.zero_grad(set_to_none=True)
        z = self._noise()
        fake = self.G_train(z, labels)
        checks.add("generator output @generator step", fake)
        fake_out = self.D(self._augmented(fake), labels)
        self.outputs["g_fake"] = fake_out.detach()
        real_out = None
        if self.loss.generator_uses_real:
            with torch.no_grad():
                real_out = self.D(self._augmented(real), labels)
        g_loss = self.loss.generator_loss(fake_out, real_out)
        checks.add("g_loss", g_loss)
        g_penalty = self._generator_penalty(z, labels)
        checks.add("g_penalty", g_penalty)
        (g_loss + g_penalty).backward()
        self.opt_G.step()
        if self.ema is not None:
            self.ema.update(self.G)
        self.D.requires_grad_(True)
        self._average_regularizer_state()
        return g_loss.detach(), g_penalty.detach()

    def _generator_penalty(self, z, labels):
        """The generator regularisers' terms for this step (their sum; 0 when none applies).

        They run in float32, outside bf16 autocast: the path length is a difference of nearby Jacobian norms,
        which bfloat16's 8 bits of mantissa would turn into noise, and its double backward stays in float32."""
        penalty = torch.zeros((), device=self.device)
        if not self.g_regs:
            return penalty
        with self._penalty_rng(generator=True), torch.autocast(self.device.type, enabled=False):
            for reg in self.g_regs:
                term = reg.penalty(self.g_reg_G, self.g_reg_spaces, z, labels, step=self.step)
                if term is not None:
                    penalty = penalty + term.float()
        return penalty

    def _average_regularizer_state(self) -> None:
        """Under torchrun, every rank's regulariser state becomes the ranks' average (what rank 0 then saves)."""
        if not self.world.active:
            return
        for reg in self.g_regs:
            state = reg.state()
            if state:
                averaged = {}
                for key, value in state.items():
                    total = self.world.sum_(value.detach().to(self.device, torch.float64).clone())
                    averaged[key] = (total / self.world.size).to(value.dtype)
                reg.load_state(averaged)

    def train_step(self, stop: bool, monitor: StepMonitor):
        """One generator step after n_critic discriminator steps; returns (verdict, rank-averaged values)."""
        n_critic = self.plan.n_critic
        checks = Checks()
        self.schedules.apply(self.step, self.lr_scale)  # lr, beta2, gamma, EMA and p: functions of the step
        with speed.autocast(self.device, self.plan.config.precision):
            for i in range(n_critic):
                phase = f" @critic step {i + 1} of {n_critic}" if n_critic > 1 else ""
                d_loss, penalty, d_real, d_fake, real, labels = self.discriminator_step(checks, phase)
            g_loss, g_penalty = self.generator_step(real, labels, checks)
        self.step += 1
        if self.augment:
            self.augment_p.adjust(self.step, self.world)
        values = torch.stack([d_loss, g_loss, penalty, d_real, d_fake, g_penalty])
        return monitor.check(self.step, values, stop, checks), monitor.averaged

    # ---- the loop -------------------------------------------------------------------------------
    def run(self) -> dict:
        config = self.plan.config
        if config.on_nonfinite == "rollback" and not runs.checkpoints(self.run_dir):
            self.save_checkpoint()  # something to roll back to before the first scheduled checkpoint
        self.reporter.start(config.steps, self.step)
        monitor = StepMonitor(self.device, self.world)
        totals = torch.zeros(len(LOGGED), device=self.device)
        count, last_log, first_step = 0, time.perf_counter(), self.step
        record = None
        self.G.train(), self.D.train()
        with _stop_requests() as stop:
            try:
                while self.step < config.steps:
                    verdict, values = self.train_step(bool(stop), monitor)
                    if self._diverged(verdict):
                        totals.zero_()
                        count, last_log, monitor = 0, time.perf_counter(), StepMonitor(self.device, self.world)
                        continue
                    totals += values
                    count += 1
                    log = self.step % config.log_every == 0 or self.step == config.steps
                    save = self.step % config.checkpoint_every == 0 or self.step == config.steps
                    diagnose = self.diagnostics is not None and self.diagnostics.due(self.step)
                    if log or save or diagnose or (verdict is not None and verdict.stop):
                        if self._diverged(monitor.flush()):  # CUDA: the pending verdict before any output
                            totals.zero_()
                            count, last_log = 0, time.perf_counter()
                            continue
                    signals = self.diagnostics.observe(self.step, values, self.outputs) if diagnose else {}
                    if log:
                        now = time.perf_counter()
                        self.elapsed += now - last_log
                        record = self._log(totals, count, now - last_log, signals)
                        totals.zero_()
                        count, last_log = 0, now
                    elif signals:  # a diagnostics step that logs nothing else: a line of its own
                        self.loggers.log_scalars(self.step, signals)
                    stopping = diagnose and self.diagnostics.stop_event is not None
                    if self.step % config.sample_every == 0 or self.step == config.steps:
                        self.save_grid()
                    if save or stopping:
                        self.save_checkpoint()
                    self.reporter.update(self.step, self._shown(record))
                    if stopping:  # --on-collapse stop: checkpoint written above
                        self._log_generator()
                        self.diagnostics.stop()
                    if verdict is not None and verdict.stop:
                        self.save_checkpoint()
                        self._log_generator()
                        raise TrainingInterrupted(self.step)
            finally:
                self.reporter.finish()
        if self.step == first_step:  # nothing trained (--steps 0): still leave a sampleable run
            self.save_grid()
            self.save_checkpoint()
        self._log_generator()
        return record or {"step": self.step}

    def _diverged(self, verdict) -> bool:
        """False when ``verdict`` is healthy; True after a roll-back; raises when training must stop."""
        if verdict is None or verdict.culprit is None:
            return False
        plan = self.plan
        cause = explain(verdict.culprit, plan.loss.entry.name, [c.entry.name for c in plan.lipschitz],
                        [c.entry.name for c in plan.g_reg])
        self.world.barrier()  # rank 0 has finished writing its last checkpoint
        found = newest_checkpoint(self.run_dir, self.reporter)
        last = f"the last good checkpoint is {found[0]} (step {found[2]['step']})" if found else \
            "no checkpoint was written yet"
        what = f"non-finite values at step {verdict.step}, most likely from {cause} [{format_values(verdict.values)}]"
        if plan.config.on_nonfinite == "rollback" and found and self.rollbacks < MAX_ROLLBACKS:
            scale, rollbacks = self.lr_scale / 2, self.rollbacks + 1
            path, tensors, meta = found
            self.restore(tensors, meta, path)
            self.lr_scale, self.rollbacks = scale, rollbacks
            self.loggers.rewind(self.step)  # metrics.jsonl and the others drop what came after the checkpoint
            self.reporter.message(f"{what}; rolled back to step {self.step} with the learning rate x{scale:g} "
                                  f"(roll-back {rollbacks} of {MAX_ROLLBACKS})")
            return True
        if plan.config.on_nonfinite == "rollback":
            advice = f"gave up after {self.rollbacks} roll-backs; start again with a lower --lr or another loss/enforcer"
        else:
            advice = (f"continue with a halved learning rate: gancli train --resume {self.run_dir} --on-nonfinite "
                      "rollback, or start again with a lower --lr")
        raise GancliError(f"training stopped: {what}; {last}; {advice}")

    def _shown(self, record: dict | None) -> dict | None:
        """The record the progress bar shows: with the newest diagnostics signals it names."""
        text = self.diagnostics.progress() if self.diagnostics is not None else ""
        return {**record, "diagnostics": text} if record and text else record

    def _log(self, totals, count: int, seconds: float, signals: dict | None = None) -> dict:
        values = (totals / count).tolist()
        record = {"step": self.step, **{k: round(v, 6) for k, v in zip(LOGGED, values)}}
        if not self.has_penalty:
            record.pop("penalty")
        if not self.g_regs:
            record.pop("g_penalty")
        images = count * self.plan.n_critic * self.plan.config.batch_size
        record["images_per_s"] = round(images / max(seconds, 1e-9), 1)
        record["elapsed_s"] = round(self.elapsed, 2)
        record.update(self.schedules.record())
        if self.augment:
            record.update(self.augment_p.record())
        record.update(signals or {})
        self.loggers.log_scalars(self.step, {k: v for k, v in record.items() if k != "step"})
        return record

    # ---- samples and checkpoints (rank 0 writes) -------------------------------------------------
    def _fixed_inputs(self):
        gen = torch.Generator().manual_seed(self.plan.config.seed + 1)
        k = self.num_classes
        n = 2500 if self.spec.kind == "points" else (k * 8 if k and k <= 16 else 64)
        z = torch.randn(n, self.plan.config.z_dim, generator=gen).to(self.device)
        labels = (torch.arange(n) % k).to(self.device) if k else None
        return z, labels

    @property
    def sampling_generator(self):
        """The generator to draw samples from: the EMA when there is one."""
        return self.ema.model if self.ema is not None else self.G

    @torch.no_grad()
    def save_grid(self) -> str | None:
        if not self.world.is_main:
            return None
        G = self.sampling_generator
        G.eval()
        samples = G(self.fixed_z, self.fixed_labels)
        self.G.train()
        path = os.path.join(self.run_dir, runs.SAMPLES, f"step-{self.step:08d}.png")
        reference = self.x[:2500] if self.spec.kind == "points" else None
        nrow = self.num_classes if self.num_classes and self.num_classes <= 16 else None
        save_samples(samples, path, self.spec.kind, reference=reference, nrow=nrow)
        self.loggers.log_images(self.step, "samples", path)
        return path

    def _log_generator(self) -> None:
        """The loggers receive the generator file, written with the last checkpoint (rank 0 only)."""
        if self.world.is_main:
            self.loggers.log_artifact(self.step, os.path.join(self.run_dir, runs.GENERATOR))

    def metadata(self, kind: str) -> dict:
        plan = self.plan
        return {"kind": kind, "gancli_version": __version__, "arch": plan.arch.as_json(),
                "loss": plan.loss.as_json(), "lipschitz": [c.as_json() for c in plan.lipschitz],
                "g_reg": [c.as_json() for c in plan.g_reg],
                "data": plan.data.as_json(), "spec": self.spec.as_json(), "z_dim": plan.config.z_dim,
                "num_classes": self.num_classes, "ema": self.ema.decay if self.ema else 0.0,  # a schedule's: the last
                "pack": plan.config.pack,
                "step": self.step, "elapsed_s": round(self.elapsed, 3)}

    def save_checkpoint(self) -> str | None:
        if not self.world.is_main:
            return None
        sampled = {f"G.{k}": v for k, v in self.sampling_generator.state_dict().items()}
        checkpoint.save(os.path.join(self.run_dir, runs.GENERATOR), sampled, self.metadata("generator"))
        g_tensors = {f"G.{k}": v for k, v in self.G.state_dict().items()}
        if self.ema is not None:
            g_tensors.update({f"G_ema.{k}": v for k, v in self.ema.model.state_dict().items()})
        opt_g, groups_g = optimizer_tensors(self.opt_G, "opt_G")
        opt_d, groups_d = optimizer_tensors(self.opt_D, "opt_D")
        tensors = {**g_tensors, **{f"D.{k}": v for k, v in self.D.state_dict().items()}, **opt_g, **opt_d,
                   **rng_tensors(self.device), **self.sampler.tensors()}
        if self.augment:
            tensors.update(self.augment_p.tensors())
        for choice, reg in zip(self.plan.g_reg, self.g_regs):
            tensors.update({f"{G_REG}.{choice.entry.name}.{k}": v for k, v in reg.state().items()})
        meta = {**self.metadata("training"), "optimizer_groups": {"G": groups_g, "D": groups_d},
                "lr_scale": self.lr_scale, "rollbacks": self.rollbacks, "world_size": self.world.size}
        if self.ema is not None:
            meta["ema_updates"] = self.ema.updates
        if self.augment:
            meta["augment_p"] = self.augment_p.record()["augment_p"]  # for readers; the exact state is a tensor
        if self.diagnostics is not None:
            meta["diagnostics"] = self.diagnostics.state()
        path = runs.checkpoint_path(self.run_dir, self.step)
        checkpoint.save(path, tensors, meta, checksum=True)
        for _, old in runs.checkpoints(self.run_dir)[:-self.plan.config.keep_checkpoints]:
            os.remove(old)
        return path

    def restore(self, tensors: dict, meta: dict, path: str = "the checkpoint") -> None:
        """Continue from a training checkpoint: weights, optimizers, EMA, RNG, data order and step counters."""
        try:
            checkpoint.load_state(self.G, _strip(tensors, "G."), path, "G.")
            checkpoint.load_state(self.D, _strip(tensors, "D."), path, "D.")
            if self.ema is not None:
                checkpoint.load_state(self.ema.model, _strip(tensors, "G_ema."), path, "G_ema.")
                self.ema.updates = int(meta["ema_updates"])
            groups = meta["optimizer_groups"]
            restore_optimizer(self.opt_G, tensors, "opt_G", groups["G"])
            restore_optimizer(self.opt_D, tensors, "opt_D", groups["D"])
            restore_rng(tensors, self.device)
            self.sampler.restore(tensors)
            if self.augment:
                self.augment_p.restore(tensors)
            self._restore_regularizers(tensors, path)
            self.step, self.elapsed = int(meta["step"]), float(meta.get("elapsed_s", 0.0))
            self.lr_scale, self.rollbacks = float(meta.get("lr_scale", 1.0)), int(meta.get("rollbacks", 0))
            if self.diagnostics is not None:  # a checkpoint from before diagnostics has none: they start afresh
                self.diagnostics.load_state(meta.get("diagnostics"), self.step)
        except (KeyError, TypeError, RuntimeError, ValueError, IndexError) as exc:
            raise GancliError(f"{path} does not match this run ({_first_line(exc)})") from None
        self.d_steps = self.step * self.plan.n_critic


    def _restore_regularizers(self, tensors: dict, path: str) -> None:
        for choice, reg in zip(self.plan.g_reg, self.g_regs):
            prefix = f"{G_REG}.{choice.entry.name}."
            saved, expected = _strip(tensors, prefix), reg.state()
            missing = sorted(expected.keys() - saved.keys())
            if missing:
                raise GancliError(f"{path} does not match this run: it lacks {prefix}{missing[0]}, the state of "
                                  f"generator regularizer {choice.entry.name}")
            reg.load_state(saved)


G_REG = "g_reg"  # checkpoint tensors of generator regularisers: g_reg.NAME.KEY


@contextlib.contextmanager
def _seeded(seed: int, devices: list):
    with torch.random.fork_rng(devices=devices, device_type="cuda" if devices else None):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def _stop_requests():
    """Turn SIGINT/SIGTERM into a request to stop after the current step, so checkpoints hold whole steps.

    Yields a list that becomes truthy once a signal arrived. Outside the main thread signals cannot be
    caught, and the default behaviour stays.
    """
    requests: list = []
    if threading.current_thread() is not threading.main_thread():
        yield requests
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, frame: requests.append(signum))
    try:
        yield requests
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _strip(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0][:160]


def _remove_stale_temporaries(run_dir: str) -> None:
    """Temporary files a killed process left behind while writing a checkpoint."""
    for folder in (run_dir, os.path.join(run_dir, runs.CHECKPOINTS)):
        for path in glob.glob(os.path.join(folder, ".tmp-*")):
            os.remove(path)


def newest_checkpoint(run_dir: str, reporter: Reporter) -> tuple | None:
    """(path, tensors, meta) of the newest training checkpoint that reads whole and passes its checksum.

    Damaged newer ones (torn by a crash, truncated, corrupted) are reported and skipped.
    """
    for step, path in reversed(runs.checkpoints(run_dir)):
        try:
            tensors, meta = checkpoint.load(path)
            return path, tensors, meta
        except GancliError as exc:
            reporter.message(f"skipping damaged checkpoint: {exc}")
    return None


def latest_checkpoint(run_dir: str, reporter: Reporter) -> str | None:
    """The newest training checkpoint that reads whole; damaged newer ones are reported and skipped."""
    found = newest_checkpoint(run_dir, reporter)
    return found[0] if found else None


def train(plan: Plan, run_dir: str, reporter: Reporter | None = None, resume: bool = False) -> dict:
    """Train a new run in ``run_dir`` (or continue it with ``resume``); returns the last metrics record.

    Under torchrun every process calls this with the same arguments; rank 0 writes the files.
    """
    reporter = reporter or Reporter()
    world = distributed.current()
    problem, found = None, None
    if resume:
        found = newest_checkpoint(run_dir, reporter)
        if found is None:
            problem = f"{run_dir} has no readable checkpoint to resume from; start a new run"
    elif runs.is_run(run_dir):
        problem = f"{run_dir} already holds a run: continue it with --resume {run_dir} or choose another --out"
    world.agree_error(problem)  # every rank has looked before rank 0 writes anything
    if world.is_main:
        os.makedirs(run_dir, exist_ok=True)
    world.barrier()
    trainer = Trainer(plan, run_dir, reporter)
    if resume:
        path, tensors, meta = found
        trainer.restore(tensors, meta, path)
        del tensors
        if trainer.step >= plan.config.steps:
            raise GancliError(f"{run_dir} is already at step {trainer.step}; pass --steps N with N > {trainer.step} "
                              "to train further")
        if world.is_main:
            _remove_stale_temporaries(run_dir)
        reporter.message(f"resuming {run_dir} from step {trainer.step}")
    config = plan.as_json()
    # Loggers start before run.json is written: one that cannot start leaves --out free. jsonl drops the lines
    # a resumed run wrote after its checkpoint; the others do the same in their own way.
    trainer.loggers.start(run_dir, config, trainer.step)
    try:
        if world.is_main:
            with open(os.path.join(run_dir, runs.RUN_JSON), "w") as fh:
                json.dump(config, fh, indent=2)
        return trainer.run()
    except (RuntimeError, MemoryError) as exc:
        asked = memory.requested(exc)
        if asked is None:
            raise
        raise GancliError(f"out of memory on {trainer.device} at --batch-size {plan.config.batch_size}: a step "
                          f"asked for {asked}; choose a smaller --batch-size") from None
    finally:
        trainer.loggers.finish()
