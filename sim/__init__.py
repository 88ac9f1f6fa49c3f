"""treatysim: agent-based simulation of treaty-withdrawal cascades between states."""

__version__ = "0.1.0"
