"""Built-in direction finders: InterFaceGAN, the course's classifier gradient, SeFa and GANSpace (PCA)."""

import gancli


class InterFaceGANFinder(gancli.DirectionFinder):
    """InterFaceGAN: the unit normal of a linear SVM between latents the classifier scores high and low."""

    supervised = True

    class Options(gancli.Options):
        samples: int = gancli.field(6000, help="latents sampled and scored by the classifier", min=20)
        ratio: float = gancli.field(0.25, help="fraction of highest and of lowest scored latents the SVM separates",
                                    min=0.01, max=0.5)

    def find(self, inputs):
        from gancli.directions.methods import interfacegan
        from gancli.directions.names import direction_name

        normal = interfacegan(inputs.generator, inputs.classifier, inputs.sample(self.samples, inputs.seed),
                              inputs.attribute, inputs.condition_on, self.ratio, inputs.device)
        return {direction_name(inputs.attribute, inputs.condition_on): normal}


class ClassifierGradientFinder(gancli.DirectionFinder):
    """The course's method: gradient ascent on the attribute's logit w.r.t. z, optionally penalising (or holding)
    other attributes."""

    supervised = True
    edits_per_latent = True

    class Options(gancli.Options):
        penalty: float = gancli.field(
            0.0, min=0.0, help="weight of the norm of the change in the other attributes' logits subtracted from "
                               "the score (the course's penalty_weight); with --condition-on and 0 here, 1 is used")
        hold: bool = gancli.field(
            False, help="instead of a penalty, hold the watched attributes (--condition-on, or every other one) "
                        "where they started: each step moves along the level set of their logits")
        step_size: float = gancli.field(0.2, help="latent distance moved per gradient step", min=1e-4)
        samples: int = gancli.field(512, help="latents walked to average a global direction", min=1)
        length: float = gancli.field(3.0, help="distance each latent walks from its start, for the global direction",
                                    min=1e-3)
        refine: int = gancli.field(
            0, min=0, help="after the walk, this many Adam steps at the same distance that push the attribute "
                           "`margin` logits past the boundary while pulling the watched attributes back (40 is a "
                           "good start with hold=true)")
        refine_weight: float = gancli.field(0.03, min=0.0, help="weight of the squared change of the watched "
                                                                "attributes' logits while refining")
        margin: float = gancli.field(3.0, help="logits past the boundary that refining aims the attribute at")
        each_member: bool = gancli.field(
            False, help="refining pushes every network of an ensemble classifier past the margin, not only their "
                        "average (an edit all of them agree on carries over to other classifiers more often)")
        jitter: int = gancli.field(
            0, min=0, help="refining scores this many randomly shifted and mirrored copies of each image instead of "
                           "the image itself, so the edit must survive a shift to count (0: off)")
        mean_start: bool = gancli.field(
            False, help="refining also starts each latent along the mean direction of all the walks and keeps "
                        "whichever end point has the lower loss (a latent whose own walk stalled gets the others' "
                        "start)")

    def _watched(self, inputs) -> tuple:
        """(attributes whose change is penalised or held, penalty weight, their name in the direction's name)."""
        names = [n for n in inputs.classifier.names if n != inputs.attribute]
        if self.hold and self.penalty:
            raise gancli.GancliError("classifier-gradient takes either penalty or hold (two ways of sparing the other "
                                     "attributes), not both; drop one --method-opt")
        if self.hold:
            watched = tuple(inputs.condition_on) or tuple(names)
            return watched, 0.0, tuple(inputs.condition_on) or ("others",)
        if inputs.condition_on:
            return tuple(inputs.condition_on), self.penalty or 1.0, tuple(inputs.condition_on)
        if self.penalty:
            return tuple(names), self.penalty, ("others",)
        return (), 0.0, ()

    def find(self, inputs):
        from gancli.directions.names import direction_name

        _, _, label = self._watched(inputs)
        z = inputs.sample(self.samples, inputs.seed)
        moved = self.edit(inputs, z, [self.length])[0]
        return {direction_name(inputs.attribute, label, gradient=True): (moved - z).mean(0)}

    def edit(self, inputs, z, strengths):
        from gancli.directions.methods import gradient_walk, refine_on_sphere

        watched, penalty, _ = self._watched(inputs)
        args = (inputs.generator, inputs.classifier, z)
        moved = gradient_walk(*args, inputs.attribute, watched, penalty, list(strengths), self.step_size,
                              inputs.device, hold=self.hold)
        if self.refine:
            moved = refine_on_sphere(*args, moved, inputs.attribute, watched, list(strengths), self.refine,
                                     self.refine_weight, self.margin, inputs.device, self.each_member,
                                     self.jitter, self.mean_start)
        return moved


class SeFaFinder(gancli.DirectionFinder):
    """SeFa: closed-form directions, the top eigenvectors of AᵀA for the generator's first layer A, or in W its
    style (modulation) weights (unsupervised)."""

    class Options(gancli.Options):
        k: int = gancli.field(8, help="number of directions (sefa-0 is the strongest)", min=1)

    def find(self, inputs):
        from gancli.directions.methods import first_layer_matrix, sefa

        if inputs.space == "z":
            A = first_layer_matrix(inputs.view.spaces.G if inputs.view else inputs.generator, inputs.z_dim)
        elif inputs.space == "w":
            A = inputs.view.spaces.style_weights()
        else:
            raise gancli.GancliError("sefa reads the weights that take z or w into the network; fit it with --space w "
                                     "(a W direction moves every layer of W+ latents)")
        return {f"sefa-{i}": v for i, v in enumerate(sefa(A, self.k))}


class PCAFinder(gancli.DirectionFinder):
    """GANSpace: principal components of the first layer's activations, regressed into z; in W, of the sampled w
    themselves (unsupervised)."""

    class Options(gancli.Options):
        k: int = gancli.field(8, help="number of directions (pca-0 explains the most variance)", min=1)
        samples: int = gancli.field(4000, help="latents whose activations are analysed", min=2)

    def find(self, inputs):
        from gancli.directions.methods import ganspace, principal_latents

        latents = inputs.sample(self.samples, inputs.seed)
        if inputs.space == "z":
            vectors = ganspace(inputs.view.spaces.G if inputs.view else inputs.generator, latents, self.k,
                               inputs.device)
        else:
            vectors = principal_latents(latents, self.k)
        return {f"pca-{i}": v for i, v in enumerate(vectors)}


@gancli.hookimpl
def register_direction_finders(register):
    register("interfacegan", InterFaceGANFinder, aliases=("ifg",))
    register("classifier-gradient", ClassifierGradientFinder, aliases=("gradient",))
    register("sefa", SeFaFinder)
    register("pca", PCAFinder, aliases=("ganspace",))
