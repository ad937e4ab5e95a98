"""Loading images from a folder and MNIST from IDX files, on small files written by the tests."""

import gzip

import numpy as np
import pytest
import torch
from PIL import Image

from gancli.data.folder import load_folder
from gancli.data.mnist import load_mnist
from gancli.errors import GancliError


def save(path, array, mode=None):
    """Write a numpy array as an image file, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path)
    return path


def grey(value, h=8, w=8):
    return np.full((h, w), value, dtype=np.uint8)


def colour(rgb, h=8, w=8):
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (h, w, 3)).copy()


# --- folders -----------------------------------------------------------------------------------------


def test_class_subfolders_give_sorted_names_and_labels(tmp_path):
    save(tmp_path / "zebra" / "a.png", colour((255, 0, 0)))
    save(tmp_path / "ant" / "b.png", colour((0, 255, 0)))
    save(tmp_path / "ant" / "deeper" / "c.JPG", colour((0, 0, 255)))
    bundle = load_folder(str(tmp_path), size=4, channels=0)
    assert bundle.spec.class_names == ("ant", "zebra")
    assert bundle.labels.dtype == torch.int64
    assert bundle.labels.tolist() == [0, 0, 1]  # ant/b.png, ant/deeper/c.JPG, zebra/a.png
    assert bundle.x.shape == (3, 3, 4, 4) and bundle.x.dtype == torch.float32
    assert bundle.spec.shape == (3, 4, 4) and bundle.spec.kind == "image"
    assert bundle.x[2, 0].eq(1).all() and bundle.x[2, 1:].eq(-1).all()  # zebra is pure red
    assert bundle.notes == []


def test_flat_folder_has_no_classes(tmp_path):
    for i in range(3):
        save(tmp_path / f"{i}.png", colour((i * 50, 10, 200)))
    bundle = load_folder(str(tmp_path), size=8, channels=3)
    assert bundle.labels is None and bundle.spec.class_names == ()
    assert bundle.x.shape == (3, 3, 8, 8)
    assert bundle.x.min() >= -1 and bundle.x.max() <= 1


def test_single_subfolder_or_loose_images_give_no_classes(tmp_path):
    save(tmp_path / "only" / "a.png", grey(10))
    save(tmp_path / "only" / "b.png", grey(20))
    assert load_folder(str(tmp_path), size=4, channels=0).labels is None
    save(tmp_path / "other" / "c.png", grey(30))
    assert load_folder(str(tmp_path), size=4, channels=0).spec.class_names == ("only", "other")
    save(tmp_path / "loose.png", grey(40))
    assert load_folder(str(tmp_path), size=4, channels=0).labels is None


def test_other_extensions_are_ignored(tmp_path):
    save(tmp_path / "a.png", grey(0))
    (tmp_path / "readme.txt").write_text("not an image")
    bundle = load_folder(str(tmp_path), size=4, channels=0)
    assert len(bundle.x) == 1 and bundle.notes == []


def test_auto_channels_grey_vs_colour(tmp_path):
    save(tmp_path / "grey" / "a.png", grey(0))
    save(tmp_path / "grey" / "b.jpg", colour((90, 90, 90)))  # RGB with equal channels counts as grey
    save(tmp_path / "grey" / "c.bmp", grey(255))
    bundle = load_folder(str(tmp_path / "grey"), size=4, channels=0)
    assert bundle.x.shape == (3, 1, 4, 4) and bundle.spec.shape == (1, 4, 4)
    assert bundle.x[0].eq(-1).all() and bundle.x[2].eq(1).all()

    save(tmp_path / "grey" / "d.png", colour((200, 30, 30)))
    assert load_folder(str(tmp_path / "grey"), size=4, channels=0).x.shape == (4, 3, 4, 4)
    assert load_folder(str(tmp_path / "grey"), size=4, channels=1).x.shape == (4, 1, 4, 4)


def test_corrupt_file_is_skipped_and_counted(tmp_path):
    save(tmp_path / "a.png", grey(0))
    save(tmp_path / "c.png", grey(255))
    (tmp_path / "b.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
    bundle = load_folder(str(tmp_path), size=4, channels=0)
    assert len(bundle.x) == 2
    assert len(bundle.notes) == 1
    assert bundle.notes[0].startswith(f"skipped 1 unreadable file of 3 in {tmp_path} (first: b.png: ")


def test_truncated_jpeg_is_skipped(tmp_path):
    good = save(tmp_path / "a.jpg", np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8))
    (tmp_path / "b.jpg").write_bytes(good.read_bytes()[:200])
    bundle = load_folder(str(tmp_path), size=4, channels=0)
    assert len(bundle.x) == 1 and "b.jpg" in bundle.notes[0]


def test_every_file_unreadable(tmp_path):
    (tmp_path / "a.png").write_bytes(b"garbage")
    (tmp_path / "b.jpeg").write_bytes(b"")
    with pytest.raises(GancliError, match=r"none of the 2 image files .* could be read \(first: a.png: "):
        load_folder(str(tmp_path), size=4, channels=0)


def test_decompression_bomb_is_skipped(tmp_path, monkeypatch):
    save(tmp_path / "big.png", grey(0, 64, 64))
    save(tmp_path / "small.png", grey(0, 4, 4))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64*64 > 2 * 1000: Pillow refuses it
    bundle = load_folder(str(tmp_path), size=4, channels=0)
    assert len(bundle.x) == 1 and "big.png" in bundle.notes[0]


def test_palette_png(tmp_path):
    save(tmp_path / "p.png", colour((0, 0, 255)), mode="P")
    bundle = load_folder(str(tmp_path), size=4, channels=0)
    assert bundle.x.shape == (1, 3, 4, 4)
    assert torch.allclose(bundle.x[0, :, 0, 0], torch.tensor([-1.0, -1.0, 1.0]))


def test_sixteen_bit_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 65535], [32896, 65535]], dtype=np.uint16)  # 32896 = 128 * 257
    save(tmp_path / "deep.png", np.kron(values, np.ones((4, 4), dtype=np.uint16)))
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    bundle = load_folder(str(tmp_path), size=8, channels=0)
    assert bundle.x.shape == (1, 1, 8, 8)
    assert bundle.x[0, 0, 0, 0] == -1 and bundle.x[0, 0, 0, 7] == 1 and bundle.x[0, 0, 7, 7] == 1
    assert bundle.x[0, 0, 7, 0].item() == pytest.approx(128 / 127.5 - 1, abs=1e-6)


def test_rgba_is_composited_on_white(tmp_path):
    rgba = np.zeros((8, 8, 4), dtype=np.uint8)
    rgba[:, :4] = (255, 0, 0, 255)  # opaque red on the left, fully transparent on the right
    save(tmp_path / "a.png", rgba)
    bundle = load_folder(str(tmp_path), size=8, channels=0)
    assert bundle.x.shape == (1, 3, 8, 8)
    assert torch.allclose(bundle.x[0, :, 0, 0], torch.tensor([1.0, -1.0, -1.0]))
    assert bundle.x[0, :, :, 7].eq(1).all()


def test_grey_with_alpha_stays_grey(tmp_path):
    save(tmp_path / "a.png", np.dstack([grey(0), grey(255)]), mode="LA")
    assert load_folder(str(tmp_path), size=4, channels=0).x.shape == (1, 1, 4, 4)


def test_non_square_is_centre_cropped(tmp_path):
    wide = np.zeros((8, 24), dtype=np.uint8)
    wide[:, 8:16] = 255  # a white middle third between black sides
    save(tmp_path / "wide.png", wide)
    bundle = load_folder(str(tmp_path), size=8, channels=0)
    assert bundle.x.shape == (1, 1, 8, 8)
    assert bundle.x.eq(1).all()


def test_exif_orientation_is_applied(tmp_path):
    wide = np.zeros((4, 8), dtype=np.uint8)
    wide[:, 4:] = 255  # black left half, white right half
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display, so left becomes top
    Image.fromarray(wide).save(tmp_path / "turned.png", exif=exif)
    column = load_folder(str(tmp_path), size=4, channels=0).x[0, 0, :, 0]
    assert column.tolist() == [-1, -1, 1, 1]

def test_missing_folder(tmp_path):
    with pytest.raises(GancliError, match="does not exist"):
        load_folder(str(tmp_path / "nope"), size=8, channels=0)


def test_empty_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(GancliError, match="contains no PNG/JPEG images; put images in it or in one sub-folder"):
        load_folder(str(tmp_path), size=8, channels=0)


def test_file_instead_of_folder(tmp_path):
    file = save(tmp_path / "a.png", grey(0))
    with pytest.raises(GancliError, match="not a folder"):
        load_folder(str(file), size=8, channels=0)


# --- MNIST -------------------------------------------------------------------------------------------


def idx_bytes(array, magic):
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path, array, magic, gzipped=False):
    data = idx_bytes(array, magic)
    if gzipped:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def digits(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_split(folder, prefix, n, gzipped=False, dotted=False, seed=0):
    images, labels = digits(n, seed)
    sep = "." if dotted else "-"
    write_idx(folder / f"{prefix}-images{sep}idx3-ubyte", images, 0x803, gzipped)
    write_idx(folder / f"{prefix}-labels{sep}idx1-ubyte", labels, 0x801, gzipped)
    return images, labels


@pytest.mark.parametrize("gzipped", [False, True])
def test_mnist_folder(tmp_path, gzipped):
    images, labels = write_split(tmp_path, "train", 5, gzipped)
    bundle = load_mnist(str(tmp_path), "train", 28)
    assert bundle.x.shape == (5, 1, 28, 28) and bundle.x.dtype == torch.float32
    assert bundle.spec.shape == (1, 28, 28)
    assert bundle.spec.class_names == tuple(str(i) for i in range(10))
    assert bundle.labels.dtype == torch.int64 and bundle.labels.tolist() == labels.tolist()
    assert torch.allclose(bundle.x[:, 0], torch.from_numpy(images).float() / 127.5 - 1)


def test_mnist_resize_and_range(tmp_path):
    write_split(tmp_path, "t10k", 5, dotted=True)
    bundle = load_mnist(str(tmp_path), "test", 32)
    assert bundle.x.shape == (5, 1, 32, 32) and bundle.spec.shape == (1, 32, 32)
    assert bundle.x.min() >= -1 and bundle.x.max() <= 1


def test_mnist_all_concatenates_train_then_test(tmp_path):
    _, train_labels = write_split(tmp_path, "train", 5, seed=1)
    _, test_labels = write_split(tmp_path, "t10k", 3, gzipped=True, seed=2)
    bundle = load_mnist(str(tmp_path), "all", 28)
    assert bundle.x.shape == (8, 1, 28, 28)
    assert bundle.labels.tolist() == train_labels.tolist() + test_labels.tolist()


def test_mnist_single_images_file(tmp_path):
    images, labels = digits(4)
    file = write_idx(tmp_path / "t10k-images-idx3-ubyte", images, 0x803, gzipped=True)
    alone = load_mnist(str(file), "train", 28)  # the split is ignored for a file
    assert alone.x.shape == (4, 1, 28, 28) and alone.labels is None and alone.spec.class_names == ()
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, 0x801)
    assert load_mnist(str(file), "train", 28).labels.tolist() == labels.tolist()


def test_mnist_truncated_file(tmp_path):
    write_split(tmp_path, "train", 5)
    file = tmp_path / "train-images-idx3-ubyte"
    file.write_bytes(file.read_bytes()[:-10])
    with pytest.raises(GancliError, match="train-images-idx3-ubyte is truncated or not an IDX file"):
        load_mnist(str(tmp_path), "train", 28)


def test_mnist_truncated_gzip(tmp_path):
    write_split(tmp_path, "train", 5, gzipped=True)
    file = tmp_path / "train-labels-idx1-ubyte.gz"
    file.write_bytes(file.read_bytes()[:20])
    with pytest.raises(GancliError, match="train-labels-idx1-ubyte.gz is truncated"):
        load_mnist(str(tmp_path), "train", 28)


def test_mnist_wrong_magic(tmp_path):
    write_split(tmp_path, "train", 5)
    file = tmp_path / "train-images-idx3-ubyte"
    file.write_bytes(idx_bytes(digits(5)[1], 0x801))  # a labels file where the images should be
    with pytest.raises(GancliError, match="not an IDX images file .*expected 0x00000803"):
        load_mnist(str(tmp_path), "train", 28)


def test_mnist_truncated_header(tmp_path):
    file = tmp_path / "train-images-idx3-ubyte"
    file.write_bytes(bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(GancliError, match="train-images-idx3-ubyte is truncated: it ends inside its 16-byte header"):
        load_mnist(str(file), "train", 28)

def test_mnist_count_mismatch(tmp_path):
    write_split(tmp_path, "train", 5)
    write_idx(tmp_path / "train-labels-idx1-ubyte", digits(4)[1], 0x801)
    with pytest.raises(GancliError, match="has 5 images but .* has 4 labels"):
        load_mnist(str(tmp_path), "train", 28)


def test_mnist_missing_files(tmp_path):
    write_split(tmp_path, "train", 5)
    with pytest.raises(GancliError) as error:
        load_mnist(str(tmp_path), "test", 28)
    message = str(error.value)
    assert str(tmp_path) in message
    assert "t10k-images-idx3-ubyte" in message and "t10k-labels.idx1-ubyte" in message


def test_mnist_missing_path_and_bad_split(tmp_path):
    with pytest.raises(GancliError, match="does not exist"):
        load_mnist(str(tmp_path / "nope"), "train", 28)
    with pytest.raises(GancliError, match='unknown MNIST split "tests".*did you mean "test"'):
        load_mnist(str(tmp_path), "tests", 28)
