"""Bundled scenario files (installed as the package ``sim.scenarios``)."""
