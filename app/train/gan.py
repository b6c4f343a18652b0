"""The adversarial half of a GAN run: discriminator, its optimiser and schedule, and the RaGAN-LS step.

The runner owns the generator (its ``model``), the content loss and the generator's optimiser as for any
task; a task that sets ``Task.build_discriminator`` also gets an :class:`Adversary`. Each training step
is then (DeblurGAN-v2's order):

1. the generator predicts ``fake``;
2. :meth:`Adversary.d_step` updates the discriminator on ``(real, fake.detach())``;
3. the generator loss is ``content + weight * RaGAN-LS_G(D(real), D(fake))`` (:meth:`Adversary.g_loss`,
   with the discriminator frozen so no gradient is computed for it), and the runner steps the generator.

Config (``[train.gan]``; a nested table, so configs without it keep their hash)::

    weight = 0.01        # adversarial weight in the generator loss
    lr = 1e-4            # discriminator learning rate (default: train.lr); same warm-up/decay schedule
    start_step = 0       # steps of content-only training before the discriminator joins
    grad_clip = 0.0      # discriminator grad-norm clip (0: off)

Images are ``[0, 1]``; the discriminator sees them mapped to ``[-1, 1]`` (the nets' GAN convention).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from app.core.nets.losses_gan import ragan_ls_d_loss_double, ragan_ls_g_loss_double

GAN_DEFAULTS: dict[str, Any] = {"weight": 0.01, "lr": None, "start_step": 0, "grad_clip": 0.0}


def gan_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """``train.gan`` merged over :data:`GAN_DEFAULTS` (``lr`` defaults to ``train.lr``)."""
    out = {**GAN_DEFAULTS, **cfg["train"].get("gan", {})}
    unknown = set(out) - set(GAN_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown [train.gan] keys {sorted(unknown)}; known: {sorted(GAN_DEFAULTS)}")
    out["lr"] = float(out["lr"] if out["lr"] is not None else cfg["train"]["lr"])
    return out


def _scores(disc: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    out = disc(x * 2 - 1)
    if isinstance(out, torch.Tensor):  # a single-scale discriminator
        out = {"patch": out}
    return {k: v.float() for k, v in out.items()}  # RaGAN-LS in float32 even under autocast


class Adversary:
    """Discriminator + Adam + LambdaLR (the generator's schedule shape), and the two RaGAN-LS losses.

    Args:
        cfg: the run config (reads ``train.gan``, ``train.betas``).
        disc: the discriminator, already on ``device`` (and channels-last if the run is).
        lr_lambda: ``step -> lr factor``, the runner's schedule.
        amp_dtype: autocast dtype on CUDA, None for float32.
    """

    def __init__(self, cfg: dict[str, Any], disc: nn.Module, lr_lambda: Callable[[int], float], *,
                 amp_dtype: torch.dtype | None = None) -> None:
        self.cfg = gan_config(cfg)
        self.disc = disc
        self.amp_dtype = amp_dtype
        self.optimizer = torch.optim.Adam(disc.parameters(), lr=self.cfg["lr"], betas=tuple(cfg["train"]["betas"]))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda)
        self.last: dict[str, torch.Tensor] = {}

    def active(self, step: int) -> bool:
        """Whether the adversarial terms run at global step ``step`` (after ``start_step``; never at weight 0)."""
        return self.cfg["weight"] > 0 and step >= self.cfg["start_step"]

    def _autocast(self, device: torch.device):
        return torch.autocast(device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None)

    def d_step(self, real: torch.Tensor, fake: torch.Tensor, scaler: torch.amp.GradScaler) -> torch.Tensor:
        """One discriminator update on ``real`` targets and (detached) generator outputs ``fake``.

        The caller's ``scaler`` is shared with the generator step: ``scaler.update()`` runs once per
        iteration, after both optimisers stepped (PyTorch's recipe for several optimisers).
        """
        self.disc.train()
        self.disc.requires_grad_(True)
        with self._autocast(real.device):
            loss = ragan_ls_d_loss_double(_scores(self.disc, real), _scores(self.disc, fake.detach()))
        self.optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if self.cfg["grad_clip"]:
            scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.disc.parameters(), self.cfg["grad_clip"])
        scaler.step(self.optimizer)
        self.last["d_loss"] = loss.detach()
        return loss.detach()

    def g_loss(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """``weight * RaGAN-LS_G``: gradients reach the generator through ``fake`` only."""
        self.disc.requires_grad_(False)  # no weight gradients for D here: they would be discarded anyway
        with self._autocast(real.device):
            with torch.no_grad():
                real_scores = _scores(self.disc, real)
            loss = ragan_ls_g_loss_double(real_scores, _scores(self.disc, fake))
        self.last["adversarial"] = loss.detach()
        return self.cfg["weight"] * loss

    def step_schedule(self) -> None:
        """Advance the discriminator's schedule (every global step, active or not, to stay aligned)."""
        with warnings.catch_warnings():
            # Before ``start_step`` the optimiser has not stepped yet; torch warns, but the schedule is
            # meant to advance with the global step, so the discriminator starts at the generator's lr.
            warnings.filterwarnings("ignore", message=re.escape("Detected call of `lr_scheduler.step()`"))
            self.scheduler.step()

    def state(self) -> dict[str, Any]:
        return {"discriminator": self.disc.state_dict(), "d_optimizer": self.optimizer.state_dict(),
                "d_scheduler": self.scheduler.state_dict()}

    def load(self, ck: dict[str, Any]) -> None:
        """Restore from a checkpoint dict holding :meth:`state`'s keys.

        Raises:
            ValueError: the checkpoint has no discriminator (it was not a GAN run).
        """
        if "discriminator" not in ck:
            raise ValueError("the checkpoint holds no discriminator: it was not written by a GAN run")
        self.disc.load_state_dict(ck["discriminator"])
        self.optimizer.load_state_dict(ck["d_optimizer"])
        self.scheduler.load_state_dict(ck["d_scheduler"])
