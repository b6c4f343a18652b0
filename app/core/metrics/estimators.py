"""Alias of :mod:`app.core.measure.estimators` (moved there so the ops can use the estimators without an
import cycle: app.core.metrics imports the op registry). Existing imports of this name keep working: the
module object is the same, so attribute reads and monkeypatching behave as before."""

import sys

from app.core.measure import estimators as _impl

sys.modules[__name__] = _impl
