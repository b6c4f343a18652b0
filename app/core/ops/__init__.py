"""User-facing operations: each module = one Params dataclass + one Op."""

from app.core.ops.base import Op, Stage, make_params, param, param_specs
from app.core.ops.registry import all_ops, get_op

__all__ = ["Op", "Stage", "all_ops", "get_op", "make_params", "param", "param_specs"]
