"""Adversarial tests: what an attacker could get from what scgeo publishes and accepts."""
