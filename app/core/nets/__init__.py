"""Torch network definitions, one family per module.

Each family module exposes ``CONFIGS[config][net]`` (constructor kwargs; configs ``fast`` and ``full``,
DeblurGAN ``fast`` and ``quality``) and ``build(net, config="fast", **overrides)``:

- :mod:`.cycleisp`: ``srgb_denoiser``, ``raw_denoiser``, ``rgb2raw``, ``raw2rgb`` (CycleISP).
- :mod:`.kind`: ``decomposition``, ``restoration``, ``adjustment`` (KinD / KinD++).
- :mod:`.deblurgan`: ``generator``, ``discriminator`` (DeblurGAN-v2); losses in :mod:`.losses_gan`.
- :mod:`.vgg`: :class:`~.vgg.VGGFeatures`, VGG16 loaded from the HED weights (perceptual loss / prior).

Shared pieces: :mod:`.blocks` (DAB, RRG, attention, depthwise-separable, inverted residual, padding) and
:mod:`.flops` (FLOP / parameter counting for model cards and budgets).

Modules are imported on demand (``from app.core.nets import cycleisp``) so importing the package stays cheap.
"""
