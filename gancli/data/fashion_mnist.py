"""Fashion-MNIST (Zalando's 70,000 28x28 garment images, 10 classes, in MNIST's IDX format): where its files are,
what its classes are called, and how to get it when it is missing. The files are read by gancli.data.mnist.

Importing this module does not import torch (the dataset plugin reads its constants to register the dataset).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import GancliError

# Where Debian's and Ubuntu's package puts the four gzipped IDX files (`dpkg -L dataset-fashion-mnist`): the one
# place gancli looks when no folder is given.
DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
AUTHORS = "https://github.com/zalandoresearch/fashion-mnist"
HOW_TO_GET = (f"install it with `apt-get install dataset-fashion-mnist` (Debian, Ubuntu), or download its four "
              f"IDX files from {AUTHORS} and pass --data fashion-mnist:FOLDER")
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot")
SPLITS = {"train": 60_000, "test": 10_000}  # images in each split of the published dataset


def fashion_mnist_folder(path: str = "") -> Path:
    """The folder holding the IDX files: ``path``, or the Debian package's folder when ``path`` is empty."""
    if not path:
        folder = Path(DEBIAN_DIR)
        if not folder.is_dir():
            raise GancliError(f"Fashion-MNIST is not installed (no {DEBIAN_DIR}): {HOW_TO_GET}")
        return folder
    folder = Path(path).expanduser()
    if folder.is_file():
        raise GancliError(f"fashion-mnist:PATH takes the folder holding the four IDX files, not the file {path} "
                          f"(mnist:FILE reads one images file)")
    if not folder.is_dir():
        raise GancliError(f"Fashion-MNIST folder {path} does not exist; {HOW_TO_GET}")
    return folder


def load_fashion_mnist(path: str, split: str, size: int):
    """Fashion-MNIST's ``split`` (train or test) as a DataBundle of (N, 1, size, size) images with named classes."""
    from .mnist import load_mnist

    if split not in SPLITS:
        raise GancliError(f'Fashion-MNIST has no split "{split}"; use train (60,000 images) or test (10,000)')
    return load_mnist(str(fashion_mnist_folder(path)), split, size, name="Fashion-MNIST", class_names=CLASS_NAMES,
                      missing_hint=HOW_TO_GET)
