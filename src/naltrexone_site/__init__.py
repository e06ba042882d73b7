"""Naltrexone evidence map: a claim registry validated and rendered as a static site."""

__version__ = "0.1.0"
