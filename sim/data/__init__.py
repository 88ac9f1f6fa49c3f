"""Bundled reference data (package data; see README.md in this folder)."""
