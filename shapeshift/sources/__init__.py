"""Loaders: turn a data-source or entity description into a DataFrame.

This layer knows nothing of the configuration model or the pipeline; it takes plain mappings.
"""

from .context import SourceContext
from .loaders import load_table

__all__ = ["SourceContext", "load_table"]
