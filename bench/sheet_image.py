"""Contact-sheet helpers shared by the bench scripts that write pictures for looking (not scoring)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def label(tile: np.ndarray, text: str) -> np.ndarray:
    """An RGB float tile in [0, 1] as 8-bit BGR with ``text`` on a black band along the top."""
    t = cv2.cvtColor((np.clip(tile, 0, 1) * 255 + 0.5).astype(np.uint8), cv2.COLOR_RGB2BGR)
    cv2.rectangle(t, (0, 0), (t.shape[1], 16), (0, 0, 0), -1)
    cv2.putText(t, text[:60], (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1, cv2.LINE_AA)
    return t


def write_rows(rows: list[np.ndarray], out: Path) -> None:
    """Stack labelled rows (right-padded to the widest) into one image at ``out``."""
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.concatenate(rows, 0))
    print(f"sheet: {out}")
