"""Built-in metrics. The formulas live in gancli.metrics and are imported when a metric computes."""

import gancli

MIXTURE_CENTRES = {"ring": "ring_centres", "grid": "grid_centres"}
KID_MIN_SAMPLES = 100
STACKED_SAMPLES_PER_MODE = 26  # the stacked-MNIST protocol scores 26,000 samples for 1,000 modes


class FrechetMetric(gancli.Metric):
    """Fréchet distance between Gaussians fitted to real and generated features (FID with Inception features)."""

    data_kinds = ("image", "points")

    def compute(self, inputs):
        from gancli.metrics.frechet import frechet_between

        return {"fid": frechet_between(inputs.real_features, inputs.fake_features)}


class KernelDistanceMetric(gancli.Metric):
    """Kernel distance (KID): unbiased cubic-kernel MMD^2 over random subsets, with its standard deviation."""

    data_kinds = ("image", "points")

    class Options(gancli.Options):
        subsets: int = gancli.field(100, help="number of random subsets averaged", min=1)
        subset_size: int = gancli.field(0, help="samples per subset; 0 = 1,000 or half the samples, if fewer",
                                        min=0)
        seed: int = gancli.field(0, help="seed of the subset draws")

    def compute(self, inputs):
        from gancli.metrics.kid import kernel_distance

        available = min(len(inputs.real_features), len(inputs.fake_features))
        if available < KID_MIN_SAMPLES:
            raise gancli.GancliError(f"KID needs at least {KID_MIN_SAMPLES} samples on each side, got {available}; "
                                     f"raise -n (or leave kid out of --metrics)")
        size = self.subset_size or min(1000, available // 2)
        if size > available:
            raise gancli.GancliError(f"kid subset_size {size} is larger than the {available} samples available; "
                                     f"lower --metric-opt kid.subset_size or raise -n")
        mean, std = kernel_distance(inputs.real_features, inputs.fake_features, self.subsets, size, self.seed)
        return {"kid": mean, "kid_std": std}


class ManifoldMetric(gancli.Metric):
    """Precision/recall (k-NN manifolds, Kynkäänniemi et al.) and density/coverage (Naeem et al.) on features."""

    data_kinds = ("image", "points")

    class Options(gancli.Options):
        k: int = gancli.field(3, help="neighbours for precision and recall (3 in Kynkäänniemi et al.)", min=1)
        k_dc: int = gancli.field(5, help="neighbours for density and coverage (5 in Naeem et al.)", min=1)

    def compute(self, inputs):
        from gancli.metrics.prdc import density_coverage, precision_recall

        available = min(len(inputs.real_features), len(inputs.fake_features))
        if available <= max(self.k, self.k_dc):
            raise gancli.GancliError(f"prdc needs more than {max(self.k, self.k_dc)} samples on each side, got "
                                     f"{available}; raise -n")
        precision, recall = precision_recall(inputs.real_features, inputs.fake_features, self.k)
        density, coverage = density_coverage(inputs.real_features, inputs.fake_features, self.k_dc)
        return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


class ClassAccuracyMetric(gancli.Metric):
    """Conditional generators: fraction of samples asked for class k that gancli's classifier calls k."""

    needs = ("classes", "labels")

    def compute(self, inputs):
        import numpy as np

        return {"class_accuracy": float(np.mean(np.asarray(inputs.classes) == np.asarray(inputs.labels)))}


class ClassCoverageMetric(gancli.Metric):
    """Modes: distinct classes gancli's classifier finds in the samples, and KL(class histogram || uniform).

    Classes made of digits (stacked digits) also get the KL's two parts: each channel's digit balance and the
    dependence between channels.
    """

    needs = ("classes",)

    def samples_wanted(self, setting):
        return STACKED_SAMPLES_PER_MODE * setting.spec.num_classes

    def compute(self, inputs):
        from gancli.metrics.coverage import class_coverage, digit_factors

        spec = inputs.setting.spec
        return class_coverage(inputs.classes, spec.num_classes, digit_factors(spec.class_names))


class MixtureMetric(gancli.Metric):
    """Ring and grid mixtures (PacGAN protocol): modes covered, high-quality %, KL over the modes."""

    needs = ("samples",)
    data_kinds = ("points",)
    default_for = ("points",)

    def applies(self, setting):
        if setting.data_name not in MIXTURE_CENTRES:
            return f"it knows the centres of the {' and '.join(MIXTURE_CENTRES)} datasets only"
        return None

    def samples_wanted(self, setting):
        return 2500

    def compute(self, inputs):
        from gancli.data import mixtures
        from gancli.metrics.coverage import mixture_scores

        setting = inputs.setting
        centres = getattr(mixtures, MIXTURE_CENTRES[setting.data_name])()
        std = setting.data_options["std"]
        if std <= 0:
            raise gancli.GancliError(f"the {setting.data_name} data has std {std}; high quality needs a positive std")
        scores = mixture_scores(inputs.fake.numpy(), centres.numpy(), std)
        return {"modes": scores["modes"], "hq_percent": 100 * scores["hq"], "kl": scores["kl"]}


class CheckerboardMetric(gancli.Metric):
    """Checkerboard artifacts: share of spectral energy at the frequencies stride-2 upsampling aliases to."""

    needs = ("samples",)
    default_for = ()  # asked for by name: gancli evaluate RUN --metrics checkerboard

    class Options(gancli.Options):
        radius: int = gancli.field(1, help="frequencies within this distance of each aliasing peak count (1: 3x3)",
                                   min=0)

    def applies(self, setting):
        height, width = setting.spec.shape[-2:]
        if height % 2 or width % 2:
            return f"it needs an even image side; the data is {height}x{width}"
        return None

    def compute(self, inputs):
        from gancli.metrics.checkerboard import checkerboard_share

        return {"checkerboard": checkerboard_share(inputs.fake, self.radius)}


@gancli.hookimpl
def register_metrics(register):
    register("fid", FrechetMetric, aliases=("fd", "frechet"))
    register("kid", KernelDistanceMetric)
    register("prdc", ManifoldMetric, aliases=("precision-recall",))
    register("class-accuracy", ClassAccuracyMetric)
    register("modes", ClassCoverageMetric, aliases=("stacked",))
    register("mixture", MixtureMetric, aliases=("ring-grid",))
    register("checkerboard", CheckerboardMetric)
