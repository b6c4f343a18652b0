"""Every model PhotoRestore ships, in one explicit list (no folder scanning: works frozen).

Adding a model takes two steps, both in this file:

1. a builder that imports its network *inside the function* -- ``photorestore models`` stays
   fast (no network code imported to list states), and PyInstaller still sees the import::

       def _cycleisp(**config):
           from app.core.nets.cycleisp import CycleISPDenoiser
           return CycleISPDenoiser(**config)

2. one ``(ModelDescriptor, builder)`` pair in :data:`MODELS`::

       (ModelDescriptor(id="cycleisp_raw_denoise", arch="cycleisp", config={"width": 32},
                        input_space="bayer4", in_channels=4, out_channels=4, size_multiple=8,
                        overlap=32, description="RAW denoiser (CycleISP-style RRG)"), _cycleisp),

Weights then come from the training runner's export step (:func:`app.core.models.export.export_model`),
which writes ``models/<id>-<sha8>.safetensors``, ``models/<id>.md`` and the manifest entry.
Until that has run, the model is listed as ``untrained``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from app.core.models.descriptor import ModelDescriptor

Builder = Callable[..., torch.nn.Module]

# --- builders (import inside: lazy, and visible to PyInstaller) ---------------------------------------


def _cycleisp(**config):
    from app.core.nets import cycleisp

    return cycleisp.build(**config)


def _kind(**config):
    from app.core.nets import kind

    return kind.build(**config)


def _deblurgan(**config):
    from app.core.nets import deblurgan

    return deblurgan.build(**config)


# --- the list (each model family adds its descriptors here) ---------------------------------------------------------------------------------------------

MODELS: list[tuple[ModelDescriptor, Builder]] = [
    (ModelDescriptor(id="cycleisp_srgb_denoise", arch="cycleisp",
                     config={"net": "srgb_denoiser", "config": "fast"}, input_space="srgb", overlap=32,
                     description="sRGB denoiser (CycleISP dual-attention RRGs, fast)"), _cycleisp),
]


def register_all(register: Callable[[ModelDescriptor, Builder], None]) -> None:
    """Called once by the registry on first use."""
    for descriptor, builder in MODELS:
        register(descriptor, builder)
