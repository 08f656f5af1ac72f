"""The version of scgeo that runs (``0.0.0`` from a source tree that is not installed).

Its own module so that the workspace and its backends can stamp it without importing the
package's face (:mod:`scgeo`), which imports them.
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("scgeo")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
