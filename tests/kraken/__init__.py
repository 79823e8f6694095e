"""Kraken adapter tests: unit parts offline, the rest against the Kraken simulator on loopback."""
