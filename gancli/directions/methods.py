"""The mathematics of the built-in direction finders, as plain functions of a generator and a classifier.

- InterFaceGAN (Shen et al. 2020): a linear SVM separates latents the classifier scores high on an attribute
  from those it scores low; the boundary's unit normal is the direction. Conditional manipulation projects
  the normals of other attributes out of it, so moving along it leaves their scores unchanged (to first order).
- Classifier gradient (the course's controllable generation): gradient ascent on the target attribute's logit
  with respect to z, optionally minus ``penalty`` times the norm of the change in other attributes' logits, or
  (``hold``) along the level set of the other attributes' logits: InterFaceGAN's conditional manipulation
  done afresh at every step of every latent's own path.
- SeFa (Shen & Zhou 2021): the top eigenvectors of AᵀA, A the generator's first layer as a linear map of z,
  or in W the affine maps from w to every layer's styles, stacked (as the paper does for StyleGAN).
- GANSpace (Härkönen et al. 2020): principal components of the first layer's activations, carried back to
  z by linear regression (the recipe the paper uses for generators without a mapping network), or in W the
  principal components of sampled w themselves (its recipe for StyleGAN).

Every function takes latents and a generator ``G`` as a callable from latents to images, so the same code
works in Z and in W (the latents are then those of gancli.latents.SpaceView).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..augment.ops import apply_translation
from ..errors import GancliError

BATCH = 500


def sample_latents(n: int, z_dim: int, seed: int) -> torch.Tensor:
    return torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def generate(G, z: torch.Tensor, device: str = "cpu") -> torch.Tensor:
    """Images for latents, in batches, on the CPU."""
    return torch.cat([G(z[i:i + BATCH].to(device)).float().cpu() for i in range(0, len(z), BATCH)])


# ---- InterFaceGAN ------------------------------------------------------------------------------------
def boundary_normal(z: np.ndarray, scores: np.ndarray, ratio: float) -> np.ndarray:
    """Unit normal (pointing towards high scores) of a linear SVM between the top and bottom ``ratio`` of latents."""
    from sklearn.svm import LinearSVC

    n = max(2, int(len(z) * ratio))
    order = np.argsort(scores)
    low, high = order[:n], order[-n:]
    x = np.concatenate([z[low], z[high]])
    y = np.concatenate([np.zeros(n), np.ones(n)])
    svm = LinearSVC(C=1.0, dual=False, max_iter=5000).fit(x, y)
    normal = svm.coef_.reshape(-1)
    return normal / np.linalg.norm(normal)


def project_out(direction: np.ndarray, others: list) -> np.ndarray:
    """``direction`` minus its projection on the span of ``others`` (InterFaceGAN's conditional manipulation)."""
    if not others:
        return direction
    basis = np.stack(others, axis=1)  # (z_dim, k)
    coefficients, *_ = np.linalg.lstsq(basis, direction, rcond=None)
    remainder = direction - basis @ coefficients
    norm = np.linalg.norm(remainder)
    if norm < 1e-6:
        raise GancliError("the target direction lies in the span of the conditions; nothing is left after "
                          "projecting them out")
    return remainder / norm


_last_scored: list = []  # [(G, classifier, z, logits)]: fits in a row often score the same latents


def attribute_logits(G, classifier, z: torch.Tensor, device: str = "cpu") -> torch.Tensor:
    """(N, A) classifier logits of the images generated from ``z``; the last call's are reused when the generator,
    classifier and latents are the same (several InterFaceGAN fits of one run share their samples)."""
    if _last_scored:
        G0, classifier0, z0, logits = _last_scored[0]
        if G0 == G and classifier0 is classifier and z0.shape == z.shape and torch.equal(z0, z):
            return logits
    logits = torch.cat([classifier.logits(generate(G, z[i:i + BATCH], device)) for i in range(0, len(z), BATCH)])
    _last_scored[:] = [(G, classifier, z.clone(), logits)]
    return logits


def interfacegan(G, classifier, z: torch.Tensor, attribute: str, condition_on, ratio: float,
                 device: str = "cpu") -> np.ndarray:
    """The boundary normal of ``attribute`` among latents ``z``, with the normals of ``condition_on`` projected out."""
    logits = attribute_logits(G, classifier, z, device).numpy()
    column = {name: i for i, name in enumerate(classifier.names)}
    z = z.double().numpy()
    normal = boundary_normal(z, logits[:, column[attribute]], ratio)
    others = [boundary_normal(z, logits[:, column[name]], ratio) for name in condition_on]
    return project_out(normal, others)


# ---- classifier gradient -----------------------------------------------------------------------------
MAX_PATH = 3  # a walk stops after this many times its distance of path, reached or not
SLACK = 1 - 1e-5  # a straight walk of k steps lands on k * step_size up to rounding: count that as arrived


def gradient_walk(G, classifier, z: torch.Tensor, attribute: str, watched, penalty: float, distances,
                  step_size: float, device: str = "cpu", hold: bool = False) -> torch.Tensor:
    """Latents moved by walking each row of ``z`` up (or, for negative distances, down) the gradient of the score.

    The score is the target logit minus ``penalty`` times the norm of the change of the ``watched``
    attributes' logits since the start (the course's entanglement-aware score). With ``hold`` the watched
    logits are instead held where they started (see ``_held_step``). Each step moves every latent
    ``step_size`` along its own normalised gradient. A walk that is held or penalised zig-zags, so each latent
    walks until it is |d| from where it started, the same distance a saved direction moves it at strength d
    (or until it has walked ``MAX_PATH`` times that). Returns (len(distances), N, z_dim).
    """
    names = classifier.names
    target = names.index(attribute)
    others = [names.index(name) for name in watched]
    out = z.expand(len(distances), *z.shape).clone()  # distance 0: the latents themselves
    for sign in (1.0, -1.0):
        wanted = [(i, abs(d)) for i, d in enumerate(distances) if d * sign > 0]
        if not wanted:
            continue
        farthest = max(d for _, d in wanted)
        max_steps = max(round(MAX_PATH * farthest / step_size), 1)
        for start in range(0, len(z), BATCH):
            batch = z[start:start + BATCH].to(device)
            path = _walk(G, classifier, batch, target, others, penalty, hold, sign, max_steps, step_size, farthest)
            moved = (path - batch).norm(dim=2)  # (steps + 1, n): distance from the start after each step
            rows = torch.arange(len(batch), device=path.device)
            for i, d in wanted:
                reached = moved >= d * SLACK
                first = torch.where(reached.any(0), reached.int().argmax(0), len(path) - 1)
                out[i, start:start + BATCH] = path[first, rows].cpu()
    return out


def _walk(G, classifier, z, target, others, penalty, hold, sign, max_steps, step_size, distance) -> torch.Tensor:
    """(steps + 1, N, z_dim): z_0, z_1, ... of one batch, until every latent is ``distance`` from its start."""
    with torch.no_grad():
        original = classifier.differentiable_logits(G(z))[:, others]
    path = [z]
    current = z
    for _ in range(max_steps):
        current = current.detach().requires_grad_(True)
        logits = classifier.differentiable_logits(G(current))
        if hold and others:
            step = _held_step(logits, current, target, others, original, sign, step_size)
        else:
            score = sign * logits[:, target]
            if others and penalty:
                change = logits[:, others] - original
                score = score - penalty * (change.pow(2).sum(1) + 1e-8).sqrt()
            (grad,) = torch.autograd.grad(score.sum(), current)
            step = step_size * _unit(grad)
        current = current.detach() + step
        path.append(current)
        if bool(((current - z).norm(dim=1) >= distance * SLACK).all()):
            break
    return torch.stack(path)


def _held_step(logits, z, target, others, original, sign, step_size) -> torch.Tensor:
    """A step of length ``step_size`` up the target logit within the level set of the watched logits.

    J holds each latent's gradients of the watched logits (rows). The target's gradient minus its part in J's
    row space changes none of them to first order; the Gauss-Newton term -Jᵀ(JJᵀ)⁻¹Δ then pulls back the
    change Δ that curvature has let in since the start, so the watched attributes stay put along the path.
    """
    def grad_of(values, keep=True):  # per-latent gradients: each row of z only reaches its own logits
        return torch.autograd.grad(values.sum(), z, retain_graph=keep)[0]

    target_grad = grad_of(sign * logits[:, target])
    jacobian = torch.stack([grad_of(logits[:, o], keep=i < len(others) - 1) for i, o in enumerate(others)], 1)
    gram = jacobian @ jacobian.transpose(1, 2) + 1e-6 * torch.eye(len(others), device=z.device)

    def row_space(coefficients):  # Jᵀ (JJᵀ)⁻¹ c, per latent
        return (jacobian.transpose(1, 2) @ torch.linalg.solve(gram, coefficients.unsqueeze(2))).squeeze(2)

    tangent = target_grad - row_space((jacobian @ target_grad.unsqueeze(2)).squeeze(2))
    drift = logits[:, others].detach() - original
    return step_size * _unit(tangent) - row_space(drift)


REFINE_RATE = 0.05  # Adam's step, in latent units: a quarter of the walk's default step


def refine_on_sphere(G, classifier, z: torch.Tensor, moved: torch.Tensor, attribute: str, watched, distances,
                     steps: int, weight: float, margin: float, device: str = "cpu",
                     each_member: bool = False, jitter: int = 0, mean_start: bool = False) -> torch.Tensor:
    """Walked latents ``moved`` (len(distances), N, z_dim) improved by ``steps`` of Adam on their spheres.

    A walk is greedy: each step takes the best local move, so it can spend its distance before the target
    is safely across the boundary. Here every end point moves freely on the sphere of radius |d| around its
    start to minimise softplus(margin - sign(d) * target logit) + weight * |change of the watched logits|²:
    the target pushed until it is ``margin`` logits past the boundary, the watched attributes pulled back to
    where they started. Projecting onto the sphere after each step keeps the distance exactly |d|.
    With ``each_member`` every network of an ensemble classifier is pushed past the margin, not only their
    average: one network far past it cannot make up for another short of it. With ``jitter`` every step scores
    that many randomly shifted and mirrored copies of each image (and of its start, for the watched
    attributes) instead of the image itself: an end point that only a pixel-exact pattern makes the classifier
    read as the attribute does not survive a shift, so Adam is steered towards a change of the face itself.
    The shifts come from a stream of their own with a fixed seed, so an edit repeats exactly.
    With ``mean_start`` each latent is refined a second time, from |d| along the mean of all the walks at that
    strength, and keeps whichever of its two end points ends with the lower loss: a latent whose own walk led
    it into a local optimum gets the start the others agree on.
    """
    names = classifier.names
    target, others = names.index(attribute), [names.index(name) for name in watched]
    rows = [i for i, d in enumerate(distances) if d != 0]  # distance 0 stays the latent itself
    if not rows or not steps:
        return moved
    # Every (distance, latent) pair is one row of a single batch: one loop of ``steps`` for all strengths.
    origins = z.repeat(len(rows), 1)
    signed = torch.tensor([float(distances[i]) for i in rows]).repeat_interleave(len(z)).unsqueeze(1)
    starts = [moved[rows]]
    if mean_start:
        starts.append(z + signed.abs().view(len(rows), len(z), 1) * _unit(starts[0].sub(z).mean(1)).unsqueeze(1))
    shift_stream = torch.Generator().manual_seed(0)
    loss = _RefineLoss(classifier, target, others, weight, margin, each_member)

    def batched(fn, ends):
        return torch.cat([fn(origins[b:b + BATCH].to(device), ends[b:b + BATCH].to(device),
                             signed[b:b + BATCH].to(device)).cpu() for b in range(0, len(origins), BATCH)])

    candidates = [batched(lambda o, e, s: _refine_batch(G, loss, o, e, s, steps, jitter, shift_stream),
                          start.reshape(-1, z.shape[1])) for start in starts]
    refined = candidates[0]
    if len(candidates) > 1:  # every candidate scored with the same shifts, so the comparison is fair
        scores = []
        for candidate in candidates:
            score_stream = torch.Generator().manual_seed(1)
            scores.append(batched(lambda o, e, s: _final_loss(G, loss, o, e, s, jitter, score_stream), candidate))
        best = torch.stack(scores).argmin(0)
        refined = torch.stack(candidates)[best, torch.arange(len(best))]
    out = moved.clone()
    out[rows] = refined.view(len(rows), len(z), -1)
    return out


class _RefineLoss:
    """Per row: softplus(margin - sign * target logit) + weight * |change of the watched logits|²."""

    def __init__(self, classifier, target, others, weight, margin, each_member):
        self.classifier, self.target, self.others = classifier, target, others
        self.weight, self.margin, self.each_member = weight, margin, each_member

    def watched_at_start(self, start_images, shifts) -> torch.Tensor:
        with torch.no_grad():
            return torch.stack([self.classifier.differentiable_logits(_shifted(start_images, s))[:, self.others]
                                for s in shifts]).mean(0)

    def __call__(self, images, original, sign, shifts) -> torch.Tensor:
        members = torch.stack([self.classifier.differentiable_member_logits(_shifted(images, s))
                               for s in shifts]).mean(0)
        logits = members.mean(0)
        pushed = members[:, :, self.target] if self.each_member else logits[:, self.target].unsqueeze(0)
        loss = nn.functional.softplus(self.margin - sign * pushed).mean(0)
        if self.others:
            loss = loss + self.weight * (logits[:, self.others] - original).pow(2).sum(1)
        return loss


def _refine_batch(G, loss, origin, end, signed, steps, jitter, shift_stream) -> torch.Tensor:
    """One batch of :func:`refine_on_sphere`: rows of ``end`` around ``origin``, ``signed`` their distances."""
    with torch.no_grad():
        start_images = G(origin)
    original = loss.watched_at_start(start_images, [None])
    radius, sign = signed.abs(), signed.sign().squeeze(1)
    offset = (end - origin).requires_grad_(True)
    optimizer = torch.optim.Adam([offset], lr=REFINE_RATE)
    for _ in range(steps):
        shifts = _random_shifts(jitter, len(origin), shift_stream, origin.device)
        if jitter:
            original = loss.watched_at_start(start_images, shifts)
        # The gradient for the offset alone (.backward() would pile it up in the networks' weights), less its
        # radial part: only moves along the sphere are allowed, so only they should steer Adam.
        (grad,) = torch.autograd.grad(loss(G(origin + offset), original, sign, shifts).sum(), offset)
        radial = _unit(offset.detach())
        offset.grad = grad - (grad * radial).sum(1, keepdim=True) * radial
        optimizer.step()
        with torch.no_grad():
            offset.copy_(radius * _unit(offset))
    return (origin + offset).detach()


def _final_loss(G, loss, origin, end, signed, jitter, shift_stream) -> torch.Tensor:
    """The refining loss of the end points ``end``, under shifts drawn from ``shift_stream`` when jittered."""
    shifts = _random_shifts(jitter, len(origin), shift_stream, origin.device)
    with torch.no_grad():
        original = loss.watched_at_start(G(origin), shifts)
        return loss(G(end), original, signed.sign().squeeze(1), shifts)


JITTER_PIXELS = 2  # the largest shift of a jittered copy, in pixels each way


def _random_shifts(count: int, n: int, stream: torch.Generator, device) -> list:
    """``count`` shifts of ``n`` images each (see :func:`_random_shift`); for none, [None]: the images as they are."""
    return [_random_shift(n, stream, device) for _ in range(count)] or [None]


def _random_shift(n: int, stream: torch.Generator, device) -> dict:
    """Per image: a shift of up to JITTER_PIXELS each way and whether to mirror it left to right."""
    offsets = torch.randint(-JITTER_PIXELS, JITTER_PIXELS + 1, (2, n), generator=stream).to(device)
    return {"mask": torch.ones(n, dtype=torch.bool, device=device), "dy": offsets[0], "dx": offsets[1],
            "mirror": (torch.rand(n, generator=stream) < 0.5).to(device)}


def _shifted(images: torch.Tensor, shift) -> torch.Tensor:
    """``images`` mirrored where ``shift`` says so, then moved by it (edge pixels repeated into the gap);
    ``images`` themselves for no shift (None)."""
    if shift is None:
        return images
    images = torch.where(shift["mirror"][:, None, None, None], images.flip(3), images)
    return apply_translation(images, shift, JITTER_PIXELS / max(images.shape[2:]), "replicate")


def _unit(vectors: torch.Tensor) -> torch.Tensor:
    return vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)


# ---- SeFa ----------------------------------------------------------------------------------------------
def first_layer(G) -> nn.Module:
    """The first Linear or (transposed) convolution of a generator: where z enters."""
    for module in G.modules():
        if isinstance(module, (nn.Linear, nn.ConvTranspose2d, nn.Conv2d)):
            return module
    raise GancliError(f"{type(G).__name__} has no Linear or convolution layer to read directions from")


def first_layer_matrix(G, z_dim: int) -> torch.Tensor:
    """The first layer as a matrix A (outputs x z_dim) acting on z (class inputs, if any, left out)."""
    layer = first_layer(G)
    weight = layer.weight.detach().double()
    if isinstance(layer, nn.Linear):
        matrix = weight
    elif isinstance(layer, nn.ConvTranspose2d):  # (in, out, kh, kw): z is a 1x1 input
        matrix = weight.reshape(weight.shape[0], -1).T
    else:  # Conv2d (out, in, kh, kw) on a 1x1 input: only the centre tap sees it
        matrix = weight[:, :, weight.shape[2] // 2, weight.shape[3] // 2]
    if matrix.shape[1] < z_dim:
        raise GancliError(f"the first layer of {type(G).__name__} takes {matrix.shape[1]} inputs, fewer than the "
                          f"latent size {z_dim}; SeFa needs z to enter through one linear layer")
    return matrix[:, :z_dim]


def sefa(A: torch.Tensor, k: int) -> list:
    """The ``k`` eigenvectors of AᵀA with the largest eigenvalues (A: outputs x latent size)."""
    A = A.double()
    values, vectors = torch.linalg.eigh(A.T @ A)
    order = values.argsort(descending=True)[:k]
    return [_signed(vectors[:, i]) for i in order.tolist()]


# ---- GANSpace ------------------------------------------------------------------------------------------
def principal_latents(z: torch.Tensor, k: int) -> list:
    """The ``k`` principal components of sampled latents (GANSpace in W, where the mapping has shaped them)."""
    centred = z.double() - z.double().mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    return [_signed(row) for row in v[:min(k, len(v))]]


def ganspace(G, z: torch.Tensor, k: int, device: str = "cpu") -> list:
    """Principal directions of the first layer's activations for latents ``z``, regressed back into z."""
    activations = []
    hook = first_layer(G).register_forward_hook(lambda m, i, o: activations.append(o.detach().flatten(1).cpu()))
    try:
        generate(G, z, device)
    finally:
        hook.remove()
    features = torch.cat(activations).double()
    centred = features - features.mean(0)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    scores = centred @ v[:k].T  # (samples, k) coordinates along the principal components
    solution = torch.linalg.lstsq(scores, z.double()).solution  # z ≈ scores @ solution: row i is component i in z
    return [_signed(row) for row in solution[:min(k, len(solution))]]


def _signed(vector: torch.Tensor) -> torch.Tensor:
    """A unit vector whose largest component is positive: eigenvectors and PCs have no sign of their own."""
    vector = vector / vector.norm()
    return (vector if vector[vector.abs().argmax()] >= 0 else -vector).float()
