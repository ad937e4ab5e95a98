"""Torch-free inference: run an exported ONNX generator with onnxruntime, numpy and Pillow only.

Nothing in this package may import torch (``gancli generate`` must start in a fraction of a second, and
it is what a light install without torch runs); a test checks ``sys.modules`` after a whole command.
"""
