"""Built-in diagnostics: the generator's gradient norm, saturation of D on fakes, diversity, class or mode
coverage, D's overfitting and the balance of the two players. docs/diagnostics.md explains each signal, its
threshold and its advice.

Each reads what the step already computed (D's outputs, G's gradients) or draws a small batch with its own
seeded noise, in eval mode, so it costs a fraction of a step at its interval and changes nothing of training.
"""

from __future__ import annotations

import gancli
from gancli import Alarm

RECIPE = "a measured preset (gancli list recipes)"


def _advice(context, *tips) -> str:
    """The tips that would change something in this run, joined (one naming what the run already does is left
    out)."""
    config = context.config
    already = {"--loss wgan-gp": context.loss_name == "wgan-gp", "--loss bce ": context.loss_name == "bce",
               "--augment": bool(config.augment_names), "--pack": config.pack > 1,
               "--lipschitz r1": "r1" in (config.lipschitz or ())}
    chosen = [tip for tip in tips if not any(tip.startswith(flag) and done for flag, done in already.items())]
    return "; ".join(chosen) + "."


def _lower_d_lr(context) -> str:
    return f"a lower learning rate for D (--d-lr-scale {context.config.d_lr_scale / 4:g})"


class IntervalOptions(gancli.Options):
    interval: int = gancli.field(50, help="steps between computations", min=1)


class AlarmOptions(IntervalOptions):
    patience: int = gancli.field(200, help="steps the alarm's condition must hold before it fires", min=0)
    after: int = gancli.field(0, help="no alarm before this step", min=0)


class GradientNormDiagnostic(gancli.Diagnostic):
    """The generator's gradient norm, and its ratio to the mean over the first steps (g_grad_norm, g_grad_rel)."""

    progress = {"g_grad_rel": "grad"}
    signals = {"g_grad_norm": "L2 norm of all of G's gradients at a generator step",
               "g_grad_rel": "g_grad_norm over its mean in the first steps (1: as at the start; near 0: vanished)"}

    class Options(IntervalOptions):
        warmup: int = gancli.field(5, help="the first steps, whose mean norm is the reference", min=1)

    def __init__(self, **options):
        super().__init__(**options)
        self.reference, self.count = 0.0, 0

    def due(self, step, interval):
        return step <= self.warmup or step % interval == 0

    def compute(self, context):
        from gancli.diagnostics.signals import gradient_norm

        norm = gradient_norm(context.generator_parameters())  # the gradients this generator step computed
        if norm is None:
            return {}
        # The reference: the mean over the first steps (or the first norm a run from before diagnostics sees).
        if context.step <= self.warmup or self.count == 0:
            self.reference = (self.reference * self.count + norm) / (self.count + 1)
            self.count += 1
        if context.step % context.interval:
            return {}  # a warm-up step: its norm only goes into the reference
        return {"g_grad_norm": norm, "g_grad_rel": norm / self.reference if self.reference > 0 else 0.0}

    def state(self):
        return {"reference": self.reference, "count": self.count}

    def load_state(self, state):
        self.reference, self.count = float(state.get("reference", 0.0)), int(state.get("count", 0))


class SaturationDiagnostic(gancli.Diagnostic):
    """Share of the generator step's fakes in BCE's flat region, sigmoid(D(G(z))) < 0.01 (d_saturation)."""

    progress = {"d_saturation": "sat"}
    signals = {"d_saturation": "share of the generator step's fakes with sigmoid(D(G(z))) < 0.01, BCE's flat region"}

    class Options(AlarmOptions):
        threshold: float = gancli.field(0.9, help="vanishing gradients: d_saturation above this ...", min=0, max=1)
        grad_below: float = gancli.field(0.1, help="... while g_grad_rel is below this", min=0)
        patience: int = gancli.field(100, help="steps the alarm's condition must hold before it fires", min=0)

    def applies(self, context):
        if context.loss_output != "logit":
            return f'loss "{context.loss_name}" trains an unbounded critic: no sigmoid, no flat region'
        return None

    def compute(self, context):
        from gancli.diagnostics.signals import saturation

        return {"d_saturation": saturation(context.outputs["g_fake"])}

    def alarms(self, context):
        tips = ["--loss bce (the non-saturating generator loss: its gradient stays when D rejects fakes)",
                "--loss wgan-gp (a critic, whose gradient does not vanish)", _lower_d_lr(context),
                "--lipschitz r1 (keeps D's slope in check)", RECIPE]
        return [Alarm("vanishing-gradients", (("d_saturation", ">", self.threshold), ("g_grad_rel", "<", self.grad_below)),
                      "the discriminator rejects nearly every generated sample with certainty, so BCE is flat there "
                      "and the generator's gradient has faded: it learns next to nothing (vanishing gradients).",
                      _advice(context, *tips), self.patience, self.after)]


class DiversityDiagnostic(gancli.Diagnostic):
    """Mean pairwise distance of a fixed batch of generated samples over the same on real data (diversity)."""

    interval = 100
    progress = {"diversity": "div"}
    signals = {"diversity": "mean pairwise distance of a fixed batch of samples over the same on real data (1: as "
                            "varied as the data; 0: all alike)"}

    class Options(AlarmOptions):
        interval: int = gancli.field(100, help="steps between computations", min=1)
        samples: int = gancli.field(64, help="generated (and real) samples compared", min=2)
        threshold: float = gancli.field(0.2, help="mode collapse: diversity below this", min=0)
        after: int = gancli.field(200, help="no alarm before this step", min=0)

    def setup(self, context):
        self._context = context
        self.z, self.labels = context.noise(self.samples, "diversity"), context.class_labels(self.samples)
        self.real = context.real_sample(self.samples, "diversity")[0]
        self._use("classifier" if context.spec.kind == "image" and context.classifier is not None else "raw", context)

    def _use(self, space: str, context) -> None:
        """Distances in the cached classifier's features, or raw (pixels, or the 2-D points themselves)."""
        from gancli.diagnostics.signals import mean_pairwise_distance

        self.space, self.classifier = space, context.classifier if space == "classifier" else None
        self.reference = mean_pairwise_distance(self._features(self.real))

    def _features(self, x):
        return self.classifier.features(x.cpu()) if self.classifier is not None else x.float().cpu()

    def compute(self, context):
        from gancli.diagnostics.signals import mean_pairwise_distance

        fake = context.generate(self.z, self.labels)
        distance = mean_pairwise_distance(self._features(fake))
        return {"diversity": distance / self.reference if self.reference > 0 else 0.0}

    def alarms(self, context):
        tips = ["--pack 2 (PacGAN: D judges samples in pairs, so a lack of variety shows)",
                "--loss wgan-gp (a critic's gradient points towards the modes left out)",
                "--lipschitz r1", "--ema 0.999", RECIPE]
        return [Alarm("mode-collapse", (("diversity", "<", self.threshold),),
                      "the generator's samples have become alike: it is stuck on a few peaks of the data (mode "
                      "collapse).", _advice(context, *tips), self.patience, self.after)]

    def state(self):
        return {"space": self.space}

    def load_state(self, state):
        if state.get("space") == "raw" and self.space != "raw":  # a classifier was cached since: keep the run's
            self._use("raw", self._context)


class CoverageDiagnostic(gancli.Diagnostic):
    """Share of the data's classes or modes in a periodic small sample of generated ones (coverage, hq)."""

    interval = 100
    needs = "modes (ring, grid) or classes with a cached classifier (gancli evaluate caches one)"
    progress = {"coverage": "cov"}
    signals = {"coverage": "share of the data's classes or modes found in a sample", "hq": "share of generated "
               "points within 3 std of a mode (mixtures)"}

    class Options(AlarmOptions):
        interval: int = gancli.field(100, help="steps between computations", min=1)
        samples: int = gancli.field(0, help="samples drawn each time; 0: 1000 points, or 10 per class (100 to "
                                    "1000) images", min=0)
        threshold: float = gancli.field(0.3, help="mode collapse: coverage below this", min=0, max=1)
        patience: int = gancli.field(500, help="steps the alarm's condition must hold before it fires", min=0)
        after: int = gancli.field(1000, help="no alarm before this step", min=0)

    def applies(self, context):
        if context.modes is not None:
            return None
        if context.spec.kind == "image" and context.classifier is not None:
            return None
        return ("the data has no known modes and no cached classifier of its classes (`gancli evaluate` on a run "
                "of this data caches one)")

    def setup(self, context):
        self.modes = context.modes
        self.num_classes = 0 if self.modes else len(context.classifier.names)
        self.n = self.samples or (1000 if self.modes else min(1000, max(100, 10 * self.num_classes)))

    def compute(self, context):
        from gancli.diagnostics.signals import class_coverage, mode_coverage

        z = context.noise(self.n, "coverage", context.step)  # a fresh sample each time, seeded by the step
        fake = context.generate(z, context.class_labels(self.n))
        if self.modes:
            centres, std = self.modes
            covered, hq = mode_coverage(fake.cpu(), centres, std)
            return {"coverage": covered, "hq": hq}
        return {"coverage": class_coverage(context.classifier.predict(fake.cpu()), self.num_classes)}

    def alarms(self, context):
        tips = ["--pack 2 (PacGAN)", "--loss wgan-gp", "--lipschitz r1", RECIPE]
        return [Alarm("mode-collapse", (("coverage", "<", self.threshold),),
                      "the generator draws from only a few of the data's classes or modes and leaves the rest out "
                      "(mode collapse).", _advice(context, *tips), self.patience, self.after)]


class OverfittingDiagnostic(gancli.Diagnostic):
    """D's overfitting: ADA's sign statistic on real images (r_t), and D's scores on held-out images (holdout_gap).

    r_t is E sign(D(x)); holdout_gap places the images D never trained on between its training images (0) and
    generated ones (1), where the data has a held-out split."""

    needs = "a held-out split for holdout_gap (digits with fraction < 1, mnist and fashion-mnist's test images)"
    progress = {"holdout_gap": "gap"}
    signals = {"r_t": "ADA's E[sign(D(x))] on real images (0: D unsure; 1: sure of every one)",
               "holdout_gap": "where D scores held-out images between training images (0) and fakes (1)"}

    class Options(AlarmOptions):
        samples: int = gancli.field(256, help="training, held-out and generated images D scores", min=2)
        threshold: float = gancli.field(0.3, help="overfitting: holdout_gap above this", min=0)
        patience: int = gancli.field(300, help="steps the alarm's condition must hold before it fires", min=0)

    def applies(self, context):
        if context.loss_output == "critic" and (context.spec.kind != "image" or context.holdout is None):
            return "a critic's sign means nothing and the data has no held-out split"
        return None

    def setup(self, context):
        held = context.holdout if context.spec.kind == "image" else None
        self.slices = None
        if held is not None:
            pack = context.config.pack
            n = max(pack, min(self.samples, len(held.x), len(context.x)) // pack * pack)
            device, cond = context.device, context.num_classes > 0
            gen_idx = _fixed_indices(len(held.x), n, context.seed("overfitting-holdout"))
            held_x = held.x[gen_idx].to(device)
            held_labels = held.labels[gen_idx].to(device) if cond else None
            train_x, train_labels = context.real_sample(n, "overfitting")
            self.slices = (train_x, train_labels, held_x, held_labels, context.noise(n, "overfitting"),
                           context.class_labels(n))

    def compute(self, context):
        from gancli.diagnostics.signals import holdout_gap, sign_statistic

        signals = {}
        if context.loss_output == "logit":
            signals["r_t"] = sign_statistic(context.outputs["real"])
        if self.slices is not None:
            train_x, train_labels, held_x, held_labels, z, labels = self.slices
            fake = context.generate(z, labels)
            scores = (context.score(train_x, train_labels), context.score(held_x, held_labels),
                      context.score(fake, labels))
            signals["holdout_gap"] = holdout_gap(*scores)
        return signals

    def alarms(self, context):
        tips = ["--augment color,translation,cutout --augment-p auto (ADA: D sees the data augmented, and the "
                "more it overfits the more)", "more training images", _lower_d_lr(context), "--lipschitz r1"]
        return [Alarm("overfitting", (("holdout_gap", ">", self.threshold),),
                      "the discriminator scores images it never trained on more and more like generated ones: it is "
                      "memorising the training set (an overfitting discriminator), and its feedback to the "
                      "generator turns to noise.", _advice(context, *tips), self.patience, self.after)]


def _fixed_indices(n_total: int, n: int, seed: int):
    import torch

    return torch.randperm(n_total, generator=torch.Generator().manual_seed(seed))[:n]


class BalanceDiagnostic(gancli.Diagnostic):
    """The balance of the players: share of pairs D orders right, D(x_i) > D(G(z_i)), and g_loss - d_loss."""

    progress = {"d_accuracy": "D acc"}
    signals = {"d_accuracy": "share of pairs D orders right, D(x_i) > D(G(z_i)) (0.5: even; 1: D wins all)",
               "loss_gap": "g_loss - d_loss at the step"}

    Options = IntervalOptions

    def compute(self, context):
        from gancli.diagnostics.signals import pairwise_accuracy

        outputs, losses = context.outputs, context.losses
        return {"d_accuracy": pairwise_accuracy(outputs["real"], outputs["fake"]),
                "loss_gap": losses["g_loss"] - losses["d_loss"]}


@gancli.hookimpl
def register_diagnostics(register):
    register("gradient-norm", GradientNormDiagnostic)
    register("saturation", SaturationDiagnostic)
    register("diversity", DiversityDiagnostic)
    register("coverage", CoverageDiagnostic)
    register("overfitting", OverfittingDiagnostic)
    register("balance", BalanceDiagnostic)
