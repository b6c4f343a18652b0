"""Tiled inference shared by every model: overlap, seamless blending, memory-driven tile size.

How a run works:

1. The image ``(N, C, H, W)`` is (virtually) reflect-padded at the bottom/right to a multiple
   of ``multiple``. Tiles are multiples of ``multiple`` and start at multiples of it (so a
   Bayer phase or a UNet's stride is never broken). Per axis, the fewest tiles of at most
   ``tile`` pixels are used, all shrunk to the one size that just covers the image with
   ``overlap`` between neighbours, so little work is repeated.
2. Each tile goes to the device alone, ``fn`` maps it to ``(N, C', h*scale, w*scale)``,
   and the result comes back to a float32 buffer on the CPU, so device memory holds one tile.
   A CPU runtime with several streams (``fn.depth``, ``fn.session()``: OpenVINO) gets that many
   tiles at once when the tiles split evenly between them; results are still blended in order.
3. Blending: along each axis a tile's weight is 0 for the ``overlap // 4`` pixels next to an
   inner tile edge (those saw a truncated receptive field), then rises as a raised cosine
   (``sin^2``) over the next ``overlap // 2`` pixels, and is 1 inside. Neighbouring ramps are
   complementary (``sin^2 + cos^2 = 1``); weights are normalised by their per-axis sum, which
   is separable because tiles form a grid, so the blend is exact with no full-size weight map.

What holds: if ``fn`` is translation-equivariant with a receptive-field radius ``r <=
overlap // 4`` (after rounding ``overlap`` up to ``multiple``), the result equals
``fn(pad_to_multiple(x))`` cropped, *everywhere including the image borders* (border tiles see
the real border, exactly as the untiled run does), up to float rounding. With larger receptive
fields the blend hides the (small) differences smoothly: there are no seams.

Out of memory: the tile is halved (down to a minimum of ``2 * overlap``) and the run restarts;
on a GPU at the minimum the run moves to the CPU with a warning; on the CPU it raises
:class:`NotEnoughMemoryError`.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from app.core.context import RunContext
from app.core.infer.device import pick_device
from app.core.infer.memory import (
    NotEnoughMemoryError,
    auto_tile_size,
    is_oom_error,
    release_memory,
    round_down,
    round_up,
)

log = logging.getLogger("photorestore")

TileFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TilePlan:
    """Tile grid over the padded image, in input pixels.

    Attributes:
        tile_h, tile_w: tile size (<= the requested tile; the padded image size along an axis
            that one tile covers).
        ys, xs: tile start offsets; a tile covers ``[y, y + tile_h) x [x, x + tile_w)``.
        overlap: effective overlap (requested, rounded up to ``multiple``).
        margin, blend: zero-weight band and raised-cosine ramp width at inner tile edges.
        padded: ``(Hp, Wp)``, the image size rounded up to ``multiple``.
    """

    tile_h: int
    tile_w: int
    ys: tuple[int, ...]
    xs: tuple[int, ...]
    overlap: int
    margin: int
    blend: int
    padded: tuple[int, int]

    @property
    def count(self) -> int:
        return len(self.ys) * len(self.xs)


def min_tile_size(overlap: int, multiple: int = 1) -> int:
    """Smallest tile the tiler accepts: room for the overlap on both sides, at least 16 px."""
    ov = round_up(overlap, multiple)
    return round_up(max(2 * ov, 16), multiple)


def _axis_layout(length: int, tile: int, overlap: int, multiple: int) -> tuple[int, tuple[int, ...]]:
    """(tile size, starts) along one axis: the fewest tiles of at most ``tile`` px, then the
    smallest equal size that covers ``length`` with them. Shrinking to fit (instead of a last
    tile shifted back over its neighbour) keeps recomputed pixels near the overlap's own cost:
    2048 px in <= 1024 px tiles is 3 x 704 px, not 3 x 1024 px."""
    if length <= tile:
        return length, (0,)
    n = math.ceil((length - overlap) / (tile - overlap))
    size = min(tile, round_up(math.ceil((length - overlap) / n) + overlap, multiple))
    stride = size - overlap
    return size, tuple(sorted({min(i * stride, length - size) for i in range(n)}))


def plan_tiles(height: int, width: int, tile: int, overlap: int = 32, multiple: int = 1) -> TilePlan:
    """The tile grid :func:`tiled_apply` uses for an ``height`` x ``width`` input."""
    ov = round_up(max(int(overlap), 0), multiple)
    tile = max(round_down(tile, multiple), min_tile_size(overlap, multiple))
    hp, wp = round_up(height, multiple), round_up(width, multiple)
    margin = ov // 4
    tile_h, ys = _axis_layout(hp, tile, ov, multiple)
    tile_w, xs = _axis_layout(wp, tile, ov, multiple)
    return TilePlan(tile_h, tile_w, ys, xs, ov, margin, ov - 2 * margin, (hp, wp))


def _ramp(n: int) -> torch.Tensor:
    k = torch.arange(n, dtype=torch.float64) + 0.5
    return torch.sin(0.5 * math.pi * k / n) ** 2


def _axis_weights(length: int, starts: tuple[int, ...], size: int, margin: int, blend: int,
                  scale: int) -> list[torch.Tensor]:
    """Per-tile 1-D weights at output resolution, normalised so they sum to 1 at every pixel."""
    size_s, margin_s, blend_s = size * scale, margin * scale, blend * scale
    total = torch.zeros(length * scale, dtype=torch.float64)
    weights = []
    for a in starts:
        w = torch.ones(size_s, dtype=torch.float64)
        if a > 0:  # neighbour before: fade in after the truncated-context band
            w[:margin_s] = 0
            w[margin_s:margin_s + blend_s] *= _ramp(blend_s)
        if a + size < length:  # neighbour after: fade out symmetrically
            w[size_s - margin_s:] = 0
            w[size_s - margin_s - blend_s:size_s - margin_s] *= _ramp(blend_s).flip(0)
        total[a * scale:a * scale + size_s] += w
        weights.append(w)
    if bool((total <= 0).any()):  # cannot happen for tile >= 2 * overlap; guard the invariant anyway
        raise AssertionError("tile weights do not cover the image")
    return [(w / total[a * scale:a * scale + size_s]).float() for a, w in zip(starts, weights)]


def _pad(t: torch.Tensor, ph: int, pw: int) -> torch.Tensor:
    if not ph and not pw:
        return t
    mode = "reflect" if ph < t.shape[-2] and pw < t.shape[-1] else "replicate"
    return F.pad(t, (0, pw, 0, ph), mode=mode)


def _extract(x: torch.Tensor, y0: int, h: int, x0: int, w: int) -> torch.Tensor:
    height, width = x.shape[-2:]
    y1, x1 = min(y0 + h, height), min(x0 + w, width)
    # Only tiles at the bottom/right border reach into the padding; padding them alone equals
    # padding the whole image (they hold more real pixels than the pad) without copying it.
    return _pad(x[..., y0:y1, x0:x1], y0 + h - y1, x0 + w - x1)


def _default_rebind(fn: TileFn) -> Callable[[torch.device], TileFn]:
    if isinstance(fn, torch.nn.Module):
        return lambda dev: copy.deepcopy(fn).to(device=dev, dtype=torch.float32)
    return lambda dev: fn  # plain functions are assumed to follow their input's device


def tiled_apply(
    fn: TileFn,
    x: torch.Tensor,
    *,
    tile: int | None = None,
    overlap: int = 32,
    multiple: int = 1,
    scale: int = 1,
    ctx: RunContext | None = None,
    device: torch.device | str | None = None,
    bytes_per_pixel: float | None = None,
    dtype: torch.dtype | None = None,
    min_tile: int | None = None,
    rebind: Callable[[torch.device], TileFn] | None = None,
) -> torch.Tensor:
    """Apply ``fn`` to ``x`` tile by tile and blend the results without seams.

    Args:
        fn: maps ``(N, C, h, w)`` on ``device`` to ``(N, C', h*scale, w*scale)``; ``h`` and
            ``w`` are multiples of ``multiple``. Called once per tile under ``torch.no_grad``.
        x: ``(N, C, H, W)`` input on the CPU, any value range; stays on the CPU.
        tile: tile edge in input pixels; default ``ctx.tile``, else chosen from free memory.
        overlap: pixels shared by neighbouring tiles (see the module doc for what is exact).
        multiple: tile sizes and offsets are multiples of this (network stride, Bayer phase).
        scale: integer output/input size ratio (2 for a packed-RAW -> full-resolution net).
        ctx: progress per tile, cancellation between tiles, warnings on fallbacks.
        device: where tiles run; default ``ctx.device`` (``"auto"``).
        bytes_per_pixel: peak working bytes per input pixel at float32 (halved for a 16-bit
            ``dtype``), for the automatic tile size.
        dtype: tile dtype on the device (e.g. ``torch.float16``); default ``x.dtype``.
        min_tile: smallest tile before giving up on the device; default ``2 * overlap``.
            Set it to the image size to forbid tiling (models that are not tile-safe).
        rebind: ``rebind(device) -> fn`` for the CPU fallback after a GPU OOM; default moves
            an ``nn.Module`` copy to the CPU and reuses plain functions as they are.

    Returns:
        ``(N, C', H*scale, W*scale)`` float32 on the CPU.

    Raises:
        Cancelled: ``ctx`` was cancelled (checked before every tile).
        NotEnoughMemoryError: not even ``min_tile`` fits on the CPU.
        ValueError: bad shapes, or ``fn`` returned an unexpected size.
    """
    if x.ndim != 4:
        raise ValueError(f"tiled_apply expects (N, C, H, W), got shape {tuple(x.shape)}")
    if multiple < 1 or scale < 1 or overlap < 0:
        raise ValueError(f"need multiple >= 1, scale >= 1, overlap >= 0 (got {multiple}, {scale}, {overlap})")
    ctx = ctx if ctx is not None else RunContext()
    x = x.detach().cpu()
    if not x.is_floating_point():
        x = x.float()
    dev = pick_device(device if device is not None else ctx.device, ctx=ctx)
    dtype = dtype or x.dtype
    rebind = rebind or _default_rebind(fn)
    height, width = x.shape[-2:]
    full = max(round_up(height, multiple), round_up(width, multiple))
    floor = min(full, max(min_tile or 0, min_tile_size(overlap, multiple)))
    bpp = bytes_per_pixel
    if bpp is not None and dtype in (torch.float16, torch.bfloat16):
        bpp = bpp / 2
    requested = tile if tile is not None else ctx.tile
    size = requested or auto_tile_size(dev, bytes_per_pixel=bpp, multiple=multiple, min_tile=floor)
    size = min(max(int(size), floor), full)
    first = (size, dev)
    while True:
        try:
            out = _run(fn, x, plan_tiles(height, width, size, overlap, multiple), scale, ctx, dev, dtype)
            break
        except Exception as exc:  # noqa: BLE001 - only OOM is handled, the rest re-raised
            if not is_oom_error(exc):
                raise
            log.debug("out of memory with %d px tiles on %s: %s", size, dev, exc)
        # Outside the except block: the traceback (and the failed tile's tensors) is gone now.
        release_memory(dev)
        if size > floor:
            size = max(floor, round_down(size // 2, multiple))
        elif dev.type != "cpu":
            ctx.warn(f"out of memory on {dev} even with {size} px tiles; continuing on the CPU (slower)")
            dev, dtype, fn = torch.device("cpu"), torch.float32, rebind(torch.device("cpu"))
            auto = auto_tile_size(dev, bytes_per_pixel=bytes_per_pixel, multiple=multiple, min_tile=floor)
            size = min(max(min(requested or auto, auto), floor), full)
        else:
            raise NotEnoughMemoryError(
                f"not enough memory to process a {width}x{height} image even in {size} px tiles on the CPU; "
                "close other applications or reduce the image size")
    if (size, dev) != first and dev == first[1]:
        ctx.warn(f"ran out of memory with {first[0]} px tiles on {dev}; finished with {size} px tiles")
    return out


def _now(fn: TileFn) -> Callable[[torch.Tensor], Callable[[], torch.Tensor]]:
    """One tile at a time: ``start`` runs the tile, ``result`` hands it back."""
    def start(t: torch.Tensor) -> Callable[[], torch.Tensor]:
        y = fn(t)
        return lambda: y

    return start


def _starter(fn: TileFn, plan: TilePlan) -> tuple[Callable[[torch.Tensor], Callable[[], torch.Tensor]], int]:
    """(start, depth): several tiles in flight where ``fn`` offers it (a runtime's streams, ``fn.depth`` and
    ``fn.session()``) and the tiles split evenly between them (a last tile alone on one stream would run on
    one thread, slower than on all of them); else one at a time."""
    depth = int(getattr(fn, "depth", 1))
    if depth > 1 and plan.count % depth == 0 and hasattr(fn, "session"):
        return fn.session(), depth  # type: ignore[attr-defined]
    return _now(fn), 1


def _run(fn: TileFn, x: torch.Tensor, plan: TilePlan, scale: int, ctx: RunContext, dev: torch.device,
         dtype: torch.dtype) -> torch.Tensor:
    n, _c, height, width = x.shape
    hp, wp = plan.padded
    wys = _axis_weights(hp, plan.ys, plan.tile_h, plan.margin, plan.blend, scale)
    wxs = _axis_weights(wp, plan.xs, plan.tile_w, plan.margin, plan.blend, scale)
    start, depth = _starter(fn, plan) if dev.type == "cpu" else (_now(fn), 1)
    out: torch.Tensor | None = None
    pending: deque = deque()  # (y0, x0, wy, wx, result) of tiles started, collected in order
    done = 0

    def collect() -> None:
        nonlocal out, done
        y0, x0, wy, wx, result = pending.popleft()
        y = result()
        expect = (plan.tile_h * scale, plan.tile_w * scale)
        ok = isinstance(y, torch.Tensor) and y.ndim == 4 and y.shape[0] == n
        if not ok or tuple(y.shape[-2:]) != expect:
            got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"tile function returned {got} for a tile of {(n, _c, plan.tile_h, plan.tile_w)}; "
                             f"expected ({n}, C', {expect[0]}, {expect[1]}) with scale={scale}")
        y = y.to(device="cpu", dtype=torch.float32)
        if out is None:
            # A normal tensor even under an outer inference_mode, so callers may edit it in place.
            with torch.inference_mode(False):
                out = torch.zeros(n, y.shape[1], height * scale, width * scale, dtype=torch.float32)
        oy, ox = y0 * scale, x0 * scale
        h = min(oy + y.shape[-2], height * scale) - oy
        w = min(ox + y.shape[-1], width * scale) - ox
        out[:, :, oy:oy + h, ox:ox + w].addcmul_(y[..., :h, :w], wy[:h, None] * wx[None, :w])
        done += 1
        ctx.progress(done / plan.count, f"tile {done}/{plan.count}")

    with torch.no_grad():
        try:
            for y0, wy in zip(plan.ys, wys):
                for x0, wx in zip(plan.xs, wxs):
                    ctx.check_cancelled()
                    # copy=True: fn may work in place, and a CPU tile can be a view of the caller's image
                    t = _extract(x, y0, plan.tile_h, x0, plan.tile_w).to(device=dev, dtype=dtype, copy=True)
                    pending.append((y0, x0, wy, wx, start(t)))
                    del t
                    if len(pending) >= depth:
                        collect()
            while pending:
                collect()
        finally:  # cancelled or failed: let the tiles still running finish before their buffers go
            for *_, result in pending:
                with contextlib.suppress(Exception):
                    result()
    assert out is not None  # at least one tile always exists
    return out


def apply_hwc(fn: TileFn, image: np.ndarray, **kwargs) -> np.ndarray:
    """:func:`tiled_apply` for a numpy image.

    Args:
        fn: as for :func:`tiled_apply` (works on ``(1, C, h, w)`` tensors).
        image: ``(H, W, C)`` or ``(H, W)`` array (converted to float32).
        **kwargs: passed to :func:`tiled_apply`.

    Returns:
        ``(H*scale, W*scale, C')`` float32 array.
    """
    if image.ndim == 2:
        image = image[:, :, None]
    if image.ndim != 3:
        raise ValueError(f"apply_hwc expects an (H, W, C) image, got shape {image.shape}")
    x = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32))[None]
    out = tiled_apply(fn, x, **kwargs)
    return np.ascontiguousarray(out[0].permute(1, 2, 0).numpy())
