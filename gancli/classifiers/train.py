"""Training a classifier on a dataset's labels, with a held-out split that measures its accuracy."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from ..errors import GancliError
from .balance import balance_weights
from .model import MULTICLASS, MULTILABEL, Classifier, ConvNet, Ensemble

RECIPE = 1  # bump when the recipe below changes, so cached classifiers are retrained


@dataclass(frozen=True)
class TrainSettings:
    """How the classifier is trained; part of the cache key."""

    width: int = 32
    feature_dim: int = 128
    epochs: int = 30
    max_steps: int = 3000  # big datasets: fewer epochs
    batch_size: int = 64
    lr: float = 1e-3
    holdout: float = 0.2  # fraction of the labelled images kept out of training to measure accuracy
    seed: int = 0
    robust: bool = False  # also train on noisy and blurred copies, so that artefacts do not decide the class
    members: int = 1  # networks averaged; member k > 0 starts from seed + 1000 k, all share one held-out split
    # Multi-label only: weight the training images so that attributes are pairwise independent with their
    # frequencies kept (gancli.classifiers.balance), weights capped at balance_max_weight times their mean.
    balance: bool = False
    balance_max_weight: float = 20.0

    def as_json(self) -> dict:
        fields = asdict(self)
        if self.members == 1:  # the key classifiers had before ensembles existed: their cached files stay valid
            del fields["members"]
        if not self.balance:  # likewise for the keys of classifiers trained before balancing existed
            del fields["balance"], fields["balance_max_weight"]
        return {**fields, "recipe": RECIPE}


def train_classifier(x: torch.Tensor, labels: torch.Tensor, names, settings: TrainSettings = TrainSettings(),
                     progress=None) -> Classifier:
    """A classifier of images ``x`` (N, C, H, W) in [-1, 1].

    ``labels`` is (N,) int64 class indices (multiclass) or (N, A) 0/1 floats (multi-label attributes);
    ``names`` names the classes or attributes. ``progress(step, total)`` is called as training advances.
    The global random state is left untouched.
    """
    task = MULTICLASS if labels.dim() == 1 else MULTILABEL
    _check(x, labels, names, task, settings)
    with torch.random.fork_rng():
        torch.manual_seed(settings.seed)
        order = torch.randperm(len(x))
        n_held = max(1, round(len(x) * settings.holdout))
        held, train = order[:n_held], order[n_held:]
        steps = min(settings.max_steps, settings.epochs * math.ceil(len(train) / settings.batch_size))
        weights, balance = None, None
        if settings.balance:
            weights, balance = balance_weights(labels[train], settings.balance_max_weight)
        members = []
        for k in range(settings.members):
            if k:
                torch.manual_seed(settings.seed + 1000 * k)
            net = ConvNet(x.shape[1], len(names), settings.width, settings.feature_dim)
            _fit(net, x[train], labels[train], task, steps, settings,
                 _member_progress(progress, k, steps, settings.members), weights)
            members.append(net)
    info = {"task": task, "names": list(names), "shape": list(x.shape[1:]), "width": settings.width,
            "feature_dim": settings.feature_dim}
    if len(members) > 1:
        accuracies = [_accuracy(Classifier(net, info), x[held], labels[held]) for net in members]
        info.update(members=len(members), member_accuracy=accuracies)
    classifier = Classifier(members[0] if len(members) == 1 else Ensemble(members), info)
    classifier.info.update(accuracy=_accuracy(classifier, x[held], labels[held]), n_train=len(train),
                           n_holdout=len(held), steps=steps, settings=settings.as_json())
    if task == MULTILABEL:
        classifier.info["accuracy_per_name"] = _accuracy_per_attribute(classifier, x[held], labels[held])
    classifier.info["balanced"] = balance is not None
    if balance is not None:
        classifier.info["balance"] = balance.as_json()
    return classifier


def _member_progress(progress, k: int, steps: int, members: int):
    """``progress`` over all members' steps together, for member ``k``."""
    if progress is None:
        return None
    return lambda step, _: progress(k * steps + step, members * steps)


def _check(x, labels, names, task, settings) -> None:
    if x.dim() != 4:
        raise GancliError(f"a classifier needs images (N, C, H, W); got a tensor of shape {tuple(x.shape)}")
    if min(x.shape[2:]) < 4:
        raise GancliError(f"images of {x.shape[2]}x{x.shape[3]} are too small for the classifier (4x4 at least)")
    if len(labels) != len(x):
        raise GancliError(f"{len(x)} images but {len(labels)} labels")
    if settings.members < 1:
        raise GancliError(f"a classifier needs at least 1 member network, got {settings.members}")
    if len(x) < 2 or round(len(x) * settings.holdout) >= len(x):
        raise GancliError(f"{len(x)} labelled images are too few to train a classifier and hold some out")
    if task == MULTICLASS and settings.balance:
        raise GancliError("balancing reweights combinations of attributes; a class classifier has none "
                          "(train it without balance)")
    if task == MULTICLASS and len(names) < 2:
        raise GancliError("a classifier needs at least 2 classes")
    if task == MULTILABEL and labels.shape[1] != len(names):
        raise GancliError(f"{labels.shape[1]} attribute columns but {len(names)} attribute names")


def _shift(x: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Random translations by up to ``max_shift`` pixels (edge-padded): cheap augmentation for small sets."""
    if max_shift == 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, mode="replicate")
    dy, dx = torch.randint(0, 2 * max_shift + 1, (2, n)).tolist()
    return torch.stack([padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])


def box_blur(x: torch.Tensor) -> torch.Tensor:
    """Each pixel the mean of its 3x3 neighbourhood (edges replicated)."""
    return F.avg_pool2d(F.pad(x, (1,) * 4, mode="replicate"), 3, stride=1)


def _corrupt(x: torch.Tensor) -> torch.Tensor:
    """Half the images blurred (3x3 box), half given Gaussian noise of a std drawn from [0, 0.3], independently:
    what a generator's soft or speckled output looks like, so a judge trained on it reads the digit's shape."""
    n = len(x)
    x = torch.where(torch.rand(n, 1, 1, 1) < 0.5, box_blur(x), x)
    std = 0.3 * torch.rand(n, 1, 1, 1) * (torch.rand(n, 1, 1, 1) < 0.5)
    return (x + std * torch.randn_like(x)).clamp(-1, 1)


def _fit(net, x, labels, task, steps, settings, progress, weights=None) -> None:
    """Adam with a one-cycle rate; ``weights`` (N,), mean 1, weigh each image's loss (balancing)."""
    opt = torch.optim.Adam(net.parameters(), lr=settings.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings.lr, total_steps=max(steps, 1))
    max_shift = max(1, min(x.shape[2:]) // 14)
    net.train()
    perm, pos = torch.randperm(len(x)), 0
    for step in range(steps):
        if pos + settings.batch_size > len(x):
            perm, pos = torch.randperm(len(x)), 0
        idx = perm[pos:pos + settings.batch_size]
        pos += settings.batch_size
        batch = _shift(x[idx], max_shift)
        out = net(_corrupt(batch) if settings.robust else batch)
        if task == MULTICLASS:
            loss = F.cross_entropy(out, labels[idx])
        elif weights is None:
            loss = F.binary_cross_entropy_with_logits(out, labels[idx].float())
        else:
            per_image = F.binary_cross_entropy_with_logits(out, labels[idx].float(), reduction="none").mean(1)
            loss = (weights[idx] * per_image).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if progress is not None:
            progress(step + 1, steps)
    net.eval()


def _accuracy(classifier: Classifier, x, labels) -> float:
    """Fraction of held-out images classified right (multi-label: of attribute decisions made right)."""
    predicted = classifier.predict(x)
    if classifier.info["task"] == MULTICLASS:
        return float((predicted == labels).float().mean())
    return float((predicted == (labels > 0.5)).float().mean())


def _accuracy_per_attribute(classifier: Classifier, x, labels) -> dict:
    """{attribute: fraction of held-out images whose yes/no for it is right}."""
    right = (classifier.predict(x) == (labels > 0.5)).float().mean(0).tolist()
    return {name: round(value, 5) for name, value in zip(classifier.info["names"], right)}
