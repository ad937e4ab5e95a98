"""Direction finders on toy models whose right answers are known, the protocol scores, and `gancli directions`."""

import json
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from gancli.components import DirectionInputs
from gancli.directions.editing import Edit, along_direction
from gancli.directions.methods import (first_layer_matrix, ganspace, gradient_walk, interfacegan, project_out,
                                       refine_on_sphere, sefa)
from gancli.directions.names import resolve_attribute, resolve_direction
from gancli.directions.scoring import score_edit
from gancli.errors import GancliError
from gancli.latents import LatentSpaces
from gancli.plugins import get_registry
from helpers import one_line_error, run

Z = 6
FACES = ["smiling", "mouth_open", "eyeglasses", "hat"]


class LinearG(nn.Module):
    """'Images' (3, 4, 4) that are a linear map of z: the first layer's weight is U diag(scales) Vᵀ."""

    def __init__(self, scales=(5.0, 3.0, 2.0, 1.0, 0.5, 0.25), seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.U = torch.linalg.qr(torch.randn(48, Z, generator=gen))[0]
        self.V = torch.linalg.qr(torch.randn(Z, Z, generator=gen))[0]
        self.first = nn.Linear(Z, 48, bias=False)
        with torch.no_grad():
            self.first.weight.copy_(self.U @ torch.diag(torch.tensor(scales)) @ self.V.T)

    def forward(self, z, labels=None):
        return self.first(z).view(-1, 3, 4, 4)

    def latent_of(self, images):
        """Invert the map, so a toy classifier can score z-space directions exactly."""
        return torch.linalg.lstsq(self.first.weight, images.reshape(len(images), -1).T).solution.T


class ToyClassifier:
    """Logit of attribute i = 4 * <z, w_i>; smiling and mouth_open share part of their direction (entangled)."""

    def __init__(self, G, weights):
        self.G, self.w = G, weights
        self.names = list(FACES)
        self.info = {"task": "multilabel", "names": self.names, "shape": [3, 4, 4]}

    def differentiable_logits(self, x):
        return 4 * self.G.latent_of(x) @ self.w.T

    def differentiable_member_logits(self, x):
        return self.differentiable_logits(x).unsqueeze(0)

    def logits(self, x):
        with torch.no_grad():
            return self.differentiable_logits(x)

    def probabilities(self, x):
        return self.logits(x).sigmoid()


def toy(correlated=0.6):
    G = LinearG().eval()
    e = torch.eye(Z)
    smile = e[0]
    mouth = correlated * e[0] + (1 - correlated ** 2) ** 0.5 * e[1]
    return G, ToyClassifier(G, torch.stack([smile, mouth, e[2], e[3]]))


def cosine(a, b):
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return float(a @ b / (a.norm() * b.norm()))


def test_attribute_aliases_cover_short_and_celeba_spellings():
    celeba = ["Eyeglasses", "Mouth_Slightly_Open", "Smiling", "Wearing_Hat"]
    assert resolve_attribute("smile", FACES) == "smiling" and resolve_attribute("Smiling", FACES) == "smiling"
    assert resolve_attribute("smile", celeba) == "Smiling" and resolve_attribute("mouth-open", celeba) == \
        "Mouth_Slightly_Open"
    assert resolve_attribute("glasses", celeba) == "Eyeglasses" and resolve_attribute("hat", celeba) == "Wearing_Hat"
    with pytest.raises(GancliError, match="does not know attribute 'beard'.*knows: smiling, mouth_open"):
        resolve_attribute("beard", FACES)


def test_direction_names_resolve_through_aliases_and_unknown_ones_list_the_known():
    known = ["smiling", "smiling-cond-mouth_open", "smiling-gradient-cond-others", "sefa-0"]
    assert resolve_direction("smile", known, FACES) == "smiling"
    assert resolve_direction("smile-cond-mouth", known, FACES) == "smiling-cond-mouth_open"
    assert resolve_direction("Smiling-gradient-cond-others", known, FACES) == "smiling-gradient-cond-others"
    assert resolve_direction("sefa-0", known, []) == "sefa-0"
    with pytest.raises(GancliError, match="unknown direction 'frown'; known directions: smiling, "):
        resolve_direction("frown", known, FACES)


def test_interfacegan_recovers_the_boundary_and_conditioning_removes_the_entangled_part():
    G, clf = toy()
    z = torch.randn(2000, Z, generator=torch.Generator().manual_seed(0))
    plain = interfacegan(G, clf, z, "smiling", (), ratio=0.25)
    assert cosine(plain, clf.w[0]) > 0.97
    conditional = interfacegan(G, clf, z, "smiling", ("mouth_open",), ratio=0.25)
    assert abs(cosine(conditional, clf.w[1])) < 0.05  # orthogonal to mouth_open's boundary
    assert cosine(conditional, clf.w[0]) > 0.7  # still a smile
    with pytest.raises(GancliError, match="span"):
        project_out(clf.w[0].numpy(), [clf.w[0].numpy()])


def test_gradient_editor_walks_the_asked_path_and_the_penalty_spares_the_watched_attribute():
    G, clf = toy()
    z = torch.randn(16, Z, generator=torch.Generator().manual_seed(1))
    plain = gradient_walk(G, clf, z, "smiling", (), 0.0, [-2.0, 0.0, 2.0], step_size=0.25)
    assert plain.shape == (3, 16, Z) and torch.equal(plain[1], z)
    assert torch.allclose((plain[2] - z).norm(dim=1), torch.full((16,), 2.0), atol=1e-4)  # a straight path here
    assert cosine((plain[2] - z).mean(0), clf.w[0]) > 0.99
    penalised = gradient_walk(G, clf, z, "smiling", ("mouth_open",), 1.0, [2.0], step_size=0.25)[0]
    mouth_plain = ((plain[2] - z) @ clf.w[1]).abs().mean()
    mouth_penalised = ((penalised - z) @ clf.w[1]).abs().mean()
    assert mouth_penalised < 0.5 * mouth_plain and ((penalised - z) @ clf.w[0]).mean() > 0.5


class CurvedClassifier(ToyClassifier):
    """The toy's logits bent by a smooth non-linearity, so a first-order projection alone lets some drift in."""

    def differentiable_logits(self, x):
        latent = self.G.latent_of(x)
        return 4 * (latent + 0.3 * latent.pow(2).roll(1, dims=1)) @ self.w.T


def test_holding_an_attribute_walks_its_level_set():
    G, clf = toy()
    z = torch.randn(16, Z, generator=torch.Generator().manual_seed(1))
    held = gradient_walk(G, clf, z, "smiling", ("mouth_open",), 0.0, [2.0], step_size=0.25, hold=True)[0]
    logits, start = clf.logits(G(held)), clf.logits(G(z))
    assert torch.allclose(logits[:, 1], start[:, 1], atol=1e-3)  # mouth_open untouched
    assert (logits[:, 0] - start[:, 0]).min() > 1.0  # smiling up
    assert torch.allclose((held - z).norm(dim=1), torch.full((16,), 2.0), atol=1e-3)  # straight: nothing to undo

    curved = CurvedClassifier(G, clf.w)
    start = curved.logits(G(z))

    def walk(**how):
        moved = gradient_walk(G, curved, z, "smiling", ("mouth_open", "hat"), distances=[2.0], step_size=0.1,
                              **how)[0]
        change = curved.logits(G(moved)) - start
        distance = (moved - z).norm(dim=1)
        assert (distance >= 2.0 - 1e-4).all() and (distance < 2.1).all()  # as far as asked, whatever the path
        return change[:, [1, 3]].abs().max(), change[:, 0].mean()

    held_drift, held_gain = walk(penalty=0.0, hold=True)
    penalised_drift, _ = walk(penalty=1.0)
    assert held_drift < 0.05 and held_gain > 1.0
    assert penalised_drift > 10 * held_drift  # a penalty only discourages what holding prevents


def test_refining_keeps_the_distance_pushes_the_target_and_spares_the_watched_attribute():
    G, clf = toy()
    curved = CurvedClassifier(G, clf.w)
    z = torch.randn(16, Z, generator=torch.Generator().manual_seed(1))
    distances = [-2.0, 0.0, 2.0]
    random = nn.functional.normalize(torch.randn(3, 16, Z, generator=torch.Generator().manual_seed(2)), dim=2)
    start_points = z + torch.tensor(distances).view(3, 1, 1) * random  # a poor start: random moves
    start = curved.logits(G(z))

    def refined(weight):
        return refine_on_sphere(G, curved, z, start_points, "smiling", ("mouth_open",), distances, steps=40,
                                weight=weight, margin=5.0)

    def change(moved, column):
        return curved.logits(G(moved))[:, column] - start[:, column]

    kept, free = refined(1.0), refined(0.0)
    assert torch.equal(kept[1], z)
    assert torch.allclose((kept[[0, 2]] - z).norm(dim=2), torch.full((2, 16), 2.0), atol=1e-4)
    up, down = change(kept[2], 0), change(kept[0], 0)  # random moves change it by 0 on average
    assert up.mean() > 2 and down.mean() < -2 and (up > 0).sum() >= 12 and (down < 0).sum() >= 12
    assert change(kept[2], 1).abs().mean() < 0.5 * change(free[2], 1).abs().mean()


class TwoNetworks(ToyClassifier):
    """An ensemble of two networks that read the smile along different latent axes, the first ten times as
    strongly: their average is far past any margin long before the second network sees a smile."""

    def differentiable_member_logits(self, x):
        latent = self.G.latent_of(x)
        first, second = self.w.clone(), self.w.clone()
        first[0], second[0] = 10 * torch.eye(Z)[0], torch.eye(Z)[1]
        return 4 * torch.stack([latent @ first.T, latent @ second.T])

    def differentiable_logits(self, x):
        return self.differentiable_member_logits(x).mean(0)


def test_refining_each_member_pushes_the_network_the_average_hides():
    G, clf = toy()
    two = TwoNetworks(G, clf.w)
    z = 0.1 * torch.randn(16, Z, generator=torch.Generator().manual_seed(1))
    walked = (z + 2.0 * torch.eye(Z)[0]).unsqueeze(0)  # a walk that followed the first network alone

    def second_network_smile(each_member):
        moved = refine_on_sphere(G, two, z, walked, "smiling", (), [2.0], steps=80, weight=0.0, margin=3.0,
                                 each_member=each_member)[0]
        assert torch.allclose((moved - z).norm(dim=1), torch.full((16,), 2.0), atol=1e-4)
        members = two.differentiable_member_logits(G(moved)).detach()
        assert (members[0, :, 0] > 3.0).all()  # the first network stays past the margin either way
        return members[1, :, 0]

    assert second_network_smile(False).abs().max() < 1.0  # the average is satisfied: nothing moves
    assert (second_network_smile(True) > 2.5).all()


class BlobAndChecker(nn.Module):
    """Images (1, 8, 8): z[0] brightens the whole image (a change of the face itself), z[1] draws a
    one-pixel checkerboard (a pattern only a pixel-exact reader sees)."""

    def __init__(self):
        super().__init__()
        rows, cols = torch.meshgrid(torch.arange(8), torch.arange(8), indexing="ij")
        self.register_buffer("checker", ((rows + cols) % 2 * 2 - 1).float())

    def forward(self, z, labels=None):
        return z[:, :1, None, None] * torch.ones(8, 8) + z[:, 1:2, None, None] * self.checker


class CheckerReader:
    """A classifier whose smile reads brightness a little and the exact checkerboard ten times as strongly."""

    names = ["smiling"]
    info = {"task": "multilabel", "names": names, "shape": [1, 8, 8]}

    def __init__(self, G):
        self.checker = G.checker

    def differentiable_member_logits(self, x):
        image = x[:, 0]
        return (image.mean((1, 2)) + 10 * (image * self.checker).mean((1, 2))).view(1, -1, 1)

    def differentiable_logits(self, x):
        return self.differentiable_member_logits(x).mean(0)


def test_refining_with_jitter_changes_what_survives_a_shift_not_the_pixel_exact_pattern():
    G, z = BlobAndChecker(), torch.zeros(8, 2)
    reader = CheckerReader(G)
    start = (z + torch.tensor([0.0, 2.0])).unsqueeze(0)  # where a plain walk would end: all checkerboard

    def refined(jitter):
        moved = refine_on_sphere(G, reader, z, start, "smiling", (), [2.0], steps=120, weight=0.0, margin=5.0,
                                 jitter=jitter)[0]
        assert torch.allclose(moved.norm(dim=1), torch.full((8,), 2.0), atol=1e-4)
        return moved

    assert (refined(0)[:, 1] > 1.9).all()  # the checkerboard is what the reader climbs fastest
    assert (refined(2)[:, 0] > 1.5).all()  # under shifts it averages out: brightness is what is left
    assert torch.equal(refined(2), refined(2))  # the shifts have a stream of their own: an edit repeats


class TwoBumps:
    """A smile read from a tall bump at (2, 0) and a lower one at (-2, 0): around the origin, on the sphere of
    radius 2, the lower bump is a local optimum that refining from inside it cannot leave."""

    names = ["smiling"]

    def differentiable_member_logits(self, x):
        tall, low = torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.0])
        logit = 6 * (-(x - tall).pow(2).sum(1)).exp() + 3 * (-(x - low).pow(2).sum(1)).exp()
        return logit.view(1, -1, 1)

    def differentiable_logits(self, x):
        return self.differentiable_member_logits(x).mean(0)


def test_refining_from_the_mean_start_lifts_latents_out_of_a_local_optimum():
    z = 0.01 * torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    ends = torch.tensor([[2.0, 0.0]] * 6 + [[-2.0, 0.01]] * 2)  # two walks stalled on the lower bump
    walked = (z + ends).unsqueeze(0)

    def refined(mean_start):
        moved = refine_on_sphere(nn.Identity(), TwoBumps(), z, walked, "smiling", (), [2.0], steps=60,
                                 weight=0.0, margin=5.0, mean_start=mean_start)[0]
        assert torch.allclose((moved - z).norm(dim=1), torch.full((8,), 2.0), atol=1e-4)
        return moved - z

    assert (refined(False)[6:, 0] < -1.9).all()  # Adam alone stays on the lower bump
    assert (refined(True)[:, 0] > 1.9).all()  # the others' start reaches the tall one, and its loss is lower


def test_gradient_finder_refuses_penalty_and_hold_together():
    G, clf = toy()
    finder = get_registry().get("direction_finder", "classifier-gradient").cls(penalty=1.0, hold=True)
    with pytest.raises(GancliError, match="either penalty or hold"):
        finder.edit(DirectionInputs(G, Z, clf, "smiling", ("mouth_open",)), torch.zeros(2, Z), [1.0])


def test_sefa_and_pca_find_the_generators_strongest_axes():
    G = LinearG()
    found = sefa(first_layer_matrix(G, Z), k=2)
    assert abs(cosine(found[0], G.V[:, 0])) > 0.999 and abs(cosine(found[1], G.V[:, 1])) > 0.999
    z = torch.randn(3000, Z, generator=torch.Generator().manual_seed(0))
    pcs = ganspace(G, z, k=2)
    assert abs(cosine(pcs[0], G.V[:, 0])) > 0.98 and abs(cosine(pcs[1], G.V[:, 1])) > 0.95
    again = ganspace(G, z, k=2)
    assert torch.equal(pcs[0], again[0])  # seeded, and the sign convention is fixed


def test_protocol_scores_success_drift_and_the_rescoring_row():
    G, clf = toy(correlated=0.0)
    context = SimpleNamespace(spaces=LatentSpaces(G, Z))
    along = lambda w: (lambda z, strengths: Edit(along_direction(z, w, strengths), strengths, "toy"))  # noqa: E731
    smile = score_edit(context, clf, "smiling", "smiling", along(clf.w[0]), n=400)
    assert smile.success > 0.97 and smile.drift < 0.01 and smile.latent_step == pytest.approx(3.0)
    assert smile.change["smiling"] > 0.3 and smile.signed["smiling"] > 0.3
    hat = score_edit(context, clf, "toward-hat", "smiling", along(clf.w[3]), n=400)
    assert hat.success < 0.05 and hat.change["hat"] > 0.3 and hat.drift > 0.1


def test_finders_are_registered_components():
    result = run("list", "direction-finders")
    assert result.exit_code == 0, result.output
    for name in ("interfacegan", "classifier-gradient", "sefa", "pca"):
        assert name in result.output
    finder = get_registry().get("direction_finder", "gradient").cls(penalty=0.5)
    assert finder.edits_per_latent and finder.supervised
    G, clf = toy()
    found = finder.find(DirectionInputs(G, Z, clf, "smiling", ("mouth_open",)))
    assert list(found) == ["smiling-gradient-cond-mouth_open"]


@pytest.fixture
def faces_run(tmp_path, monkeypatch):
    """A tiny run trained on faces and a quickly trained attribute classifier for it."""
    monkeypatch.setenv("GANCLI_CACHE_DIR", str(tmp_path / "cache"))
    result = run("train", "--data", "faces", "--data-opt", "n=64", "--arch-opt", "width=4", "--batch-size", "8",
                 "--steps", "2", "--out", tmp_path / "run", "--device", "cpu")
    assert result.exit_code == 0, result.output
    clf = tmp_path / "clf.safetensors"
    assert run("classifier", "train", "--data", "faces", "--data-opt", "n=64", "--steps", "3", "-o", clf).exit_code == 0
    return tmp_path / "run", clf


def test_directions_fit_and_list(faces_run):
    folder, clf = faces_run
    fit = run("directions", "fit", folder, "--method", "interfacegan", "--attribute", "smile", "--condition-on",
              "mouth", "--classifier", clf, "--method-opt", "samples=80")
    assert fit.exit_code == 0, fit.output
    assert "smiling-cond-mouth_open" in fit.output and (folder / "classifier.safetensors").is_file()
    assert run("directions", "fit", folder, "--method", "sefa", "--method-opt", "k=2").exit_code == 0
    assert run("directions", "fit", folder, "--method", "pca", "--method-opt", "k=2",
               "--method-opt", "samples=50").exit_code == 0
    grad = run("directions", "fit", folder, "--method", "gradient", "--attribute", "hat", "--method-opt", "samples=4",
               "--method-opt", "length=0.4")
    assert grad.exit_code == 0 and "hat-gradient" in grad.output
    listed = json.loads(run("directions", "list", folder, "--json").output)
    assert sorted(listed["directions"]) == ["hat-gradient", "pca-0", "pca-1", "sefa-0", "sefa-1",
                                            "smiling-cond-mouth_open"]
    assert listed["directions"]["smiling-cond-mouth_open"]["condition_on"] == ["mouth_open"]
    assert listed["attributes"] == FACES
    text = run("directions", "list", folder).output
    assert "interfacegan on smiling, conditioned on mouth_open" in text


def test_directions_fit_refuses_bad_requests(faces_run):
    folder, clf = faces_run
    one_line_error(run("directions", "fit", folder, "--method", "interfacegan", "--classifier", clf), "--attribute")
    one_line_error(run("directions", "fit", folder, "--method", "sefa", "--attribute", "smile"), "unsupervised")
    one_line_error(run("directions", "fit", folder, "--method", "interfacegan", "--attribute", "beard",
                       "--classifier", clf), "does not know attribute 'beard'")
    one_line_error(run("directions", "fit", folder, "--method", "svm"), "unknown direction finder 'svm'")
    one_line_error(run("directions", "fit", "pretrained:faces", "--method", "sefa"), "read-only")
    one_line_error(run("directions", "list", folder), "gancli directions fit")
