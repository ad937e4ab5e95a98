"""Differentiable augmentation of the discriminator's inputs (DiffAugment; ADA's adaptive probability).

``ops`` holds the image transformations the built-in augmentation components use, ``pipeline`` chains the
chosen components and ``ada`` steers their probability from a measure of discriminator overfitting.
Everything here imports torch; the components that users name live in ``gancli.default_plugins.augmentations``.
"""
