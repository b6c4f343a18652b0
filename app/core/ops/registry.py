"""Explicit op registry (spandrel style: no folder scanning, so PyInstaller sees every import)."""

from __future__ import annotations

from functools import cache

from app.core.ops.base import Op


@cache
def _ops() -> dict[str, Op]:
    from app.core.ops.deblur import DeblurOp
    from app.core.ops.defocus import DefocusOp
    from app.core.ops.dejpeg import DejpegOp
    from app.core.ops.denoise import DenoiseOp
    from app.core.ops.develop import DevelopOp
    from app.core.ops.exposure import ExposureOp
    from app.core.ops.lowlight import LowlightOp
    from app.core.ops.nlm import NlmDenoiseOp
    from app.core.ops.shake import ShakeOp
    from app.core.ops.unsharp import UnsharpOp

    # JPEG artefacts go first: brightening (low light, exposure) and sharpening would amplify the blocks.
    ops: list[Op] = [DejpegOp(), LowlightOp(), ExposureOp(), DenoiseOp(), NlmDenoiseOp(), DeblurOp(), ShakeOp(),
                     DefocusOp(), UnsharpOp(), DevelopOp()]
    return {op.id: op for op in ops}


def get_op(op_id: str) -> Op:
    try:
        return _ops()[op_id]
    except KeyError:
        raise KeyError(f"unknown op {op_id!r}; known ops: {', '.join(o.id for o in all_ops())}") from None


def all_ops(*, include_internal: bool = False) -> list[Op]:
    """User-facing ops in menu order (``develop`` is inserted by the pipeline, not chosen)."""
    return [op for op in _ops().values() if include_internal or not getattr(op, "internal", False)]


def register_op(op: Op) -> None:
    """Add an op at run time (tests, plugins). Replaces an op with the same id."""
    _ops()[op.id] = op


def unregister_op(op_id: str) -> None:
    _ops().pop(op_id, None)
