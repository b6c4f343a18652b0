"""Relativistic average least-squares GAN losses (RaGAN-LS), as used by DeblurGAN-v2.

With raw discriminator scores ``r = D(real)`` and ``f = D(fake)`` (any shape; the averages run over every
element, batch and score map alike, as in the reference implementation):

    L_D = ( E[(r - E[f] - 1)^2] + E[(f - E[r] + 1)^2] ) / 2
    L_G = ( E[(r - E[f] + 1)^2] + E[(f - E[r] - 1)^2] ) / 2

The discriminator learns to score real images one unit above the average fake, and fakes one unit below
the average real; the generator is pushed the opposite way. For the double-scale discriminator the losses
of the two branches are averaged. Detach the generator output when computing ``L_D``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

Scores = Mapping[str, torch.Tensor]

__all__ = ["ragan_ls_d_loss", "ragan_ls_d_loss_double", "ragan_ls_g_loss", "ragan_ls_g_loss_double"]


def ragan_ls_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Discriminator RaGAN-LS loss.

    Args:
        real_scores: ``D(real)`` raw scores, any shape.
        fake_scores: ``D(fake.detach())`` raw scores, any shape.

    Returns:
        Scalar loss.
    """
    return 0.5 * (torch.mean((real_scores - fake_scores.mean() - 1) ** 2)
                  + torch.mean((fake_scores - real_scores.mean() + 1) ** 2))


def ragan_ls_g_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """Generator RaGAN-LS loss (gradients flow through both terms via ``fake_scores``).

    Args:
        real_scores: ``D(real)`` raw scores, any shape.
        fake_scores: ``D(fake)`` raw scores, any shape.

    Returns:
        Scalar loss.
    """
    return 0.5 * (torch.mean((real_scores - fake_scores.mean() + 1) ** 2)
                  + torch.mean((fake_scores - real_scores.mean() - 1) ** 2))


def _mean_over_branches(fn, real: Scores, fake: Scores) -> torch.Tensor:
    if set(real) != set(fake) or not real:
        raise ValueError(f"real and fake need the same non-empty branches, got {set(real)}, {set(fake)}")
    return torch.stack([fn(real[k], fake[k]) for k in sorted(real)]).mean()


def ragan_ls_d_loss_double(real: Scores, fake: Scores) -> torch.Tensor:
    """Discriminator loss averaged over the branches of :class:`DoubleScaleDiscriminator` outputs."""
    return _mean_over_branches(ragan_ls_d_loss, real, fake)


def ragan_ls_g_loss_double(real: Scores, fake: Scores) -> torch.Tensor:
    """Generator loss averaged over the branches of :class:`DoubleScaleDiscriminator` outputs."""
    return _mean_over_branches(ragan_ls_g_loss, real, fake)
