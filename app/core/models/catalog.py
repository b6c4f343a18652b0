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
from typing import TYPE_CHECKING

from app.core.models.descriptor import ModelDescriptor

if TYPE_CHECKING:
    import torch

Builder = Callable[..., "torch.nn.Module"]  # builders import their network (and torch) when called

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


def _dejpeg(**config):
    from app.core.nets import dejpeg

    return dejpeg.build(**config)


def _ptg(**config):
    from app.core.nets import ptg

    return ptg.build(**config)


# --- the list (each model family adds its descriptors here) ---

#: CycleISP denoisers' tile edge on the CPU. Measured (bench/denoise_memory.py, fast RAW net, 6.3 MP, one
#: thread): 1024 px tiles cost 16.3 CPU-s, 9 of them in the kernel (every layer's 100+ MB output is a fresh
#: mmap whose pages fault in, then unmap); 512: 10.4 s; 320: 9.3 s; 256: 9.6 s (overlap overhead grows).
_CYCLEISP_CPU_TILE = 384
#: Their tile edge on a fast CPU runtime, whose memory is its own (no page-fault cost per layer): the RAW net on
#: OpenVINO bf16, a 1500x1000 packed mosaic in one process, 384 / 768 / 1024 px tiles: 13.6 / 11.4 / 10.0 s; the
#: sRGB net on 1500x1000, 384 / 1024: 8.1 / 6.1 s (issue 23, shared machine, load 9). A 24-MP RAW is then 4x2
#: tiles of ~790x1024: 7 % recomputed overlap, not 27 %.
_CYCLEISP_RUNTIME_TILE = 1024
#: The RAW nets' runtime tile: a 24-MP RAW (3000x2000 packed) is then 2x2 tiles of 1524x1024, 4 % recomputed
#: overlap instead of 7 %: 3.5 % less CPU time for the network (15.7 -> 15.2 CPU-s, bench/tile_streams.py
#: --tile 1024 / 1536, load 8, issue 23), an even tile count for OpenVINO's two streams, and ~6 % of a
#: tile's pixels differ from the 1024-px plan by float rounding only (PSNR in docs/performance.md).
_CYCLEISP_RAW_RUNTIME_TILE = 1536
#: PTG refiners' smallest tile: 4x the overlap, so most of every tile is exact.
_PTG_MIN_TILE = 512

MODELS: list[tuple[ModelDescriptor, Builder]] = [
    (ModelDescriptor(id="cycleisp_srgb_denoise", arch="cycleisp",
                     config={"net": "srgb_denoiser", "config": "fast"}, input_space="srgb", overlap=32,
                     cpu_tile=_CYCLEISP_CPU_TILE, runtime_tile=_CYCLEISP_RUNTIME_TILE,
                     description="sRGB denoiser (CycleISP dual-attention RRGs, fast)"), _cycleisp),
    (ModelDescriptor(id="cycleisp_srgb_denoise_full", arch="cycleisp",
                     config={"net": "srgb_denoiser", "config": "full"}, input_space="srgb", overlap=48,
                     cpu_tile=_CYCLEISP_CPU_TILE, runtime_tile=_CYCLEISP_RUNTIME_TILE,
                     description="sRGB denoiser (CycleISP dual-attention RRGs, full: 64 ch, 4x8 DAB)"), _cycleisp),
    # RAW denoisers: 8 input channels = packed RGGB + its 4-plane noise variance (app/core/ops/denoise_raw.py).
    # Sizes are in packed pixels; size_multiple 2 = the fast trunk's pixel-unshuffle, so tiles need no padding.
    (ModelDescriptor(id="cycleisp_raw_denoise", arch="cycleisp",
                     config={"net": "raw_denoiser", "config": "fast"}, input_space="bayer4", in_channels=8,
                     cond_channels=4, out_channels=4, value_range=(-0.1, 1.0), size_multiple=2, overlap=48,
                     cpu_tile=_CYCLEISP_CPU_TILE, runtime_tile=_CYCLEISP_RAW_RUNTIME_TILE,
                     description="RAW denoiser on the mosaic (CycleISP dual-attention RRGs, fast)"), _cycleisp),
    (ModelDescriptor(id="cycleisp_raw_denoise_full", arch="cycleisp",
                     config={"net": "raw_denoiser", "config": "full"}, input_space="bayer4", in_channels=8,
                     cond_channels=4, out_channels=4, value_range=(-0.1, 1.0), overlap=48,
                     cpu_tile=_CYCLEISP_CPU_TILE, runtime_tile=_CYCLEISP_RAW_RUNTIME_TILE,
                     description="RAW denoiser on the mosaic (CycleISP, full: 64 ch, 4x8 DAB)"), _cycleisp),
    # Learned camera pipeline (CycleISP RGB2RAW + RAW2RGB in one file): used by data synthesis
    # (app/train/degrade.py LearnedRawNoise); run through the registry it is the sRGB round trip.
    (ModelDescriptor(id="cycleisp_learned_isp", arch="cycleisp", config={"net": "isp", "config": "fast"},
                     size_multiple=2, overlap=64,
                     description="learned ISP (CycleISP RGB2RAW + RAW2RGB with colour attention, fast)"), _cycleisp),
    # KinD low light (app/core/ops/lowlight.py): decompose -> restore R -> adjust L (ratio) -> fuse, fast nets.
    (ModelDescriptor(id="kind_decomposition", arch="kind", config={"net": "decomposition", "config": "fast"},
                     out_channels=4, size_multiple=4, overlap=32,
                     description="KinD decomposition I -> (R, L), fast"), _kind),
    (ModelDescriptor(id="kind_restoration", arch="kind", config={"net": "restoration", "config": "fast"},
                     in_channels=4, size_multiple=8, overlap=32,
                     description="KinD reflectance restoration (R, L) -> R, fast"), _kind),
    (ModelDescriptor(id="kind_adjustment", arch="kind", config={"net": "adjustment", "config": "fast"},
                     in_channels=2, out_channels=1, size_multiple=8, overlap=16,
                     description="KinD illumination adjustment (L, ratio) -> L, fast (coarse tone curve)"), _kind),
    # DeblurGAN-v2 motion deblurring (app/core/ops/deblur.py), [0, 1] in and out (unit_range). Overlap 256:
    # exact for a receptive-field radius <= 64 px, blended beyond (the 1/32-scale features see ~300 px; the
    # op uses tiles up to 2048 px). bytes_per_pixel: measured peak ~0.76 / 0.83 kB at 1024 px, rounded up.
    # half_ok False until fp16 has been checked against fp32 on a GPU.
    (ModelDescriptor(id="deblurgan_fast", arch="deblurgan",
                     config={"net": "generator", "config": "fast", "unit_range": True}, size_multiple=32,
                     overlap=256, bytes_per_pixel=1024, half_ok=False,
                     tile_cap=2048,
                     description="motion deblurring (DeblurGAN-v2, MobileNet-DSC FPN, fast)"), _deblurgan),
    (ModelDescriptor(id="deblurgan_quality", arch="deblurgan",
                     config={"net": "generator", "config": "quality", "unit_range": True}, size_multiple=32,
                     overlap=256, bytes_per_pixel=1024, half_ok=False,
                     tile_cap=2048,
                     description="motion deblurring (DeblurGAN-v2, MobileNetV2 FPN, quality)"), _deblurgan),
    # PTG refinement (app/core/ops/refine.py): input cat(I_d, I_c), the op's input and output. The trunk runs
    # at 1/8 resolution with 64-px attention windows and a 120-px channel-attention pool: 128 px of overlap;
    # size_multiple 32 = the positional embedding's period, so overlapping tiles see the same positions.
    # The degradation prior is a feature extractor (1/8 resolution), shipped inside the refiners too.
    (ModelDescriptor(id="ptg_degradation_prior", arch="ptg", config={"net": "degradation_encoder"},
                     out_channels=64, value_range=None, size_multiple=8, tile_safe=False,
                     description="PTG prior: degradation-aware encoder (kind and level of degradation)"), _ptg),
    (ModelDescriptor(id="ptg_refine_denoise", arch="ptg", config={"net": "refiner", "config": "fast"},
                     in_channels=6, size_multiple=32, overlap=128, half_ok=False,
                     min_tile=_PTG_MIN_TILE,
                     description="PTG refinement of the sRGB denoiser's output"), _ptg),
    (ModelDescriptor(id="ptg_refine_lowlight", arch="ptg", config={"net": "refiner", "config": "fast"},
                     in_channels=6, size_multiple=32, overlap=128, half_ok=False,
                     min_tile=_PTG_MIN_TILE,
                     description="PTG refinement of the low-light output"), _ptg),
    (ModelDescriptor(id="ptg_refine_deblur", arch="ptg", config={"net": "refiner", "config": "fast"},
                     in_channels=6, size_multiple=32, overlap=128, half_ok=False,
                     min_tile=_PTG_MIN_TILE,
                     description="PTG refinement of the deblur output"), _ptg),
    # JPEG artefact removal (app/core/ops/dejpeg.py): sRGB + a constant quality/100 map (cond channel).
    # size_multiple 16 keeps every tile on the JPEG grid (8x8 luma blocks, 16x16 4:2:0 MCUs; tiling pads only
    # at the bottom/right); the block-grid body sees ~60 px either side, so 64 px of overlap.
    (ModelDescriptor(id="dejpeg_fast", arch="dejpeg", config={"channels": 96, "depth": 3, "fine": 16},
                     input_space="srgb", in_channels=4, cond_channels=1, size_multiple=16, overlap=64, cpu_tile=512,
                     description="JPEG artefact removal (small quality-conditioned net on the 8x8 block grid)"),
     _dejpeg),
]


def register_all(register: Callable[[ModelDescriptor, Builder], None]) -> None:
    """Called once by the registry on first use."""
    for descriptor, builder in MODELS:
        register(descriptor, builder)
