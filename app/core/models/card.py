"""Markdown model cards (``models/<id>.md``): what a model is, what it was trained on, how well it does.

Recognised ``card`` keys (all optional except where :func:`export_model` says otherwise):
``description``, ``training_data`` (str, or a list of str / ``{"name", "licence", "url", "notes"}``),
``licence``, ``command``, ``iterations``, ``wall_time_s`` (or ``wall_time`` as text), ``hardware``,
``metrics`` (validation metrics, ``{name: value}``), ``params``, ``flops_per_pixel``, ``notes``.
Any other key is listed under "Other".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.core.models.descriptor import ModelDescriptor

KNOWN_KEYS = {"description", "training_data", "licence", "command", "iterations", "wall_time_s", "wall_time",
              "hardware", "metrics", "params", "flops_per_pixel", "notes"}


def format_duration(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


def format_count(value: float) -> str:
    """1234567 -> '1.23 M' (parameters, FLOPs)."""
    value = float(value)
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.3g}"


def training_data_text(data: Any) -> str:
    """One-line summary of ``card["training_data"]`` for the manifest."""
    if isinstance(data, str):
        return data
    parts = []
    for item in data or ():
        if isinstance(item, Mapping):
            lic = f" ({item['licence']})" if item.get("licence") else ""
            parts.append(f"{item.get('name', '?')}{lic}")
        else:
            parts.append(str(item))
    return "; ".join(parts)


def _data_lines(data: Any) -> list[str]:
    if not data:
        return ["- not recorded"]
    if isinstance(data, str):
        return [f"- {data}"]
    lines = []
    for item in data:
        if isinstance(item, Mapping):
            bits = [f"**{item.get('name', '?')}**"]
            if item.get("licence"):
                bits.append(f"licence: {item['licence']}")
            if item.get("url"):
                bits.append(f"<{item['url']}>")
            if item.get("notes"):
                bits.append(str(item["notes"]))
            lines.append("- " + " -- ".join(bits))
        else:
            lines.append(f"- {item}")
    return lines


def render_card(model_id: str, *, arch: str, config: Mapping[str, Any], file: str, sha256: str, created: str,
                licence: str, card: Mapping[str, Any], descriptor: ModelDescriptor | None = None) -> str:
    """The markdown text of a model card."""
    na = "not recorded"
    lines = [f"# {model_id}", ""]
    desc = card.get("description") or (descriptor.description if descriptor else "")
    if desc:
        lines += [str(desc), ""]
    rows = [("Architecture", f"`{arch}`"), ("Weights", f"`{file}`"), ("sha256", f"`{sha256}`"),
            ("Licence of the weights", licence), ("Created", created)]
    if descriptor is not None:
        rng = descriptor.value_range
        vr = "unclamped" if rng is None else f"[{rng[0]:g}, {rng[1]:g}]"
        cond = descriptor.cond_channels
        cond_note = f" ({descriptor.in_channels - cond} image + {cond} conditioning)" if cond else ""
        rows += [("Input", f"{descriptor.input_space}, {descriptor.in_channels} channels{cond_note}"),
                 ("Output", f"{descriptor.out_channels} channels, range {vr}, scale x{descriptor.scale}"),
                 ("Size multiple / tile overlap", f"{descriptor.size_multiple} / {descriptor.overlap} px"),
                 ("Tiling safe / float16 ok", f"{descriptor.tile_safe} / {descriptor.half_ok}")]
    params = card.get("params")
    flops = card.get("flops_per_pixel")
    rows += [("Parameters", f"{int(params):,} ({format_count(params)})" if params is not None else na),
             ("FLOPs per output pixel", format_count(flops) if flops is not None else na)]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows] + [""]
    config_json = json.dumps(dict(config), indent=2, sort_keys=True, default=str)
    lines += ["## Configuration", "", "```json", config_json, "```", ""]
    lines += ["## Training data and licences", ""] + _data_lines(card.get("training_data")) + [""]
    wall = card.get("wall_time") or na
    if card.get("wall_time_s") is not None:
        wall = format_duration(card["wall_time_s"])
    iters = card.get("iterations")
    lines += ["## Training", "",
              f"- Command: `{card['command']}`" if card.get("command") else f"- Command: {na}",
              f"- Iterations: {int(iters):,}" if iters is not None else f"- Iterations: {na}",
              f"- Wall time: {wall}",
              f"- Hardware: {card.get('hardware') or na}", ""]
    metrics = card.get("metrics") or {}
    lines += ["## Validation metrics", ""]
    if metrics:
        lines += ["| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v:.4g} |" if isinstance(v, (int, float)) else f"| {k} | {v} |"
                  for k, v in metrics.items()]
    else:
        lines.append(na)
    lines.append("")
    if card.get("notes"):
        lines += ["## Notes", "", str(card["notes"]), ""]
    other = {k: v for k, v in card.items() if k not in KNOWN_KEYS}
    if other:
        lines += ["## Other", ""] + [f"- {k}: {v}" for k, v in other.items()] + [""]
    return "\n".join(lines)
