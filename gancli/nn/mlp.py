"""The course's basic GAN: fully connected generator and discriminator, for images or 2-D points."""

import math

import torch
from torch import nn

from .common import check_labels, one_hot


class MLPGenerator(nn.Module):
    """z (+ one-hot class) -> Linear+BatchNorm+ReLU blocks of width w * mult (the course: w, 2w, 4w, 8w) -> shape."""

    def __init__(self, z_dim: int, shape: tuple, width: int, num_classes: int = 0, bounded: bool = True,
                 batch_norm: bool = True, multipliers: tuple = (1, 2, 4, 8)):
        super().__init__()
        self.z_dim, self.shape, self.num_classes = z_dim, tuple(shape), num_classes
        layers, fan_in = [], z_dim + num_classes
        for mult in multipliers:
            norm = nn.BatchNorm1d(width * mult) if batch_norm else nn.Identity()
            layers += [nn.Linear(fan_in, width * mult), norm, nn.ReLU(inplace=True)]
            fan_in = width * mult
        layers.append(nn.Linear(fan_in, math.prod(self.shape)))
        if bounded:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z, labels=None):
        check_labels(labels, self.num_classes)
        if self.num_classes:
            z = torch.cat([z, one_hot(labels, self.num_classes, z)], dim=1)
        return self.net(z).view(z.shape[0], *self.shape)


class MLPDiscriminator(nn.Module):
    """flattened x (+ one-hot class) -> Linear+LeakyReLU(0.2) blocks of width w * mult (the course: 4w, 2w, w)."""

    def __init__(self, shape: tuple, width: int, num_classes: int = 0, multipliers: tuple = (4, 2, 1)):
        super().__init__()
        self.num_classes = num_classes
        layers, fan_in = [], math.prod(shape) + num_classes
        for mult in multipliers:
            layers += [nn.Linear(fan_in, width * mult), nn.LeakyReLU(0.2, inplace=True)]
            fan_in = width * mult
        layers.append(nn.Linear(fan_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x, labels=None):
        check_labels(labels, self.num_classes)
        x = x.flatten(1)
        if self.num_classes:
            x = torch.cat([x, one_hot(labels, self.num_classes, x)], dim=1)
        return self.net(x).view(-1)
