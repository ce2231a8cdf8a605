"""deuteron's version (the one in pyproject.toml), in a module that imports nothing."""

__version__ = "0.1.0"
