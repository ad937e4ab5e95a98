"""Evaluation: the metric formulas (numpy, on features or points), sample sources, feature extractors and
the evaluator that computes each metric on generated samples and its floor on real data."""
