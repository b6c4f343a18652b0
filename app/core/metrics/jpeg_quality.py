"""JPEG quality from a file's quantisation tables: the Auto plan and ``compare`` import it from here.

The one implementation lives in :mod:`app.core.io.jpeg_tables`, where the ``dejpeg`` op can reach it too
(``ops`` cannot import ``metrics``: ``metrics`` imports ``ops``).
"""

from __future__ import annotations

from app.core.io.jpeg_tables import jpeg_quality_from_file

__all__ = ["jpeg_quality_from_file"]
