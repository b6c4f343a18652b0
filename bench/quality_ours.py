"""The methods ``bench/quality.py`` compares: baselines, registered ops, Auto; and contact sheets.

Ops are discovered from ``app.core.ops.registry`` (never faked): every registered op whose id fits
the task by keyword, plus the model op ids each task expects, which appear as
``untrained/missing: <reason>`` when unregistered or when ``Op.availability`` says no.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from app.core.metrics.analysis import analyze_array
from app.core.metrics.baselines import baselines_for
from app.core.metrics.recipe_auto import plan_recipe, propose_recipe
from app.core.workflow.auto import fit_params, op_available

#: model op ids each task is for (listed even when missing)
EXPECTED_OPS = {"denoise-srgb": ("denoise",), "denoise-raw": ("denoise",), "denoise-phone": ("denoise",),
                "denoise-clean": ("denoise",),
                "lowlight": ("lowlight",),
                "deblur": ("deblur",), "deblur-shake": ("deblur",), "dejpeg": ("dejpeg",), "dejpeg-q95": ("dejpeg",)}
#: registered ops whose id contains one of these words are run on the task
KEYWORDS = {"denoise-srgb": ("denoise",), "denoise-raw": ("denoise",), "denoise-phone": ("denoise",),
            "denoise-clean": ("denoise",),
            "lowlight": ("lowlight", "exposure"),
            "deblur": ("deblur", "unsharp", "sharpen", "shake", "defocus"),
            "deblur-shake": ("deblur", "unsharp", "sharpen", "shake", "defocus"),
            "dejpeg": ("dejpeg",), "dejpeg-q95": ("dejpeg",)}
#: Auto steps kept per task: a task's reference fixes everything else (a dark PolyU scene stays dark
#: in its reference, so brightening it is right for a user and wrong for this PSNR). Denoising is
#: part of the low-light and deblur rules (after brightening, before sharpening), so it stays.
AUTO_KEEP = {"denoise-srgb": ("denoise",), "denoise-raw": ("denoise",), "denoise-phone": ("denoise",),
             "denoise-clean": ("denoise",),
             "lowlight": ("lowlight", "exposure", "denoise"), "deblur": ("deblur", "unsharp", "denoise"),
             "deblur-shake": ("deblur", "unsharp", "denoise"), "dejpeg": ("dejpeg",), "dejpeg-q95": ("dejpeg",)}


@dataclass
class Method:
    name: str
    kind: str  # "baseline" or "ours"
    run: Callable = field(repr=False, default=None)  # (x, pair) -> float32 (H, W, 3)
    note: str = ""
    crop: int | None = None
    max_pairs: int | None = None
    unavailable: str = ""
    log: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if not self.log:
            return self.note
        counts = ", ".join(f"{k} x{v}" for k, v in Counter(self.log).most_common())
        return f"{self.note}; {counts}"


def _bayer_in_out(op, params, pair, ctx, demosaic: str = "bilinear"):
    """Run a Bayer-only op on the pair's packed noisy RAW; develop with the pair's synthetic camera."""
    from app.core.image import ColorSpace, Image, RawInfo
    from app.core.isp.synthetic_camera import process_np

    raw = pair.extra["raw_pair"]
    h2, w2 = raw.noisy.shape[:2]
    m = np.zeros((2 * h2, 2 * w2, 1), np.float32)
    for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        m[dy::2, dx::2, 0] = raw.noisy[..., k]
    info = RawInfo(path="", cfa_pattern="RGGB", crop_offset=(0, 0), black_level=(0.0,) * 4, white_level=1.0,
                   camera_wb=(1.0, 1.0, 1.0, 1.0), noise_profile=((raw.noise.shot, raw.noise.read),) * 4)
    state = Image(m, ColorSpace.BAYER, raw=info)
    for st in op.stages(params):
        state = st.fn(state, params, ctx)
    if state.space is ColorSpace.BAYER:
        d = state.data[..., 0]
        packed = np.stack([d[0::2, 0::2], d[0::2, 1::2], d[1::2, 0::2], d[1::2, 1::2]], axis=2)
        return process_np(packed, raw.isp, demosaic_method=demosaic)
    return state.data


def run_op(op_id: str, params_dict: dict, x: np.ndarray, pair=None, bayer: bool | None = None,
           demosaic: str = "bilinear") -> np.ndarray:
    """Apply one registered op (all its stages, no cache) to an sRGB array.

    ``bayer``: feed the pair's noisy RAW mosaic (denoise-raw pairs) instead of ``x``; default: when the op
    accepts a mosaic and the pair has one. ``demosaic``: how the synthetic camera develops the op's mosaic.
    """
    from app.core.context import RunContext
    from app.core.image import ColorSpace, Image, Metadata
    from app.core.ops.base import make_params
    from app.core.ops.registry import get_op

    op = get_op(op_id)
    params = make_params(op.Params, params_dict)
    ctx = RunContext(device="cpu")
    if bayer is None:
        bayer = ColorSpace.BAYER in op.accepts and pair is not None and "raw_pair" in pair.extra
    if bayer:
        out = _bayer_in_out(op, params, pair, ctx, demosaic)
    else:
        meta = Metadata()
        if pair is not None and "jpeg_tables" in pair.extra and x is pair.degraded:
            # pixels we compressed ourselves: the op is given the file's record, as the loader gives it
            meta = Metadata(format="jpeg", extra={"jpeg_tables": pair.extra["jpeg_tables"]})
        state = Image(np.ascontiguousarray(x, np.float32), ColorSpace.SRGB, meta)
        for st in op.stages(params):
            state = st.fn(state, params, ctx)
        out = state.data
    return np.clip(out[..., :3], 0.0, 1.0).astype(np.float32)


#: params a task fixes for an op, so its row measures one route (denoise-raw: on the mosaic, never the
#: auto fallback to sRGB; that route has its own row, see ``ROUTE_ROWS``)
FIXED_PARAMS = {("denoise-raw", "denoise"): {"mode": "raw"}, ("denoise-srgb", "denoise"): {"mode": "srgb"},
                ("denoise-phone", "denoise"): {"mode": "srgb"}, ("denoise-clean", "denoise"): {"mode": "srgb"},
                ("deblur", "deblur"): {"model": "fast"}, ("deblur-shake", "deblur"): {"model": "fast"},
                # the op's own automatic ratio; the "ratio" Auto's recipe proposes is then ignored
                ("lowlight", "lowlight"): {"auto_ratio": True}}
#: params read off each pair: the JPEG quality a file's tables would give the op (arrays carry no file)
PAIR_PARAMS = {("dejpeg", "dejpeg"): lambda p: {"quality": p.extra["quality"]},
               ("dejpeg-q95", "dejpeg"): lambda p: {"quality": p.extra["quality"]}}
#: extra rows: (task, name, op id, params, feed the RAW mosaic?, note)
ROUTE_ROWS = [("denoise-raw", "op:denoise develop>srgb", "denoise", {"mode": "srgb"}, False,
               "synthetic camera develops the noisy RAW, then the sRGB denoiser (the route RAW mode must beat)"),
              ("deblur", "op:deblur quality", "deblur", {"model": "quality"}, False,
               "DeblurGAN-v2 quality generator (MobileNetV2 FPN); the op:deblur row is the fast one"),
              ("lowlight", "op:lowlight key ratio", "lowlight", {"auto_ratio": False}, False,
               "KinD op with the ratio of Auto's key rule (2 ** ev_to_mid) instead of its own rule"),
              # PTG refinement (issue 7): the same op with refine on; its gain is this row minus the op's row
              ("denoise-srgb", "op:denoise +refine", "denoise", {"mode": "srgb", "refine": True}, False,
               "sRGB denoiser, then the PTG refiner (ptg_refine_denoise)"),
              ("lowlight", "op:lowlight +refine", "lowlight", {"auto_ratio": True, "refine": True}, False,
               "KinD op (automatic ratio), then the PTG refiner (ptg_refine_lowlight)"),
              ("deblur", "op:deblur +refine", "deblur", {"model": "fast", "refine": True}, False,
               "fast DeblurGAN-v2, then the PTG refiner (ptg_refine_deblur)"),
              ("deblur-shake", "op:deblur +refine", "deblur", {"model": "fast", "refine": True}, False,
               "fast DeblurGAN-v2, then the PTG refiner (ptg_refine_deblur)")]
#: tasks whose rows are repeated with the output's exposure matched to the reference (the brightness
#: choice is the user's slider; these rows score everything else: noise, colour, halos)
EXPOSURE_MATCHED = ("lowlight",)


def match_exposure(y: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``y`` scaled in linear light so its mean luminance equals the reference's (then clipped)."""
    from app.core.isp.tone import linear_to_srgb_np, srgb_to_linear_np

    w = np.array([0.2126, 0.7152, 0.0722], np.float32)
    lin, lin_ref = srgb_to_linear_np(np.clip(y, 0, 1)), srgb_to_linear_np(np.clip(ref, 0, 1))
    gain = float((lin_ref @ w).mean() / max(float((lin @ w).mean()), 1e-6))
    return np.clip(linear_to_srgb_np(np.clip(lin * np.float32(gain), 0, 1)), 0, 1).astype(np.float32)


def _matched_run(seen: dict[str, np.ndarray], run0: Callable, crop: int | None) -> Callable:
    def run(x, pair):
        from quality_data import centre_crop  # bench/ is on sys.path when quality.py runs

        y = seen.pop(pair.name) if pair.name in seen else run0(x, pair)
        return match_exposure(y, centre_crop(pair.reference, crop) if crop else pair.reference)

    return run


def _matched_rows(methods: list[Method]) -> list[Method]:
    """An exposure-matched twin of every available method; it reuses the method's output for the pair."""
    out = []
    for base in methods:
        if base.unavailable or base.name == "auto":
            continue
        seen: dict[str, np.ndarray] = {}
        run0 = base.run

        def run(x, pair, run0=run0, seen=seen):
            seen[pair.name] = y = run0(x, pair)
            return y

        base.run = run
        twin = Method(f"{base.name} exp-matched", base.kind, crop=base.crop, max_pairs=base.max_pairs,
                      note=f"{base.name}'s output scaled in linear light to the reference's mean luminance "
                           "(s/MP: the scaling only)")
        twin.run = _matched_run(seen, run0, base.crop)
        out.append(twin)
    return out


def _op_method(op, task: str, name: str | None = None, fixed: dict | None = None, bayer: bool | None = None,
               note: str = "") -> Method:
    from app.core.ops.base import make_params

    fixed = FIXED_PARAMS.get((task, op.id), {}) if fixed is None else fixed
    ok, reason = op.availability(make_params(op.Params, fixed) if fixed else None)
    m = Method(name or f"op:{op.id}", "ours", note=note or f"op '{op.label}' (params as Auto would set them"
               + (f", {', '.join(f'{k}={v}' for k, v in fixed.items())})" if fixed else ")"),
               unavailable="" if ok else reason)

    def run(x, pair):
        # The params Auto would give this op for this input (defaults when Auto would not use it).
        plan = plan_recipe(analyze_array(x), available=lambda o: o == op.id, fit=fit_params)
        params = {**next((s.params for s in plan if s.op_id == op.id), {}), **fixed}
        if (task, op.id) in PAIR_PARAMS:
            params.update(PAIR_PARAMS[(task, op.id)](pair))
        # A value whose automatic switch is on is not used (lowlight's ratio): keep it out of the log.
        params = {k: v for k, v in params.items() if params.get(f"auto_{k}") is not True}
        m.log.append(", ".join(f"{k}={v}" for k, v in params.items()) or "defaults")
        return run_op(op.id, params, x, pair, bayer)

    m.run = run
    return m


def _auto_method(task: str) -> Method:
    m = Method("auto", "ours", note="analysis -> propose_recipe -> ops, end to end, steps of other tasks "
               "dropped; recipes used")

    def run(x, pair):
        full = propose_recipe(analyze_array(x), available=op_available, fit=fit_params)
        recipe = [(op, p) for op, p in full if any(k in op for k in AUTO_KEEP[task])]
        dropped = [op for op, _ in full if (op, _) not in recipe]
        m.log.append((" > ".join(op for op, _ in recipe) or "nothing")
                     + (f" (dropped {', '.join(dropped)})" if dropped else ""))
        for op_id, params in recipe:
            x = run_op(op_id, params, x, pair)
        return x

    m.run = run
    return m


def methods_for(task: str) -> list[Method]:
    """Baselines, then registered ops fitting ``task``, missing expected ops, then ``auto``."""
    out = [Method(b.name, "baseline", (lambda fn: lambda x, p: fn(x))(b.fn), b.note, b.crop, b.max_pairs)
           for b in baselines_for(task)]
    if task in ("dejpeg", "dejpeg-q95"):
        from app.core.metrics.baselines import identity, spp_deblock

        out = [Method("identity", "baseline", lambda x, p: identity(x), "input as is"),
               Method("spp", "baseline", lambda x, p: spp_deblock(x, p.extra["quality"]),
                      "shifted-DCT requantisation (ffmpeg spp idea), 64 shifts, told the quality")]
    try:
        from app.core.ops.registry import all_ops, get_op
    except Exception as exc:  # noqa: BLE001 - the registry is being written; say so in the table
        return out + [Method(f"op:{i}", "ours", unavailable=f"op registry not importable ({exc})")
                      for i in EXPECTED_OPS[task]]
    ops = [op for op in all_ops() if any(k in op.id for k in KEYWORDS[task])]
    out += [_op_method(op, task) for op in ops]
    have = {op.id for op in ops}
    out += [_op_method(get_op(op_id), task, name, params, bayer, note)
            for t, name, op_id, params, bayer, note in ROUTE_ROWS if t == task and op_id in have]
    out += [Method(f"op:{i}", "ours", unavailable="no op registered under this id yet")
            for i in EXPECTED_OPS[task] if i not in have]
    if task in EXPOSURE_MATCHED:
        out += _matched_rows(out)
    return out + [_auto_method(task)]


def _tile(img: np.ndarray | None, label: str, side: int = 256) -> np.ndarray:
    if img is None:
        t = np.full((side, side, 3), 0.5, np.float32)
    else:
        c = img[(img.shape[0] - min(side, img.shape[0])) // 2:][:side]
        c = c[:, (c.shape[1] - min(side, c.shape[1])) // 2:][:, :side]
        t = np.zeros((side, side, 3), np.float32)
        t[: c.shape[0], : c.shape[1]] = c
    t = cv2.cvtColor((np.clip(t, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
    cv2.rectangle(t, (0, 0), (side, 18), (0, 0, 0), -1)
    cv2.putText(t, label[:34], (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return t


def sheet(res: dict, ours: str | None, base: str | None, path: Path, rows: int = 3) -> Path:
    """Contact sheet: per pair, centre 256 px of input | best ours | best baseline | reference."""
    lines = []
    for i, pair in enumerate(res["_pairs"][:rows]):
        o = res["_outputs"][ours][i] if ours else None
        b = res["_outputs"][base][i] if base else None
        lines.append(np.concatenate([
            _tile(pair.degraded, f"input {pair.name.split('/')[-1]}"),
            _tile(o, f"ours: {ours}" if ours else "ours: none ran"),
            _tile(b, f"baseline: {base}" if base else "baseline: none"),
            _tile(pair.reference, "reference")], axis=1))
    if lines:
        cv2.imwrite(str(path), np.concatenate(lines, axis=0))
    return path
