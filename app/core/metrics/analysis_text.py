"""``photorestore analyze``'s text report of an :class:`~app.core.metrics.analysis.Analysis` (kept apart
from the measurements so that module stays about measuring)."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.core.metrics.analysis import MOTION_ANISOTROPY, Analysis


def _f(v: Any, fmt: str) -> str:
    return "n/a" if v is None else format(v, fmt)


def format_analysis(a: Analysis | dict[str, Any]) -> str:
    """Multi-line human-readable report (``photorestore analyze``) of an Analysis or its ``to_dict()``."""
    d = a.to_dict() if isinstance(a, Analysis) else a
    n, b, e, j = d["noise"], d["blur"], d["exposure"], d["jpeg"]
    sig = [s for s in n["sigma"] if s is not None]
    coarse = [s for s in n["coarse"] if s is not None]
    ch = ", ".join(f"{c} {_f(s and s * 255, '.1f')}" for c, s in zip(n["channels"], n["sigma"]))
    lines = [f"Size          {d['width']} x {d['height']}",
             f"Noise         sigma {_f(np.mean(sig) * 255 if sig else None, '.1f')}/255 ({ch}); "
             f"with blotchy noise/texture <= {_f(np.mean(coarse) * 255 if coarse else None, '.1f')}; "
             f"colour noise {_f(n.get('chroma') and n['chroma'] * 255, '.1f')}; "
             f"mild grain (NLM method noise) {_f(n.get('method') and n['method'] * 255, '.2f')}, "
             f"{_f(n.get('method_grid'), '.2f')}x on the 8x8 block edges"]
    raw = d.get("raw_noise")
    if raw and raw.get("model"):
        lines.append(f"RAW noise     shot {raw['model'][0]:.3g}, read {raw['model'][1]:.3g} "
                     "(var = shot*x + read, linear)")
    motion = ""
    if b["anisotropy"] and b["anisotropy"] >= MOTION_ANISOTROPY:
        motion = (f", directional: ~{b['motion_length']:.0f} px at {b['motion_angle']:.0f} deg "
                  f"(anisotropy {b['anisotropy']:.1f})")
    quality = f", quality ~{j['quality']:.0f} (file tables)" if j.get("quality") else ""
    if not quality:
        quality = (f", quality ~{j['estimated_quality']:.0f} (quantisation lattice)" if j.get("estimated_quality")
                   else ", no quantisation lattice (no JPEG history, or quality >= ~90)")
    where = f" (the sharpest of {b['windows']} windows)" if (b.get("windows") or 1) > 1 else ""
    if b.get("prior") is not None:
        where += f", prior blur probability {b['prior']:.2f}"
    lines += [
        f"Blur          edge sigma {_f(b['sigma'], '.2f')} px{motion}{where}",
        f"Exposure      mean luma {e['mean_luma']:.0f}/255, median {e['p50']:.2f}, "
        f"{e['ev_to_mid']:+.1f} EV to mid-grey, "
        f"clipped {e['clipped_dark']:.1%} dark / {e['clipped_bright']:.1%} bright",
        f"JPEG          blockiness {j['blockiness']:.2f}{quality}",
        "Findings      " + ("; ".join(d.get("findings") or []) or "none: looks clean and well exposed"),
    ]
    lines += [f"Note          {t}" for t in d.get("notes") or []]
    return "\n".join(lines)
