"""Low light: how the output is formed and how the ratio is chosen, every variant on the same data, one run.

    python bench/lowlight_colour.py [--limit N] [--side 512] [--sice-split val] [--out DIR]

Data: the clean validation photos (every clean source but the wallpapers), the wallpaper photos (all of
them, as ``bench/acceptance.py``: 33 of the 37 are in the training split, which ``kind_restoration`` saw
as clean photos; at ratio 1 its weight in the output is 0) and the SICE pairs of ``bench/quality_data.py``
(darkest frame, luma < 50, vs the luma~115 frame; ``--sice-split train`` runs the same on training
scenes), centre crops of ``--side`` px. The nets run once per photo (decompose + restore, the op's own
stages); every variant then forms the output from the same state:

* ``KinD R x L'``: the op before issue 20 (KinD's product, the old automatic ratio: the SICE fit clamped
  to [0.5, 8], restoration strength 1);
* ``gain``: ``I x L'(a) / L'(1)`` per channel in sRGB (the input brightened, no restoration);
* ``gain + KinD luma``: the gained image's luminance blended towards ``R x L'`` (weight ``min(cap,
  log2 g)``), its own colour;
* ``shipped`` rows: luminance as above, chromaticity from the input (smoothed where brightened), in linear
  light: ``app.core.ops.lowlight_stages.fuse`` itself, at several strengths, with or without smoothing.

Clean photos are scored against the input (PSNR, chroma ratio = mean Lab chroma out / in, mean-luminance
change in stops, share of photos whose automatic ratio is 1), SICE against the reference (plain and
exposure-matched), plus NIQE on the darkest quarter of the SICE inputs, next to gamma + NLM.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quality_data import centre_crop, read_srgb  # noqa: E402

from app.core.color import linear_to_srgb, srgb_to_linear  # noqa: E402
from app.core.context import RunContext  # noqa: E402
from app.core.image import Image  # noqa: E402
from app.core.metrics.colour import colour_stats  # noqa: E402
from app.core.metrics.psnr import finite_psnr, psnr  # noqa: E402
from app.core.metrics.ssim import ssim  # noqa: E402
from app.core.ops import lowlight_stages as st  # noqa: E402
from app.core.ops.lowlight import LowlightParams  # noqa: E402

Y709 = np.array([0.2126, 0.7152, 0.0722], np.float32)


def old_auto_ratio(g: float) -> float:
    """The automatic ratio before issue 20: the SICE fit, clamped to the slider's [0.5, 8]."""
    return float(min(max(st.fitted_ratio(g), st.RATIO_RANGE[0]), st.RATIO_RANGE[1]))


def _lin_y(x: np.ndarray) -> np.ndarray:
    return srgb_to_linear(np.clip(x, 0, 1).astype(np.float32)) @ Y709


def form(state: dict, ratio: float, variant: str, strength: float = 0.7) -> np.ndarray:
    """One variant's output from a decompose + restore state (see the module docstring)."""
    s = {**state, "L_adj": None}
    with __import__("torch").inference_mode():
        s["L_adj"] = st._adjusted(state, ratio)
    s["ratio"] = ratio
    if variant == "kind":
        return np.clip(state["R"] * s["L_adj"][..., None], 0, 1)
    gain = s["L_adj"] / state["L_one"]
    lifted = np.clip(state["rgb"] * gain[..., None], 0, 1)
    if variant == "gain":
        return lifted
    if variant == "gain+kind_luma":
        lin = srgb_to_linear(lifted.copy())
        w = np.clip(np.minimum(np.log2(np.maximum(gain, 1e-6)), strength), 0, None)
        y = lin @ Y709
        y2 = y + w * (_lin_y(state["R"] * s["L_adj"][..., None]) - y)
        return linear_to_srgb(np.clip(lin * (y2 / np.maximum(y, 1e-4))[..., None], 0, 1))
    params = LowlightParams(ratio=ratio, auto_ratio=False, strength=strength)
    if variant == "shipped-nosmooth":
        s["chroma_smooth"] = state["chroma"]
    return st.fuse(s, params, RunContext()).data


def _stops(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.log2(max(_lin_y(a).mean(), 1e-6) / max(_lin_y(b).mean(), 1e-6)))


def states(photos: list[tuple[str, np.ndarray]], log) -> list[dict]:
    ctx, p = RunContext(device="cpu"), LowlightParams()
    out = []
    for name, img in photos:
        s = st.restore(st.decompose(Image(img), p, ctx), p, ctx)
        s["name"] = name
        out.append(s)
        log(f"  {name}: gmean(L) {s['L_gmean']:.3f}, auto ratio {st.auto_ratio(s['L_gmean']):.2f} "
            f"(before: {old_auto_ratio(s['L_gmean']):.2f})")
    return out


VARIANTS = [  # (row label, variant, strength, ratio rule)
    ("KinD R x L' (before issue 20)", "kind", 1.0, old_auto_ratio),
    ("KinD R x L', new auto ratio", "kind", 1.0, st.auto_ratio),
    ("gain I x L'/L'(1), old auto ratio", "gain", 0.0, old_auto_ratio),
    ("gain I x L'/L'(1)", "gain", 0.0, st.auto_ratio),
    ("gain + KinD luma (cap 1), its own colour", "gain+kind_luma", 1.0, st.auto_ratio),
    ("input chromaticity + KinD luma, cap 1", "shipped", 1.0, st.auto_ratio),
    ("input chromaticity + KinD luma, cap 0.5", "shipped", 0.5, st.auto_ratio),
    ("**shipped: cap 0.7**", "shipped", 0.7, st.auto_ratio),
    ("shipped, chroma not smoothed", "shipped-nosmooth", 0.7, st.auto_ratio),
    ("shipped, old auto ratio", "shipped", 0.7, old_auto_ratio),
]


def score_clean(sts: list[dict], variant, strength, rule) -> dict:
    rows = []
    for s in sts:
        r = rule(s["L_gmean"])
        y = form(s, r, variant, strength)
        x = s["rgb"]
        rows.append((finite_psnr(psnr(y, x)), colour_stats(y, x)["chroma_ratio"], _stops(y, x), r))
    a = np.array(rows)
    return {"psnr_mean": a[:, 0].mean(), "psnr_min": a[:, 0].min(), "ge30": np.mean(a[:, 0] >= 30),
            "chroma": np.nanmean(a[:, 1]), "chroma_min": np.nanmin(a[:, 1]), "stops": a[:, 2].mean(),
            "ratio1": np.mean(np.isclose(a[:, 3], 1.0)), "ratio_max": a[:, 3].max()}


def score_sice(sts: list[dict], refs: list[np.ndarray], variant, strength, rule, dark_q: list[int]) -> dict:
    from quality_ours import match_exposure

    from app.core.metrics.niqe import niqe

    rows, nq = [], []
    for i, (s, ref) in enumerate(zip(sts, refs)):
        y = form(s, rule(s["L_gmean"]), variant, strength)
        m = match_exposure(y, ref)
        rows.append((psnr(y, ref), ssim(y, ref), colour_stats(y, ref)["chroma_ratio"],
                     psnr(m, ref), ssim(m, ref), colour_stats(m, ref)["chroma_ratio"]))
        if i in dark_q:
            nq.append(niqe(y))
    a = np.array(rows).mean(axis=0)
    return dict(zip(("psnr", "ssim", "chroma", "em_psnr", "em_ssim", "em_chroma"), a)) | {"niqe_dark": np.mean(nq)}


def main(argv: list[str] | None = None) -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=None, help="photos per set (default all)")
    ap.add_argument("--side", type=int, default=512)
    ap.add_argument("--sice-split", default="val", choices=("val", "train"))
    ap.add_argument("--out", type=Path, default=Path.home() / ".cache/photorestore/bench/lowlight_colour")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    args.out.mkdir(parents=True, exist_ok=True)
    lines: list[str] = []

    def log(msg: str) -> None:
        print(msg, flush=True)

    t0 = time.time()
    sets = clean_sets(args.side, args.limit)
    sice_pairs = sice(args.sice_split, args.limit or 24, args.side)
    clean_states = {k: states(v, log) for k, v in sets.items()}
    sice_states = states([(n, d) for n, d, _ in sice_pairs], log)
    refs = [r for _, _, r in sice_pairs]
    luma = np.array([s["rgb"].mean() for s in sice_states])
    dark_q = list(np.argsort(luma)[: max(1, len(luma) // 4)])
    from app.core.metrics.baselines import gamma_nlm
    from app.core.metrics.niqe import niqe

    gn = [gamma_nlm(s["rgb"]) for s in sice_states]
    gn_row = {"psnr": np.mean([psnr(g, r) for g, r in zip(gn, refs)]),
              "ssim": np.mean([ssim(g, r) for g, r in zip(gn, refs)]),
              "chroma": np.mean([colour_stats(g, r)["chroma_ratio"] for g, r in zip(gn, refs)]),
              "niqe_dark": np.mean([niqe(gn[i]) for i in dark_q])}
    names = list(sets)
    head = "| variant | " + " | ".join(f"{n}: PSNR mean / min, >=30 dB, chroma mean / min, stops, ratio 1"
                                       for n in names)
    head += f" | SICE {args.sice_split}: PSNR / SSIM / chroma | exp.-matched | NIQE darkest quarter |"
    lines += [f"{len(sice_states)} SICE {args.sice_split} pairs, "
              + ", ".join(f"{len(v)} {k}" for k, v in sets.items()) + f"; centre crops <= {args.side} px", "",
              head, "|" + "---|" * (2 + len(names) + 2)]
    for label, variant, strength, rule in VARIANTS:
        cells = []
        for n in names:
            c = score_clean(clean_states[n], variant, strength, rule)
            cells.append(f"{c['psnr_mean']:.1f} / {c['psnr_min']:.1f}, {c['ge30'] * 100:.0f} %, "
                         f"{c['chroma']:.3f} / {c['chroma_min']:.2f}, {c['stops']:+.2f}, {c['ratio1'] * 100:.0f} %")
        s = score_sice(sice_states, refs, variant, strength, rule, dark_q)
        lines.append(f"| {label} | " + " | ".join(cells)
                     + f" | {s['psnr']:.2f} / {s['ssim']:.3f} / {s['chroma']:.3f} | {s['em_psnr']:.2f} / "
                     f"{s['em_ssim']:.3f} / {s['em_chroma']:.3f} | {s['niqe_dark']:.2f} |")
        log(lines[-1])
    lines.append("| gamma + NLM (baseline) | " + " | ".join("" for _ in names)
                 + f" | {gn_row['psnr']:.2f} / {gn_row['ssim']:.3f} / {gn_row['chroma']:.3f} | | "
                 f"{gn_row['niqe_dark']:.2f} |")
    lines.append(f"\n({time.time() - t0:.0f} s, one thread, shared machine)")
    text = "\n".join(lines) + "\n"
    (args.out / "lowlight_colour.md").write_text(text)
    print(text)
    return 0


def clean_sets(side: int, limit: int | None) -> dict[str, list[tuple[str, np.ndarray]]]:
    """The no-harm photos: clean validation photos (no wallpapers) and every wallpaper photo."""
    from app.train.sources import SOURCES, wallpaper_root
    from app.train.splits import load_splits

    sp = load_splits()
    val = [(f"{n}/{it.key}", it.paths[0]) for n, src in SOURCES.items()
           if src.kind == "clean" and n != "wallpapers" and n in sp.data["sources"] for it in sp.items(n, "val")]
    walls = [(f"wallpapers/{p.parent.name}/{p.stem}", p) for p in sorted(wallpaper_root().glob("*/*.jpg"))]
    return {k: [(n, centre_crop(read_srgb(p), side)) for n, p in v[:limit]]
            for k, v in (("clean-val", sorted(val)), ("wallpapers", walls)) if v}


def sice(split: str, limit: int, side: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    from app.train.splits import load_splits

    out = []
    for it in sorted(load_splits().items("sice", split), key=lambda it: it.key):
        mid = [i for i, v in enumerate(it.lumas) if 90 <= v <= 140]
        if len(it.lumas) < 2 or it.lumas[0] >= 50 or not mid:
            continue
        ref = min(mid, key=lambda i: abs(it.lumas[i] - 115))
        dark, bright = read_srgb(it.paths[0]), read_srgb(it.paths[ref])
        if dark.shape == bright.shape:
            out.append((f"sice/{it.key}", centre_crop(dark, side), centre_crop(bright, side)))
        if len(out) >= limit:
            break
    return out


if __name__ == "__main__":
    raise SystemExit(main())
