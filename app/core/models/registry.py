"""Model registry: id -> (descriptor, builder), states, and loaded models that run themselves.

Registration is explicit (spandrel's idea): :mod:`app.core.models.catalog` lists every model
the app ships, so a PyInstaller build finds them without folder scanning. Tests register
throw-away models inside :func:`temporary_registry`.

Usage from an op::

    model = load_model("kind_decompose", ctx.device, ctx=ctx)   # ModelUnavailableError if not verified
    out = model(image.data, ctx.sub(0.0, 0.8))                   # (H, W, C) float32 in, out
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from app.core.context import RunContext
from app.core.models.descriptor import ModelDescriptor, check_model_id
from app.core.models.weights import (
    CORRUPT,
    MISSING,
    UNTRAINED,
    ModelState,
    ModelUnavailableError,
    load_onnx,
    load_weights,
    lookup,
    models_dir,
    verify,
)

if TYPE_CHECKING:
    import torch

# torch is imported where a model is built or run, not here: model_state() (the GUI's availability check at
# start-up, `photorestore models`) must not pay torch's ~1.7 s import.
Builder = Callable[..., "torch.nn.Module"]

__all__ = [
    "Builder", "LoadedModel", "ModelDescriptor", "ModelState", "ModelUnavailableError", "clear_loaded",
    "descriptors", "get_descriptor", "load_model", "model_state", "register", "temporary_registry",
    "unregister", "weights_sha256",
]

_lock = threading.RLock()  # guards the dicts; held briefly, so state queries never wait on a load
_load_lock = threading.Lock()  # one model build at a time (they are big; avoids double loads)
_models: dict[str, tuple[ModelDescriptor, Builder]] = {}
_loaded: dict[tuple[str, str, str, str], LoadedModel] = {}  # (id, device, models dir, backend) -> model
_catalog_loaded = False


def _ensure_catalog() -> None:
    global _catalog_loaded
    with _lock:
        if _catalog_loaded:
            return
        _catalog_loaded = True  # set first: the catalog calls register(), which must not recurse
        from app.core.models import catalog

        catalog.register_all(register)


def register(descriptor: ModelDescriptor, builder: Builder, *, replace: bool = False) -> None:
    """Make a model known. ``builder(**config)`` returns the untrained ``nn.Module``.

    Raises:
        ValueError: the id is taken (and ``replace`` is False).
    """
    if not callable(builder):
        raise TypeError(f"builder for {descriptor.id} must be callable")
    with _lock:
        if descriptor.id in _models and not replace:
            raise ValueError(f"model id {descriptor.id!r} is already registered")
        _models[descriptor.id] = (descriptor, builder)
        _drop_loaded(descriptor.id)


def unregister(model_id: str) -> None:
    with _lock:
        _models.pop(model_id, None)
        _drop_loaded(model_id)


def _drop_loaded(model_id: str) -> None:
    for key in [k for k in _loaded if k[0] == model_id]:
        del _loaded[key]


def clear_loaded() -> None:
    """Forget loaded models (frees their memory once no op holds them)."""
    with _lock:
        _loaded.clear()


@contextlib.contextmanager
def temporary_registry() -> Iterator[None]:
    """Registrations and loaded models made inside the block are undone on exit (for tests)."""
    _ensure_catalog()
    with _lock:
        models, loaded = dict(_models), dict(_loaded)
    try:
        yield
    finally:
        with _lock:
            _models.clear()
            _models.update(models)
            _loaded.clear()
            _loaded.update(loaded)


def descriptors() -> list[ModelDescriptor]:
    """Every registered model, sorted by id."""
    _ensure_catalog()
    with _lock:
        return [d for _, (d, _b) in sorted(_models.items())]


def get_descriptor(model_id: str) -> ModelDescriptor:
    """Raises ``ModelUnavailableError`` (state ``missing``) for an unknown id."""
    _ensure_catalog()
    with _lock:
        reg = _models.get(model_id)
    if reg is None:
        raise ModelUnavailableError(model_id, MISSING, _unknown_message(model_id))
    return reg[0]


def _unknown_message(model_id: str) -> str:
    known = ", ".join(sorted(_models)) or "none"
    return f"no model {model_id!r} is registered (known: {known})"


def model_state(model_id: str, directory: Path | None = None) -> ModelState:
    """verified / missing / corrupt / untrained, with a one-line reason (see :mod:`.weights`)."""
    _ensure_catalog()
    with _lock:
        reg = _models.get(model_id)
    entry, problem = lookup(model_id, directory)
    if problem is not None:
        return problem
    if reg is None:
        if entry is None:
            return ModelState(MISSING, _unknown_message(model_id))
        return ModelState(MISSING, f"the manifest lists {model_id!r} but this version of PhotoRestore "
                                   "does not register it (app/core/models/catalog.py)")
    if entry is None:
        return ModelState(UNTRAINED, "no trained weights yet (train it with `python -m app.train` "
                                     "and export)")
    if entry.architecture != reg[0].arch:
        return ModelState(CORRUPT, f"the manifest says architecture {entry.architecture!r}, "
                                   f"but {model_id} is registered as {reg[0].arch!r}")
    return verify(entry, directory)


def weights_sha256(model_id: str, directory: Path | None = None) -> str:
    """sha256 of the weights the manifest lists for ``model_id`` ("" if none): the pipeline's
    cache key part. Cheap (no hashing); :func:`load_model` guarantees the file matches it."""
    entry, _ = lookup(model_id, directory)
    return entry.sha256 if entry is not None else ""


def load_model(model_id: str, device: str | torch.device = "auto", *, ctx: RunContext | None = None,
               directory: Path | None = None, backend: str | None = None) -> LoadedModel:
    """Build the model, load its verified weights, move it to ``device``; cached per (id, device, backend).

    On the CPU the model also gets a fast runtime for its verified ONNX export (``backend``, default
    ``ctx.backend``, see :func:`app.core.infer.backends.resolve_backend`); without a usable export it
    runs on torch (a corrupt export says so in a warning).

    Raises:
        ModelUnavailableError: the model is not ``verified``, or its weights do not fit the
            architecture (state ``corrupt``).
    """
    import torch

    from app.core.infer.backends import resolve_backend
    from app.core.infer.device import pick_device

    check_model_id(model_id)
    dev = pick_device(device, ctx=ctx)
    backend = resolve_backend(backend if backend is not None else getattr(ctx, "backend", "auto"), dev, ctx)
    directory = directory or models_dir()
    state = model_state(model_id, directory)
    if not state.ok:
        raise ModelUnavailableError(model_id, state.name, state.message)
    with _load_lock:
        with _lock:
            descriptor, builder = _models[model_id]
            cached = _loaded.get((model_id, str(dev), str(directory), backend))
        entry, _ = lookup(model_id, directory)
        assert entry is not None  # verified implies an entry
        source = (entry.sha256, repr(sorted(entry.onnx.items())))  # a re-export of either file reloads
        if cached is not None and cached.source == source:
            return cached

        def build() -> torch.nn.Module:
            tensors, _meta = load_weights(entry, directory)
            module = builder(**{**descriptor.config, **entry.config})
            try:
                module.load_state_dict(tensors, strict=True)
            except RuntimeError as exc:
                raise ModelUnavailableError(model_id, CORRUPT, "weights do not fit the registered architecture: "
                                            + str(exc).splitlines()[0]) from exc
            module = module.eval().requires_grad_(False).to(device=dev, dtype=dtype)
            if dev.type == "cpu":  # see LoadedModel.run_tensor
                module = module.to(memory_format=torch.channels_last)
            return module

        half = dev.type == "cuda" and descriptor.half_ok
        dtype = torch.float16 if half else torch.float32
        runner = _fast_runner(entry, directory, backend, ctx) if backend != "torch" else None
        # With a runtime the torch module is only the fallback: built when first needed (0.3-0.6 s of a RAW
        # export's start-up for the RAW denoiser, issue 23). Without one it is built now, so weights that do
        # not fit the architecture are reported here.
        loaded = LoadedModel(descriptor, build if runner is not None else build(), dev, entry.sha256, dtype,
                             directory, runner, str(entry.onnx.get("bf16", "no")))
        loaded.source = source
        with _lock:
            if _models.get(model_id, (None,))[0] is descriptor:  # not re-registered meanwhile
                _loaded[(model_id, str(dev), str(directory), backend)] = loaded  # replaces an older version
        return loaded


#: The RunContext of the model run in progress on this thread (see :func:`_cancel_hook`).
_active = threading.local()


def _cancel_hook(_module: object, _inputs: object) -> None:
    ctx = getattr(_active, "ctx", None)
    if ctx is not None:
        ctx.check_cancelled()


def _install_cancel_hooks(module: torch.nn.Module) -> None:
    """Check for cancellation before every leaf layer, once per module.

    A whole image can be one tile (a 1280x720 deblur takes seconds), and the tiler only checks between
    tiles, so Cancel and Ctrl-C waited for the file to finish. Raising :class:`Cancelled` from a forward
    pre-hook stops within one layer. The hook reads the context from a thread-local set by
    :meth:`LoadedModel.run_tensor`, so two threads sharing a cached module never see each other's cancel.
    """
    if getattr(module, "_photorestore_cancel_hooks", False):
        return
    for layer in module.modules():
        if next(layer.children(), None) is None:
            layer.register_forward_pre_hook(_cancel_hook)
    module._photorestore_cancel_hooks = True


def _fast_runner(entry, directory: Path, backend: str, ctx: RunContext | None):
    """The ONNX runtime's runner for a verified export, or None (torch runs the model) with the reason logged;
    a corrupt export or a runtime that fails to start is also a warning: it costs the user speed."""
    import logging

    from app.core.infer.backends import build_runner
    from app.core.infer.device import configure_cpu_threads

    def fall_back(message: str, warn: bool) -> None:
        message = f"{entry.id}: {message}; running it on torch instead"
        if warn and ctx is not None:
            ctx.warn(message)  # logs it too
        else:
            logging.getLogger("photorestore").log(logging.WARNING if warn else logging.DEBUG, message)

    try:
        data = load_onnx(entry, directory)
    except ModelUnavailableError as exc:
        fall_back(exc.message, warn=exc.state != MISSING)
        return None
    try:
        return build_runner(backend, data, configure_cpu_threads())
    except Exception as exc:  # noqa: BLE001 - any runtime failure: torch still works
        fall_back(f"{backend} could not load the ONNX export ({type(exc).__name__}: {str(exc)[:200]})", warn=True)
        return None


def _runner(module: torch.nn.Module, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    """The module as the tiler calls it. On the CPU, weights (``load_model``) and tiles are channels-last:
    oneDNN's NHWC convolutions measured 1.3-1.9x faster than NCHW for our nets (CycleISP, KinD, DeblurGAN,
    one thread, 512-768 px tiles), same results up to float rounding."""
    _install_cancel_hooks(module)
    if device.type != "cpu":
        return module
    import torch

    def run(t: torch.Tensor) -> torch.Tensor:
        return module(t.contiguous(memory_format=torch.channels_last))

    return run


class LoadedModel:
    """A ready-to-run model: pads, tiles, runs under ``inference_mode``, clamps and crops.

    Attributes:
        descriptor: the registered :class:`ModelDescriptor`.
        module: the ``nn.Module`` in eval mode on ``device`` in ``dtype``.
        sha256: of the weight file (part of the pipeline cache key).
        runner: the fast CPU runtime's tile function (None: the torch module runs).
        bf16: where bfloat16 is allowed on the fast runtime: ``"full"``, ``"preview"`` or ``"no"``
            (the manifest's measured precision policy, docs/performance.md).
    """

    def __init__(self, descriptor: ModelDescriptor, module: torch.nn.Module | Callable[[], torch.nn.Module],
                 device: torch.device, sha256: str, dtype: torch.dtype, directory: Path, runner=None,
                 bf16: str = "no") -> None:
        self.descriptor = descriptor
        self._module = module  # or a function that builds it on first use of .module
        self._module_lock = threading.Lock()
        self.device = device
        self.sha256 = sha256
        self.dtype = dtype
        self._directory = directory
        self.runner = runner
        self.bf16 = bf16
        self.source: tuple[str, str] = (sha256, "")

    @property
    def module(self) -> torch.nn.Module:
        """The torch module (built on first use where a runtime runs the model; raises
        :class:`ModelUnavailableError` then if the weights do not fit the architecture)."""
        import torch

        with self._module_lock:
            if not isinstance(self._module, torch.nn.Module):
                self._module = self._module()
            return self._module

    @property
    def id(self) -> str:
        return self.descriptor.id

    @property
    def backend(self) -> str:
        return self.runner.backend if self.runner is not None else "torch"

    def precision(self, ctx: RunContext | None = None) -> str:
        """``"bf16"`` where the precision policy allows it for full-size renders, else ``"f32"``.

        ``$PHOTORESTORE_PRECISION=f32`` pins float32 (tests comparing backends, benchmarks)."""
        import os

        if self.runner is None or os.environ.get("PHOTORESTORE_PRECISION", "").lower() == "f32":
            return "f32"
        # Only "full": previews run exactly what the export runs (what you see is what you export), so a model
        # whose bf16 is good enough for previews only (>= 40 dB, < 50 dB) runs float32 everywhere.
        return "bf16" if self.bf16 == "full" else "f32"

    def tile_fn(self, ctx: RunContext | None = None, precision: str | None = None) -> Callable:
        """What the tiler calls per tile: the fast runtime (at ``precision``, default :meth:`precision`)
        or the torch module."""
        if self.runner is None:
            return _runner(self.module, self.device)
        runner, prec = self.runner, precision or self.precision(ctx)

        def on_torch(t: torch.Tensor, exc: Exception) -> torch.Tensor:
            """A runtime failure must cost speed, not the result: this tile and the rest run on torch."""
            if self.runner is not None:
                message = (f"{self.id}: the {runner.backend} backend failed on a {tuple(t.shape)} tile "
                           f"({type(exc).__name__}: {str(exc)[:160]}); continuing on torch")
                if ctx is not None:
                    ctx.warn(message)
                else:
                    import logging
                    logging.getLogger("photorestore").warning(message)
                self.runner = None  # for the rest of this model's life in the cache
            return _runner(self.module, self.device)(t)

        def run(t: torch.Tensor) -> torch.Tensor:
            if self.runner is None:  # an earlier tile failed on the runtime
                return _runner(self.module, self.device)(t)
            try:
                return runner(t, prec)
            except MemoryError:
                raise  # the tiler's halve-and-retry
            except Exception as exc:  # noqa: BLE001 - see on_torch
                return on_torch(t, exc)

        def session() -> Callable:
            """``start(tile) -> result()`` with up to ``run.depth`` tiles in flight on the runtime's streams."""
            pending = runner.session(prec)

            def start(t: torch.Tensor) -> Callable[[], torch.Tensor]:
                if self.runner is None:
                    y = _runner(self.module, self.device)(t)
                    return lambda: y
                try:
                    result = pending.start(t)
                except MemoryError:
                    raise
                except Exception as exc:  # noqa: BLE001 - see on_torch
                    y = on_torch(t, exc)
                    return lambda: y

                def collect() -> torch.Tensor:
                    try:
                        return result()
                    except MemoryError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - see on_torch
                        return on_torch(t, exc)

                return collect

            return start

        if hasattr(runner, "session"):
            run.depth = runner.streams  # type: ignore[attr-defined]
            run.session = session  # type: ignore[attr-defined]
        return run

    def __repr__(self) -> str:
        dtype = str(self.dtype).replace("torch.", "")
        return f"LoadedModel({self.id}, {self.device}, {self.backend}, {dtype}, {self.sha256[:8]})"

    def _rebind(self, dev: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
        # CPU fallback after a GPU out-of-memory: a float32 CPU copy, cached like any other.
        return _runner(load_model(self.id, dev, directory=self._directory).module, dev)

    def run_tensor(self, x: torch.Tensor, ctx: RunContext | None = None,
                   tile: int | None = None, precision: str | None = None) -> torch.Tensor:
        """Run on ``(N, in_channels, H, W)`` CPU tensor; returns ``(N, out_channels, H*scale, W*scale)``
        float32 on the CPU, clamped to ``value_range``. ``precision`` overrides the policy (benchmarks)."""
        d = self.descriptor
        if x.ndim != 4 or x.shape[1] != d.in_channels:
            cond = f" ({d.in_channels - d.cond_channels} image + {d.cond_channels} conditioning)" \
                if d.cond_channels else ""
            raise ValueError(f"model {d.id} expects (N, {d.in_channels}, H, W) {d.input_space} input{cond}, "
                             f"got shape {tuple(x.shape)}")
        import torch

        from app.core.infer.tiling import tiled_apply

        height, width = x.shape[-2:]
        whole = None if d.tile_safe else max(height, width) + d.size_multiple
        tile = d.tile_for(self.device.type, tile if tile is not None else (ctx.tile if ctx is not None else None),
                          runtime=self.runner is not None)
        outer, _active.ctx = getattr(_active, "ctx", None), ctx
        try:
            with torch.inference_mode():
                out = tiled_apply(self.tile_fn(ctx, precision), x, tile=tile, overlap=d.overlap,
                                  multiple=d.size_multiple, scale=d.scale, ctx=ctx, device=self.device,
                                  dtype=self.dtype, bytes_per_pixel=d.bytes_per_pixel, min_tile=whole,
                                  rebind=self._rebind)
                if d.value_range is not None:
                    out.clamp_(*d.value_range)
        finally:
            _active.ctx = outer
        return out

    def __call__(self, x: np.ndarray, ctx: RunContext | None = None, tile: int | None = None) -> np.ndarray:
        """Run on an image.

        Args:
            x: ``(H, W, in_channels)`` (or ``(H, W)`` for one channel) float32 in the model's
                ``input_space``.
            ctx: progress per tile, cancellation, warnings.
            tile: tile edge override (default ``ctx.tile``, else from free memory).

        Returns:
            ``(H*scale, W*scale, out_channels)`` float32, clamped to ``value_range``.
        """
        if x.ndim == 2:
            x = x[:, :, None]
        if x.ndim != 3:
            raise ValueError(f"model {self.id} expects an (H, W, C) image, got shape {x.shape}")
        import torch

        t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1), dtype=np.float32))[None]
        return np.ascontiguousarray(self.run_tensor(t, ctx, tile)[0].permute(1, 2, 0).numpy())
