"""Controllable generation: named latent directions, edits along them, and their measurement.

- :mod:`.names` — attribute aliases (``smile`` -> ``smiling``) and direction names;
- :mod:`.methods` — InterFaceGAN, classifier gradient, SeFa and GANSpace as plain functions;
- :mod:`.context` — a run's generator, directions and attribute classifier;
- :mod:`.fit` — ``gancli directions fit``; :mod:`.editing` — ``gancli edit``;
- :mod:`.scoring` — success, drift and the re-scoring matrix (PROTOCOLS.md section 4);
- :mod:`.latents` — latent files and edit strengths.

The finders themselves are registry components (``gancli.default_plugins.directions``).
"""
