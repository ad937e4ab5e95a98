"""The small interfaces that third-party plugins code against.

None of these import torch at module level: a component class is registered (and listed by
``gancli list``) without torch; its methods import torch when they run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import options as _options


class Component:
    """Base of every component. ``Options`` (a :class:`gancli.Options` subclass) is its schema.

    The default constructor takes the options as keyword arguments and stores each as an attribute,
    so a component rarely needs an ``__init__`` of its own.
    """

    Options = None

    def __init__(self, **options):
        known = {info.attr for info in _options.schema(self.Options)}
        unknown = set(options) - known
        if unknown:
            raise TypeError(f"{type(self).__name__} got unknown options {sorted(unknown)}")
        values = self.Options(**options) if self.Options else None
        for attr in known:
            setattr(self, attr, getattr(values, attr))

    @classmethod
    def summary(cls) -> str:
        """First line of the docstring: the one-line description shown by ``gancli list``."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


class Loss(Component):
    """An adversarial loss: pure functions of the discriminator's outputs.

    ``output`` says what the discriminator's output means: ``"logit"`` (a probability's logit) or
    ``"critic"`` (an unbounded Wasserstein critic score, which needs a Lipschitz enforcer).
    ``n_critic`` is the default number of discriminator steps per generator step and ``lipschitz``
    the enforcers the loss brings along as ``(name, {option: value})`` pairs (a preset such as wgan-gp).
    Set ``generator_uses_real = True`` when ``generator_loss`` needs the discriminator's output on real
    data (relativistic losses); otherwise it receives ``None`` and the trainer saves that forward pass.
    """

    output = "logit"
    n_critic = 1
    lipschitz: tuple = ()
    generator_uses_real = False

    def discriminator_loss(self, real_out, fake_out):
        """Scalar loss the discriminator minimises, from its outputs on real and fake batches."""
        raise NotImplementedError

    def generator_loss(self, fake_out, real_out=None):
        """Scalar loss the generator minimises, from the discriminator's output on fakes."""
        raise NotImplementedError


class LipschitzEnforcer(Component):
    """Keeps a critic (approximately) 1-Lipschitz, or regularises a discriminator, at up to three moments.

    - ``prepare(D)``: structural changes before training (returns the module to use).
    - ``penalty(critic, real, fake, step)``: a term added to the discriminator's loss, or ``None``;
      ``critic`` is a callable ``x -> (N,) scores`` (labels already bound for conditional models) and
      ``step`` counts discriminator steps from 0 over the whole run (for lazy regularisation).
    - ``after_step(D)``: a projection after each discriminator optimizer step (weight clipping).

    Class attributes:

    - ``batch_independent = True`` when the enforcer needs each sample's score to depend on that sample
      alone (a gradient penalty per sample is wrong through BatchNorm); architectures then build a
      discriminator without batch statistics.
    - ``bounds_critic``: whether it keeps an unbounded (Wasserstein) critic Lipschitz; a critic loss needs
      at least one enforcer that does (R1, for instance, regularises but does not bound a critic).
    - ``conflicts``: ``{other enforcer name: reason}`` for combinations that make no sense; the trainer
      refuses them with the reason.
    """

    batch_independent = False
    bounds_critic = True
    conflicts: dict = {}

    def prepare(self, D):
        return D

    def penalty(self, critic, real, fake, step=0):
        return None

    def after_step(self, D):
        return None


class GeneratorRegularizer(Component):
    """A regulariser of the generator (path-length regularisation): a term added to G's loss.

    - ``penalty(G, spaces, z, labels, step)``: a scalar added to G's loss this generator step, or ``None``.
      ``G`` is the generator as a callable ``G(z, labels) -> images``, ``spaces`` its
      :class:`gancli.latents.LatentSpaces`, the one way to reach W (``spaces.has_w``,
      ``spaces.convert(z, "z", "w+", labels, grad=True)``, ``spaces.decode(ws, "w+", grad=True)``); both send
      every call through the trainer's wrapper (DistributedDataParallel under torchrun), so never reach for the
      generator's submodules. ``z`` (N, z_dim) and ``labels`` are this generator step's latents and labels on
      this process; ``step`` counts generator steps from 0 over the whole run (for lazy regularisation).
      It runs in float32 (outside bf16 autocast); draw randomness from torch's global stream only.
    - ``state()`` -> ``{name: tensor}``: running statistics (path length's moving mean) that training
      checkpoints save; ``load_state(tensors)`` puts them back on resume. Under torchrun the trainer averages
      each state tensor over processes after every generator step, so keep state that averages (means).

    Class attributes (``needs`` may also be set per instance, from options):

    - ``needs``: the latent spaces beyond Z the generator must offer (``("w",)``: a mapping network); the
      trainer refuses other generators with a one-line message.
    - ``data_kinds``: the ``DataSpec.kind`` values it handles.
    """

    needs: tuple = ()
    data_kinds: tuple = ("image",)

    def penalty(self, G, spaces, z, labels=None, step=0):
        return None

    def state(self) -> dict:
        return {}

    def load_state(self, tensors: dict) -> None:
        return None


class Logger(Component):
    """Where a run's figures go as it trains, besides its run directory: TensorBoard, MLflow, a tracking server.

    The trainer calls these on rank 0 only (under torchrun), at the moments it writes the run directory:

    - ``start(run_dir, config, step)`` before the first step: ``config`` is the resolved run (what run.json
      holds), ``step`` the step training starts from: 0, or the checkpoint a resumed run continues from.
      Figures a logger kept past ``step`` (written after that checkpoint by a run that then crashed) are
      about to be written again: drop or supersede them, as metrics.jsonl is truncated. A logger that cannot
      start (an unreachable tracking server) raises, and the run stops before it trains, with one line.
    - ``log_scalars(step, values)`` every ``--log-every`` steps: ``{name: float}``, the figures of that
      metrics.jsonl line (losses, ``images_per_s``, ``augment_p``...).
    - ``log_images(step, name, path)`` after each sample grid: the PNG file just written (``name``
      ``"samples"``).
    - ``log_artifact(path)`` when training ends or is interrupted: the generator file (enough to sample).
    - ``rewind(step)`` after a roll-back (``--on-nonfinite rollback``): training went back to ``step``, as
      in ``start``.
    - ``finish()`` always, last: flush and close (also after an error).

    A method that raises mid-run is reported once and that logger is dropped; training, its checkpoints and
    the other loggers go on. These calls sit in the training loop, so keep them cheap: hand slow work (a
    network upload) to a background thread and wait for it in ``finish``.

    ``requires`` maps the modules the logger imports to what to install for each (``{"tensorboardX":
    "gancli[tensorboard]"}``): a run naming the logger is refused with that line before anything is written.
    Import them inside ``start``, never at the top of the plugin module.
    """

    requires: dict = {}

    def start(self, run_dir: str, config: dict, step: int = 0) -> None:
        return None

    def log_scalars(self, step: int, values: dict) -> None:
        return None

    def log_images(self, step: int, name: str, path: str) -> None:
        return None

    def log_artifact(self, path: str) -> None:
        return None

    def rewind(self, step: int) -> None:
        return None

    def finish(self) -> None:
        return None


@dataclass(frozen=True)
class DataSpec:
    """What a dataset yields: ``kind`` "image" (shape C,H,W in [-1, 1]) or "points" (shape (2,))."""

    kind: str
    shape: tuple
    class_names: tuple = ()
    attribute_names: tuple = ()

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def as_json(self) -> dict:
        return {"kind": self.kind, "shape": list(self.shape), "class_names": list(self.class_names),
                "attribute_names": list(self.attribute_names)}

    @classmethod
    def from_json(cls, data: dict) -> "DataSpec":
        return cls(kind=data["kind"], shape=tuple(data["shape"]), class_names=tuple(data.get("class_names", ())),
                   attribute_names=tuple(data.get("attribute_names", ())))


@dataclass
class DataBundle:
    """A loaded dataset: ``x`` a float tensor (N, *spec.shape) in [-1, 1], ``labels`` (N,) int64 or None.

    ``attributes`` is (N, A) float 0/1, one column per ``spec.attribute_names``, or None.
    """

    x: object
    spec: DataSpec
    labels: object = None
    attributes: object = None
    notes: list = field(default_factory=list)  # things the user should hear about, e.g. skipped files


class Dataset(Component):
    """A source of training data. ``load()`` returns a :class:`DataBundle`.

    ``argument`` names the option that ``--data NAME:VALUE`` fills (for example a path).
    """

    argument: str | None = None

    def load(self) -> DataBundle:
        raise NotImplementedError


class Architecture(Component):
    """Builds a generator and a discriminator for a data shape.

    - ``build_generator(spec, z_dim, num_classes)`` -> module with ``G(z, labels=None)`` returning
      samples of ``spec.shape`` in [-1, 1] (images) or unbounded points.
    - ``build_discriminator(spec, num_classes, batch_independent)`` -> module with
      ``D(x, labels=None)`` returning ``(N,)`` scores.

    ``num_classes`` is 0 for an unconditional model. ``data_kinds`` lists the ``DataSpec.kind`` values
    the architecture can handle. A style-based generator also offers a W space (``mapping``, ``synthesis``,
    ``num_ws``, ``w_dim``, a ``w_avg`` buffer): see :mod:`gancli.latents`, the one place that uses them.
    """

    data_kinds: tuple = ("image",)

    def build_generator(self, spec: DataSpec, z_dim: int, num_classes: int = 0):
        raise NotImplementedError

    def build_discriminator(self, spec: DataSpec, num_classes: int = 0, batch_independent: bool = False):
        raise NotImplementedError


@dataclass(frozen=True)
class EvalSetting:
    """What an evaluation is about: the reference dataset (registry name, options, spec) and the generator.

    ``num_classes`` is the generator's number of classes (0 for an unconditional generator).
    """

    data_name: str
    data_options: dict
    spec: DataSpec
    num_classes: int = 0


@dataclass
class MetricInputs:
    """What a metric's ``compute`` receives; only the inputs the metric ``needs`` are filled, others are None.

    ``fake`` holds the generated samples, ``real`` reference samples of the same dataset (a tensor of
    images in [-1, 1] or 2-D points). For the floor the evaluator passes a disjoint half of the real data as
    ``fake``, so a metric never needs to know which of the two it is scoring. Features are float64 numpy
    arrays (N, D); ``classes`` the classifier's class index for each ``fake`` sample; ``labels`` the class
    each ``fake`` sample was asked for (a conditional generator) or, for the floor, its true class.
    """

    setting: EvalSetting
    real: object = None
    fake: object = None
    real_features: object = None
    fake_features: object = None
    classes: object = None
    labels: object = None


class Metric(Component):
    """A measurement of generated samples against the reference data, returned as named numbers.

    ``needs`` declares the inputs (see :class:`MetricInputs`): ``"features"`` (the feature extractor's
    vectors of real and generated samples), ``"samples"`` (the raw samples: images or 2-D points),
    ``"classes"`` (the classifier's class of each generated sample) and ``"labels"`` (the classes a
    conditional generator was asked for). ``data_kinds`` lists the ``DataSpec.kind`` values it handles and
    ``default_for`` the kinds it runs on when the user names no metrics.

    - ``applies(setting)`` -> ``None`` when the metric can score this setting, else the reason it cannot.
    - ``samples_wanted(setting)`` -> the number of generated samples its protocol asks for, or ``None``.
    - ``compute(inputs)`` -> ``{name: number}``; the evaluator computes it once on the generated samples
      and once more between two disjoint halves of the real data (the floor), and reports both.
    """

    needs: tuple = ("features",)
    data_kinds: tuple = ("image",)
    default_for: tuple = ("image",)

    def applies(self, setting: EvalSetting) -> str | None:
        return None

    def samples_wanted(self, setting: EvalSetting) -> int | None:
        return None

    def compute(self, inputs: MetricInputs) -> dict:
        raise NotImplementedError


@dataclass
class DirectionInputs:
    """What a direction finder's ``find`` (and ``edit``) receives.

    ``generator`` maps latents (N, z_dim) to images in [-1, 1], keeping the graph for gradients (a callable
    on ``device``); ``z_dim`` is the size of one latent vector. The latents are those of ``space`` ("z", "w"
    or "w+"), seen through ``view`` (:class:`gancli.latents.SpaceView`): flat vectors in units of the space's
    standard deviation, so a finder written for Z works in W unchanged; draw them with ``sample(n, seed)``.
    ``view.spaces`` is the generator's :class:`gancli.latents.LatentSpaces` (its module is ``view.spaces.G``),
    for finders that read weights (SeFa). ``classifier`` is the attribute classifier
    (:class:`gancli.classifiers.Classifier`, multi-label: ``names``, ``logits``, ``probabilities``,
    ``differentiable_logits``) or None for unsupervised finders; ``attribute`` the target attribute, spelled
    as the classifier names it; ``condition_on`` the attributes whose change the direction must avoid;
    ``seed`` seeds any sampling.
    """

    generator: object
    z_dim: int
    classifier: object = None
    attribute: str | None = None
    condition_on: tuple = ()
    seed: int = 0
    device: str = "cpu"
    space: str = "z"
    view: object = None

    def sample(self, n: int, seed: int):
        """``n`` latents of the space (N, z_dim): Gaussian in Z, mapped latents in W."""
        if self.view is not None:
            return self.view.sample(n, seed)
        import torch

        return torch.randn(n, self.z_dim, generator=torch.Generator().manual_seed(seed))


class DirectionFinder(Component):
    """Finds named directions in a generator's latent space.

    - ``find(inputs)`` -> ``{name: vector of shape (z_dim,)}``; the vectors are normalised to unit length
      when saved, and the name is what ``gancli edit --direction`` takes (``smiling``, ``sefa-0``...).
    - ``supervised = True`` when it needs the attribute classifier and a target ``attribute``.
    - ``edits_per_latent = True`` when it also offers ``edit(inputs, z, strengths)`` -> latents of shape
      (len(strengths), N, z_dim): a per-latent edit (such as gradient ascent on the classifier's score) in
      place of moving every latent along one direction; strength s ends a latent |s| from where it started,
      as a direction moves it.
    """

    supervised = False
    edits_per_latent = False

    def find(self, inputs: DirectionInputs) -> dict:
        raise NotImplementedError

    def edit(self, inputs: DirectionInputs, z, strengths):
        raise NotImplementedError


@dataclass(frozen=True)
class Alarm:
    """When a diagnostic's signals mean trouble, and what to say then (see :class:`Diagnostic`).

    ``when`` is a tuple of ``(signal, "<" or ">", threshold)``: all must hold at once, at every computation for
    ``patience`` steps running, from step ``after`` on; then the alarm fires, once per run and ``kind``.
    ``kind`` names the failure (``mode-collapse``, ``vanishing-gradients``, ``overfitting``: two alarms of one
    kind fire once between them); ``says`` is what is happening, in the course's words; ``advice`` what to try,
    with the flags that do it.
    """

    kind: str
    when: tuple
    says: str
    advice: str
    patience: int = 150
    after: int = 0

    def holds(self, signals: dict):
        """True or False on these signals; None while one of them is missing."""
        results = []
        for name, op, threshold in self.when:
            value = signals.get(name)
            if value is None:
                return None
            results.append(value < threshold if op == "<" else value > threshold)
        return all(results)

    def describe(self) -> str:
        """The condition in words: 'diversity < 0.2 for 150 steps (from step 200)'."""
        text = " and ".join(f"{name} {op} {threshold:g}" for name, op, threshold in self.when)
        return text + f" for {self.patience} steps" + (f" (from step {self.after})" if self.after else "")


class Diagnostic(Component):
    """A signal of a run's health computed while it trains (generator gradient norm, saturation, diversity...),
    and the alarms it raises. ``gancli train`` runs every applicable one unless ``--diagnostics off``.

    - ``applies(context)`` -> None when it applies to this run, else the reason it does not (a string).
    - ``setup(context)``: once, before training, for what stays fixed (a batch of latents, a reference figure).
    - ``compute(context)`` -> ``{signal: float}`` at ``context.step``, when ``due(step)``; {} for nothing yet.
      It runs on rank 0 under ``torch.no_grad``; ``context`` (a :class:`gancli.diagnostics.context.Context`) offers the
      step's discriminator outputs, the networks in eval mode, seeded noise that leaves training's random
      streams alone, the data, and gancli's classifier where one is cached.
    - ``alarms(context)`` -> a list of :class:`Alarm` over its signals, with advice fitted to the run.
    - ``state()`` -> a JSON-ready dict that checkpoints save (a reference figure); ``load_state(state)``.

    Class attributes: ``signals`` (``{name: what it means}``, for ``gancli diagnose`` and ``gancli list``),
    ``interval`` (steps between computations, its cost; ``--diagnostics-every`` overrides it), ``data_kinds`` (the ``DataSpec.kind`` values it handles), ``needs`` (what else of the data it needs,
    in words, for ``gancli list``: "classes or modes", "a held-out split"), ``progress`` (signals shown in the
    progress bar, with a short label each: ``{"diversity": "div"}``).
    """

    signals: dict = {}
    interval: int = 50
    data_kinds: tuple = ("image", "points")
    needs: str = ""
    progress: dict = {}

    def due(self, step: int, interval: int) -> bool:
        return step % interval == 0

    def applies(self, context) -> str | None:
        return None

    def setup(self, context) -> None:
        return None

    def compute(self, context) -> dict:
        raise NotImplementedError

    def alarms(self, context) -> list:
        return []

    def state(self) -> dict:
        return {}

    def load_state(self, state: dict) -> None:
        return None


class Augmentation(Component):
    """A random, differentiable image transformation applied to real and generated batches alike before the
    discriminator sees them (DiffAugment; ADA's probability p). ``gancli train --augment NAME,...`` chains them.

    - ``draw(n, p, shape, device)`` -> ``{name: tensor}``, the random choices for ``n`` images of ``shape``
      (C, H, W), each tensor with ``n`` rows; which images are transformed at all is one of the choices (each
      with probability ``p``, a number or a 0-dim tensor: use it in tensor arithmetic such as
      ``torch.rand(n, device=device) < p``). Draw from torch's global random stream only, and the same amount
      whatever ``p`` is, so a resumed run repeats every choice; the trainer draws for the global batch and gives
      each process its rows.
    - ``apply(x, params)`` -> images of ``x``'s shape: ``params`` holds the rows of ``x``'s images. It must be
      differentiable with respect to ``x`` (the generator learns through it).
    """

    def draw(self, n: int, p, shape: tuple, device) -> dict:
        raise NotImplementedError

    def apply(self, x, params: dict):
        raise NotImplementedError
