"""Image-quality metrics and photo analysis.

Full reference: :func:`psnr`, :func:`ssim` (numpy) and ``psnr_torch`` / ``ssim_torch`` (batches).
No reference: :func:`niqe` with our own pristine model (``app.train.fit_niqe``). Analysis: :func:`analyze_image`
(noise, blur, exposure, JPEG blocking) and the Auto recipe :func:`propose_recipe`. CLI-facing dicts:
:func:`compare` and :func:`analyze` in :mod:`app.core.metrics.compare`.
"""

from app.core.metrics.analysis import Analysis, analyze_array, analyze_image
from app.core.metrics.analysis_text import format_analysis
from app.core.metrics.niqe import niqe
from app.core.metrics.psnr import psnr, psnr_torch
from app.core.metrics.recipe_auto import plan_recipe, propose_recipe
from app.core.metrics.ssim import ssim, ssim_torch

__all__ = ["Analysis", "analyze_array", "analyze_image", "format_analysis", "niqe", "plan_recipe",
           "propose_recipe", "psnr", "psnr_torch", "ssim", "ssim_torch"]
