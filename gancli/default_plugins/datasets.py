"""Built-in datasets: bundled digits, 2-D mixtures, image folders, local MNIST files, Fashion-MNIST, drawn faces and
CelebA."""

import gancli
from gancli.data.fashion_mnist import DEBIAN_DIR


class DigitsDataset(gancli.Dataset):
    """scikit-learn's bundled 1,797 handwritten digits (8x8, labels 0-9), resized; nothing downloaded."""

    class Options(gancli.Options):
        size: int = gancli.field(28, help="image side in pixels after resizing from 8x8", min=8, max=256)
        fraction: float = gancli.field(1.0, help="keep this share of the images, the same share of each class "
                                       "(0.1: 180 images), for small-data training", min=0.001, max=1.0)
        subset_seed: int = gancli.field(0, help="seed of the images a fraction below 1 keeps")

    def load(self):
        from gancli.data.digits import balanced_subset, load_digits

        bundle = load_digits(self.size)
        return balanced_subset(bundle, self.fraction, self.subset_seed) if self.fraction < 1 else bundle

    def holdout(self):
        """The images a fraction below 1 leaves out: never trained on, so the diagnostics can compare D's scores
        on them with its scores on the training images (None for the whole dataset)."""
        from gancli.data.digits import balanced_subset, load_digits

        if self.fraction >= 1:
            return None
        return balanced_subset(load_digits(self.size), self.fraction, self.subset_seed, complement=True)


class RingDataset(gancli.Dataset):
    """8 Gaussians on the unit circle, std 0.01 (PacGAN protocol); 2-D points."""

    class Options(gancli.Options):
        n: int = gancli.field(100_000, help="number of training points", min=1)
        std: float = gancli.field(0.01, help="standard deviation of each Gaussian", min=0.0)
        seed: int = gancli.field(0, help="seed the points are drawn from")

    def load(self):
        from gancli.data.mixtures import ring_centres, sample_mixture

        return sample_mixture(ring_centres(), self.std, self.n, self.seed)

    def modes(self):
        """(centres, std) of the mixture: what mode coverage counts (the PacGAN protocol)."""
        from gancli.data.mixtures import ring_centres

        return ring_centres(), self.std


class GridDataset(gancli.Dataset):
    """25 Gaussians on a 5x5 grid at -4..4, std 0.05 (PacGAN protocol); 2-D points."""

    class Options(gancli.Options):
        n: int = gancli.field(100_000, help="number of training points", min=1)
        std: float = gancli.field(0.05, help="standard deviation of each Gaussian", min=0.0)
        seed: int = gancli.field(0, help="seed the points are drawn from")

    def load(self):
        from gancli.data.mixtures import grid_centres, sample_mixture

        return sample_mixture(grid_centres(), self.std, self.n, self.seed)

    def modes(self):
        """(centres, std) of the mixture: what mode coverage counts (the PacGAN protocol)."""
        from gancli.data.mixtures import grid_centres

        return grid_centres(), self.std


class FolderDataset(gancli.Dataset):
    """Your own images: any folder of PNG/JPEG files, one sub-folder per class optional (--data folder:PATH)."""

    argument = "path"

    class Options(gancli.Options):
        path: str = gancli.field("", help="the folder (also given as --data folder:PATH or just --data PATH)")
        size: int = gancli.field(64, help="image side in pixels (centre-cropped to a square, then resized)", min=4)
        channels: int = gancli.field(0, help="1 (grey) or 3 (RGB); 0 decides from the images", choices=(0, 1, 3))

    def load(self):
        from gancli.data.folder import load_folder

        if not self.path:
            raise gancli.GancliError("dataset folder needs a path: --data folder:PATH")
        return load_folder(self.path, self.size, self.channels)


class MNISTDataset(gancli.Dataset):
    """MNIST from local IDX files (train-images-idx3-ubyte[.gz] ...): --data mnist:PATH."""

    argument = "path"

    class Options(gancli.Options):
        path: str = gancli.field("", help="folder with the IDX files, or the images file itself")
        split: str = gancli.field("train", help="which files to read", choices=("train", "test", "all"))
        size: int = gancli.field(28, help="image side in pixels", min=4)

    def load(self):
        from gancli.data.mnist import load_mnist

        if not self.path:
            raise gancli.GancliError("dataset mnist needs a path: --data mnist:PATH (a folder with the IDX files)")
        return load_mnist(self.path, self.split, self.size)

    def holdout(self):
        """The test images when training on the train split (never trained on); None otherwise."""
        from gancli.data.mnist import load_mnist

        return load_mnist(self.path, "test", self.size) if self.split == "train" else None


class FashionMNISTDataset(gancli.Dataset):
    """Fashion-MNIST (70,000 28x28 garments, 10 classes): the Debian package's files, or fashion-mnist:PATH."""

    argument = "path"

    class Options(gancli.Options):
        path: str = gancli.field("", help=f"folder with the four IDX files (.gz or not); empty: {DEBIAN_DIR}, where "
                                 "the Debian package puts them")
        split: str = gancli.field("train", help="train: 60,000 images; test: 10,000 (what evaluation compares with)",
                                  choices=("train", "test"))
        size: int = gancli.field(28, help="image side in pixels", min=4)

    def load(self):
        from gancli.data.fashion_mnist import load_fashion_mnist

        return load_fashion_mnist(self.path, self.split, self.size)

    def holdout(self):
        """The test images when training on the train split (never trained on); None otherwise."""
        from gancli.data.fashion_mnist import load_fashion_mnist

        return load_fashion_mnist(self.path, "test", self.size) if self.split == "train" else None

    def evaluation_splits(self):
        """The published protocol: compare with the test images, which training never sees, and train gancli's
        classifier (the features of its Fréchet distance, the judge of its modes) on the training images."""
        return {"reference": {"split": "test"}, "classifier": {"split": "train"}}


class StackedDigitsDataset(gancli.Dataset):
    """Three built-in digits stacked as RGB channels: 1,000 modes (the stacked-MNIST protocol); labels 000-999."""

    class Options(gancli.Options):
        size: int = gancli.field(28, help="image side in pixels of each digit", min=8, max=256)
        n: int = gancli.field(60_000, help="number of stacked images (a floor at the protocol's 26,000 samples needs 52,000)",
                             min=1)
        seed: int = gancli.field(0, help="seed the digit triples are drawn from")

    def load(self):
        from gancli.data.stacked import load_stacked_digits

        return load_stacked_digits(self.size, self.n, self.seed)

    def channel_source(self):
        """Each channel is a digits image: evaluation classifies channels with a digits classifier."""
        return "digits", {"size": self.size}


class FacesDataset(gancli.Dataset):
    """Cartoon faces drawn on the fly (RGB) with attributes smiling, mouth_open, eyeglasses, hat; nothing downloaded."""

    class Options(gancli.Options):
        size: int = gancli.field(32, help="image side in pixels", choices=(32, 64))
        n: int = gancli.field(20_000, help="number of faces", min=1)
        seed: int = gancli.field(0, help="seed the faces are drawn from")
        correlation: float = gancli.field(
            0.6, min=-1.0, max=1.0,
            help="ties mouth_open to smiling: P(open|smiling) = (1+c)/2, P(open|not smiling) = (1-c)/2; 0 = independent")
        eyeglasses: float = gancli.field(0.4, help="probability of eyeglasses", min=0.0, max=1.0)
        hat: float = gancli.field(0.4, help="probability of a hat", min=0.0, max=1.0)

    def load(self):
        from gancli.data.faces import load_faces

        return load_faces(self.size, self.n, self.seed, self.correlation, self.eyeglasses, self.hat)


class CelebADataset(gancli.Dataset):
    """CelebA from its standard folder (img_align_celeba/ and list_attr_celeba.txt): --data celeba:PATH."""

    argument = "path"

    class Options(gancli.Options):
        path: str = gancli.field("", help="the folder holding list_attr_celeba.txt and img_align_celeba/")
        size: int = gancli.field(64, help="image side in pixels after cropping", min=4)
        crop: int = gancli.field(140, help="side of the centre square cropped before resizing (0 = the largest)",
                                 min=0)
        limit: int = gancli.field(0, help="read only the first N images of the attribute file (0 = all)", min=0)

    def load(self):
        from gancli.data.celeba import load_celeba

        if not self.path:
            raise gancli.GancliError("dataset celeba needs a path: --data celeba:PATH (the CelebA folder)")
        return load_celeba(self.path, self.size, self.crop, self.limit)


@gancli.hookimpl
def register_datasets(register):
    register("digits", DigitsDataset)
    register("ring", RingDataset)
    register("grid", GridDataset)
    register("folder", FolderDataset, aliases=("images",))
    register("mnist", MNISTDataset)
    register("fashion-mnist", FashionMNISTDataset)
    register("stacked-digits", StackedDigitsDataset)
    register("faces", FacesDataset)
    register("celeba", CelebADataset)
