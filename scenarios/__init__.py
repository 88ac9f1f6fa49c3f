"""Bundled scenario files (installed as the package ``treatysim.scenarios``)."""
