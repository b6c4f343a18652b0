"""Synthetic camera pipeline: sRGB <-> linear <-> RAW, colour, mosaics and the sensor noise model.

Torch functions take ``(B, C, H, W)`` tensors and are differentiable; ``*_np`` functions take
float32 ``(H, W, C)`` arrays (the sRGB <-> linear pair is fast enough for inference-time ops).
"""

from app.core.isp.color import (
    SRGB_TO_XYZ,
    XYZ_TO_CAM,
    apply_ccm,
    rgb_to_cam_matrix,
    sample_ccm,
    sample_wb_gains,
)
from app.core.isp.mosaic import (
    demosaic,
    demosaic_np,
    mosaic_rgb,
    mosaic_rgb_np,
    pack_rggb,
    pack_rggb_np,
    unpack_rggb,
    unpack_rggb_np,
)
from app.core.isp.noise import (
    CALIBRATION_PATH,
    NOISE_MODELS,
    NoiseParams,
    add_noise,
    add_noise_np,
    calibrated_noise_params,
    load_calibration,
    noise_variance,
    noise_variance_np,
    quantize,
    quantize_np,
    sample_noise_params,
)
from app.core.isp.synthetic_camera import IspParams, process, process_np, sample_isp_params, unprocess, unprocess_np
from app.core.isp.tone import (
    LinearToSrgb,
    SrgbToLinear,
    inverse_smoothstep,
    linear_to_srgb,
    linear_to_srgb_np,
    smoothstep,
    srgb_to_linear,
    srgb_to_linear_np,
)

__all__ = [
    "SRGB_TO_XYZ",
    "XYZ_TO_CAM",
    "apply_ccm",
    "rgb_to_cam_matrix",
    "sample_ccm",
    "sample_wb_gains",
    "demosaic",
    "demosaic_np",
    "mosaic_rgb",
    "mosaic_rgb_np",
    "pack_rggb",
    "pack_rggb_np",
    "unpack_rggb",
    "unpack_rggb_np",
    "CALIBRATION_PATH",
    "NOISE_MODELS",
    "NoiseParams",
    "add_noise",
    "add_noise_np",
    "calibrated_noise_params",
    "load_calibration",
    "noise_variance",
    "noise_variance_np",
    "quantize",
    "quantize_np",
    "sample_noise_params",
    "IspParams",
    "process",
    "process_np",
    "sample_isp_params",
    "unprocess",
    "unprocess_np",
    "LinearToSrgb",
    "SrgbToLinear",
    "inverse_smoothstep",
    "linear_to_srgb",
    "linear_to_srgb_np",
    "smoothstep",
    "srgb_to_linear",
    "srgb_to_linear_np",
]
