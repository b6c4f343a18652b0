"""The training loop: one config in, checkpoints, logs and (optionally) an exported model out.

Runs on CPU or CUDA without code changes: on CUDA the forward pass runs under autocast (fp16 with a
GradScaler, or bf16) and tensors are channels-last; on CPU everything is float32 and bit-exact across
resumes (same batches, same RNG states, same optimiser state). Checkpoints go to
``~/.cache/photorestore/runs/<config name>/`` unless ``run_dir`` says otherwise.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import time
from pathlib import Path
from typing import Any

import torch

from app.train import checkpoint as ckpt_io
from app.train.config import config_hash
from app.train.evaluate import combine_metrics, evaluate
from app.train.loader import build_loader, materialize_by_source
from app.train.losses import build_loss
from app.train.splits import load_splits
from app.train.tasks import get_task

log = logging.getLogger("photorestore.train")


def default_run_dir(name: str) -> Path:
    return Path.home() / ".cache" / "photorestore" / "runs" / name


def hardware(device: torch.device) -> str:
    """One line naming the machine that trained, for the model card."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    n = torch.get_num_threads()
    return f"{cpu}, {n} torch thread{'s' if n > 1 else ''}"


def lr_factor(cfg: dict[str, Any], step: int) -> float:
    """Learning-rate multiplier at ``step`` (linear warm-up, then cosine / constant / multistep)."""
    t = cfg["train"]
    if t["warmup"] and step < t["warmup"]:
        return (step + 1) / t["warmup"]
    if t["scheduler"] == "constant":
        return 1.0
    if t["scheduler"] == "multistep":
        return t["gamma"] ** sum(step >= m for m in t["milestones"])
    if t["scheduler"] == "cosine":
        span = max(1, t["steps"] - t["warmup"])
        progress = min(1.0, (step - t["warmup"]) / span)
        floor = t["min_lr"] / t["lr"]
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))
    raise ValueError(f"unknown scheduler {t['scheduler']!r}")


class Runner:
    """Holds the model, optimiser and data of one run.

    Args:
        cfg: a config from :func:`app.train.config.load_config`.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available).
        run_dir: where checkpoints and logs go (default: the user cache, per config name).
        command: the command line that started the run (recorded in checkpoints and the model card).
    """

    def __init__(self, cfg: dict[str, Any], *, device: str = "auto", run_dir: str | Path | None = None,
                 command: str = "", bf16: bool = False) -> None:
        self.cfg, self.command = cfg, command
        self.hash = config_hash(cfg)
        self.task = get_task(cfg["task"])
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.run_dir = Path(run_dir) if run_dir else default_run_dir(cfg["name"])
        t = cfg["train"]
        if self.device.type == "cpu":
            from app.core.infer.device import configure_cpu_threads

            # Claim the process-wide setting first: the model registry (init_from, a refiner's frozen base)
            # configures threads on first use and would otherwise raise --threads 1 to every core (two
            # "1-thread" runs then took 4 s a step instead of 0.46 on this 2-core machine).
            configure_cpu_threads(int(cfg["threads"]))
            torch.set_num_threads(int(cfg["threads"]))
        cuda = self.device.type == "cuda"
        # CPU trains in float32 unless asked (--bf16): bit-exact resumes, and CPU autocast (bf16) is slower on CPUs
        # without native bf16; measured per config in docs/performance.md. Validation stays float32 on the CPU.
        self.amp_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(t["amp"]) if cuda else None
        if bf16 and not cuda:
            self.amp_dtype = torch.bfloat16
        self.channels_last = t["channels_last"] == "always" or (t["channels_last"] == "cuda" and cuda)

        torch.manual_seed(cfg["seed"])  # model init is part of what the seed fixes
        self.model = self.task.build_model(cfg)
        if t["init_from"]:
            self._init_from(t["init_from"], tuple(t["init_new"]), grow=bool(t.get("init_grow", False)))
        self.model = self.model.to(self.device)
        if self.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.loss_fn = build_loss(cfg["loss"] or self.task.default_loss, self.task.losses).to(self.device)
        opt_cls = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[t["optimizer"]]
        self.optimizer = opt_cls(self.model.parameters(), lr=t["lr"], betas=tuple(t["betas"]),
                                 weight_decay=t["weight_decay"])
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: lr_factor(cfg, s))
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype is torch.float16)
        self.adversary = self._build_adversary()

        self.splits = load_splits()
        self.train_set = self.task.build_data(cfg, self.splits, "train")
        self._val_batches: list | None = None
        self.step, self.wall_time = 0, 0.0
        self.best: dict[str, Any] = {"metric": "psnr", "value": None, "step": None}
        self.sessions: list[dict[str, Any]] = []

    def _init_from(self, model_id: str, new: tuple[str, ...] = (), *, grow: bool = False) -> None:
        init_weights(self.model, model_id, new, grow=grow)
        log.info("initialised from the exported weights of %s", model_id)

    # --- state ------------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {"format": ckpt_io.FORMAT, "step": self.step, "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                "scaler": self.scaler.state_dict(), "rng": ckpt_io.rng_state(), "config": self.cfg,
                "config_hash": self.hash, "wall_time": self.wall_time, "best": self.best,
                "sessions": self.sessions, **(self.adversary.state() if self.adversary else {})}

    def save(self) -> Path:
        return ckpt_io.atomic_save(self.state(), ckpt_io.latest_path(self.run_dir))

    def load(self, path: str | Path, *, allow_config_change: bool = False) -> None:
        """Continue from a checkpoint (weights, optimiser, schedule, RNGs, counters)."""
        ck = ckpt_io.load(path)
        if ck["config_hash"] != self.hash and not allow_config_change:
            raise ValueError(f"{path} was trained with a different config (hash {ck['config_hash']} vs "
                             f"{self.hash}); pass --allow-config-change to continue anyway")
        self.model.load_state_dict(ck["model"])
        self.optimizer.load_state_dict(ck["optimizer"])
        self.scheduler.load_state_dict(ck["scheduler"])
        if self.scaler.is_enabled() and ck["scaler"]:  # empty when saved on CPU: start a fresh scale
            self.scaler.load_state_dict(ck["scaler"])
        if self.adversary is not None:
            self.adversary.load(ck)
        ckpt_io.set_rng_state(ck["rng"])
        self.step, self.wall_time = ck["step"], ck["wall_time"]
        self.best, self.sessions = ck["best"], list(ck["sessions"])

    # --- logging ----------------------------------------------------------------------------------------

    def _log(self, record: dict[str, Any]) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with (self.run_dir / "log.jsonl").open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        if record["kind"] == "val":
            csv = self.run_dir / "val.csv"
            new = not csv.exists()
            with csv.open("a") as fh:
                if new:
                    fh.write("step,psnr,ssim,input_psnr,wall_time\n")
                fh.write(f"{record['step']},{record['psnr']:.4f},{record['ssim']:.5f},"
                         f"{record['input_psnr']:.4f},{record['wall_time']:.1f}\n")

    # --- validation -------------------------------------------------------------------------------------

    def val_batches(self) -> dict[str, list[dict[str, torch.Tensor]]]:
        """The fixed validation patches by source (built once per process)."""
        if self._val_batches is None:
            val_set = self.task.build_data(self.cfg, self.splits, "val")
            self._val_batches = materialize_by_source(val_set, batch=self.cfg["val"]["batch"])
        return self._val_batches

    def validate(self) -> dict[str, Any]:
        """PSNR / SSIM of the current weights on the validation split, overall and per source (logged).

        The overall figures average every validation patch, whatever its source.
        """
        amp = self.amp_dtype if self.device.type == "cuda" else None
        by_source = {name: evaluate(self.model, batches, self.task.forward, device=self.device,
                                    amp_dtype=amp, channels_last=self.channels_last)
                     for name, batches in self.val_batches().items()}
        metrics = combine_metrics(list(by_source.values()))
        if len(by_source) > 1:
            metrics["by_source"] = by_source
        record = {"kind": "val", "step": self.step, "wall_time": self.wall_time, **metrics}
        self._log(record)
        log.info("step %d  val psnr %.3f dB (input %.3f)  of mean mse %.3f (input %.3f)  ssim %.4f", self.step,
                 metrics["psnr"], metrics["input_psnr"], metrics.get("psnr_mse", math.nan),
                 metrics.get("input_psnr_mse", math.nan), metrics["ssim"])
        if self.best["value"] is None or metrics["psnr"] > self.best["value"]:
            self.best = {"metric": "psnr", "value": metrics["psnr"], "step": self.step}
            best = {"format": ckpt_io.FORMAT, "step": self.step, "model": self.model.state_dict(),
                    "metrics": metrics, "config_hash": self.hash}
            ckpt_io.atomic_save(best, self.run_dir / ckpt_io.BEST)
        return metrics

    # --- training ---------------------------------------------------------------------------------------

    def _to_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        return {k: v.to(self.device, non_blocking=True,
                        memory_format=fmt if v.dim() == 4 else torch.preserve_format)
                for k, v in batch.items()}

    def _build_adversary(self):
        """The discriminator side of a GAN task (``Task.build_discriminator``); None for other tasks."""
        if self.task.build_discriminator is None:
            return None
        from app.train.gan import Adversary

        disc = self.task.build_discriminator(self.cfg).to(self.device)
        if self.channels_last:
            disc = disc.to(memory_format=torch.channels_last)
        return Adversary(self.cfg, disc, lambda s: lr_factor(self.cfg, s), amp_dtype=self.amp_dtype)

    def _terms(self) -> dict[str, torch.Tensor]:
        """Latest unweighted loss terms (content, and a GAN's ``d_loss`` / ``adversarial``) for the log."""
        return {**self.loss_fn.last, **(self.adversary.last if self.adversary is not None else {})}

    def train_step(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """One optimiser step; returns the (detached) loss."""
        self.model.train()
        amp = self.amp_dtype is not None
        with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=amp):
            pred = self.task.forward(self.model, batch)
            loss = self.loss_fn(pred.float(), batch["gt"])
        gan = self.adversary is not None and self.adversary.active(self.step)
        if gan:  # discriminator first (on the detached prediction), then the generator's adversarial term
            self.adversary.d_step(batch["gt"], pred, self.scaler)
            loss = loss + self.adversary.g_loss(batch["gt"], pred)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if self.cfg["train"]["grad_clip"]:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg["train"]["grad_clip"])
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        if self.adversary is not None:
            self.adversary.step_schedule()
        self.step += 1
        return loss.detach()

    def train(self, *, max_steps: int | None = None, max_minutes: float | None = None) -> str:
        """Train until the config's step count, ``max_steps`` (a global step) or ``max_minutes`` of wall time.

        A checkpoint is written every ``train.checkpoint_steps`` steps or ``train.checkpoint_minutes``
        minutes, and always before returning.

        Returns:
            ``"done"`` (config steps reached), ``"max_steps"``, ``"time_limit"`` or ``"interrupted"``
            (Ctrl-C; saved unless it landed inside an optimiser step, then the previous checkpoint stands).
        """
        t, cfg = self.cfg["train"], self.cfg
        stop = min(t["steps"], max_steps) if max_steps is not None else t["steps"]
        status = "done" if stop >= t["steps"] else "max_steps"
        if self.step >= stop:
            return status
        if max_minutes is not None and max_minutes <= 0:
            return "time_limit"  # `--max-minutes 0 --export`: export the checkpoint as it stands
        session = {"start_step": self.step, "end_step": self.step, "seconds": 0.0, "device": self.device.type,
                   "hardware": hardware(self.device), "command": self.command}
        self.sessions.append(session)
        start = last_ckpt = time.monotonic()
        wall_before = self.wall_time
        deadline = start + max_minutes * 60 if max_minutes is not None else math.inf
        loader = build_loader(self.train_set, batch=cfg["data"]["batch"], seed=cfg["seed"],
                              start_step=self.step, num_workers=cfg["data"]["num_workers"],
                              pin_memory=self.device.type == "cuda")
        batches = iter(loader)
        data_s = compute_s = 0.0
        losses: list[torch.Tensor] = []
        consistent = True  # False while an optimiser step is half done (an interrupt must not save that)
        try:
            while self.step < stop:
                t0 = time.monotonic()
                batch = self._to_device(next(batches))
                t1 = time.monotonic()
                consistent = False
                losses.append(self.train_step(batch))
                consistent = True
                t2 = time.monotonic()
                # On CUDA this split is approximate: kernels run asynchronously, and a later sync
                # (the loss logged below, the next copy) is charged to whichever phase waits on it.
                data_s, compute_s = data_s + t1 - t0, compute_s + t2 - t1
                if self.step % t["log_every"] == 0 or self.step == stop:
                    n = len(losses)
                    self._log({"kind": "train", "step": self.step, "loss": float(torch.stack(losses).mean()),
                               "terms": {k: float(v) for k, v in self._terms().items()},
                               "lr": self.scheduler.get_last_lr()[0],
                               "data_s": data_s / n, "step_s": compute_s / n,
                               "samples_per_s": n * cfg["data"]["batch"] / max(data_s + compute_s, 1e-9),
                               "wall_time": self.wall_time})
                    losses, data_s, compute_s = [], 0.0, 0.0
                if self.step % cfg["val"]["every"] == 0 or self.step == t["steps"]:
                    self.validate()
                now = time.monotonic()
                # Wall time counts everything a session spends (data, steps, validation, checkpoints).
                self.wall_time = wall_before + now - start
                session["seconds"], session["end_step"] = now - start, self.step
                if self.step % t["checkpoint_steps"] == 0 or now - last_ckpt > 60 * t["checkpoint_minutes"]:
                    self.save()
                    last_ckpt = now
                if now > deadline and self.step < stop:
                    status = "time_limit"
                    break
        except KeyboardInterrupt:
            status = "interrupted"
        finally:
            del batches, loader  # stop a worker before the final save
            if consistent:
                self.save()
        log.info("%s at step %d (%.1f min this session)", status, self.step, session["seconds"] / 60)
        return status


def init_weights(model: torch.nn.Module, model_id: str, new: tuple[str, ...] = (), *, grow: bool = False) -> None:
    """Load ``init_from``'s weights into ``model`` (a fresh task model) or raise ``ValueError`` naming the misfit.

    ``model_id``: an exported model id (registry-verified) or a ``.safetensors`` path (relative to the repo
    root). Parameters under a ``new`` prefix may be missing from the weights or have another shape there (a
    module the config adds or resizes, e.g. deblurgan's full-resolution skip at 32 channels from a 16-channel
    export): they keep their fresh init. Anything else that does not fit is an error, as before.
    ``grow`` (config ``train.init_grow``, not in the defaults so older configs keep their hash): the model is a
    wider/deeper one of the same family and starts computing exactly what the weights did
    (:mod:`app.train.grow`); ``new`` then names the new modules' tensors to zero.
    """
    if model_id.endswith(".safetensors"):
        # A compact resume point committed with the code (e.g. float16 weights of an unfinished run that
        # is not shipped): a path, relative to the repository root when not absolute.
        from safetensors.torch import load_file

        path = Path(model_id) if Path(model_id).is_absolute() else Path(__file__).resolve().parents[2] / model_id
        state = {k: v.float() for k, v in load_file(str(path)).items()}
    else:
        from app.core.models.registry import load_model

        state = load_model(model_id, "cpu", backend="torch").module.state_dict()
    own = model.state_dict()
    if grow:  # a wider/deeper model of the same family: old weights in the leading corner, same function
        from app.train.grow import grow_state

        model.load_state_dict(grow_state(own, state, zero=new))
        return
    # A resized new module starts fresh as a whole (not half trained tensors that happen to keep their shape).
    resized = tuple(p for p in new if any(k.startswith(p) and k in own and own[k].shape != v.shape
                                          for k, v in state.items()))
    state = {k: v for k, v in state.items() if not k.startswith(resized)}  # startswith(()) is False
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shape mismatches
        raise ValueError(f"init_from {model_id!r} does not fit this model: {exc}") from None
    missing = [k for k in missing if not k.startswith(new)]
    if missing or unexpected:
        raise ValueError(f"init_from {model_id!r} does not fit this model: missing {missing[:4]}, "
                         f"unexpected {unexpected[:4]}")
