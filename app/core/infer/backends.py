"""Inference backends: torch everywhere, and a fast CPU runtime for the models' ONNX exports.

Which one runs is decided per device when a model is loaded (:func:`resolve_backend`), so ops never
know: ``LoadedModel`` hands the tiler either the torch module or a runner from here, and the tiler
does the rest (tiles, blending, progress, cancellation) exactly as before.

- ``torch``: CUDA, MPS, training, and the CPU fallback when no runtime is installed.
- ``openvino``: the CPU default. Measured fastest on our nets (docs/performance.md: ~1.2-2.5x torch in
  float32 on an AVX-512 CPU, ~2x more in bfloat16 where the precision policy allows it).
- ``onnxruntime``: the same ONNX files; float32 only (its CPU bf16 kernels are incomplete), kept as a
  choice because it is smaller and sometimes the faster float32 runtime.

``auto`` resolves to ``$PHOTORESTORE_BACKEND`` if set, then the process default (the GUI's device
menu sets it with :func:`set_default_backend`), then the first importable of :data:`FAST_ORDER` on the
CPU and torch elsewhere. A runtime that is requested but cannot be imported falls back with a warning.
"""

from __future__ import annotations

import functools
import io
import logging
import os
import threading
from collections import OrderedDict

import numpy as np
import torch

from app.core.context import RunContext

log = logging.getLogger("photorestore")

BACKEND_CHOICES = ("auto", "torch", "openvino", "onnxruntime")
#: What ``auto`` picks on the CPU, first installed wins: OpenVINO is the faster runtime on every shipped model
#: by measurement (bench/backends.py, docs/performance.md), then ONNX Runtime, then torch.
FAST_ORDER: tuple[str, ...] = ("openvino", "onnxruntime")
PRECISIONS = ("f32", "bf16")
_default = "auto"


def set_default_backend(name: str) -> None:
    """What ``auto`` means for this process (the GUI's device menu); ``auto`` restores the measured order."""
    global _default
    _default = check_backend(name)


def check_backend(name: str | None) -> str:
    value = (name or "auto").strip().lower()
    if value not in BACKEND_CHOICES:
        raise ValueError(f"unknown backend {name!r}; expected one of {', '.join(BACKEND_CHOICES)}")
    return value


@functools.cache
def backend_available(name: str) -> bool:
    """True if ``name``'s runtime imports here (torch always does)."""
    if name == "torch":
        return True
    try:
        if name == "openvino":
            import openvino  # noqa: F401
        elif name == "onnxruntime":
            import onnxruntime  # noqa: F401
        else:
            return False
    except Exception as exc:  # noqa: BLE001 - a broken install is "not available", not a crash
        log.debug("backend %s unavailable: %s", name, exc)
        return False
    return True


def available_backends() -> list[str]:
    return [b for b in BACKEND_CHOICES[1:] if backend_available(b)]


def resolve_backend(pref: str | None, device: torch.device, ctx: RunContext | None = None) -> str:
    """The backend a model loaded for ``device`` runs on (never ``auto``)."""
    name = check_backend(pref)
    if name == "auto":
        name = check_backend(os.environ.get("PHOTORESTORE_BACKEND") or _default)
    if device.type != "cpu":
        if name not in ("auto", "torch"):
            _warn(ctx, f"the {name} backend runs on the CPU only; using torch on {device}")
        return "torch"
    if name not in ("auto", "torch") and not backend_available(name):
        _warn(ctx, f"the {name} backend is not installed; using the fastest available one")
        name = "auto"
    if name == "auto":
        return next((b for b in FAST_ORDER if backend_available(b)), "torch")
    return name


def _warn(ctx: RunContext | None, message: str) -> None:
    if ctx is not None:
        ctx.warn(message)
    else:
        log.warning(message)


def _as_memory_error(exc: Exception) -> Exception:
    """Runtimes report allocation failures as generic errors; the tiler halves tiles on MemoryError."""
    text = str(exc).lower()
    if any(s in text for s in ("bad_alloc", "failed to allocate", "out of memory", "cannot allocate")):
        return MemoryError(str(exc))
    return exc


_ov_core = None
_ov_core_lock = threading.Lock()


def openvino_core():
    """The process's one ``openvino.Core``, created on first use and never released.

    Why one, forever: each Core loads its own CPU plugin, and the plugin swaps the loading thread's
    alternate signal stack (``sigaltstack``) for a buffer of its own, putting back the one it found when it
    is destroyed. Cores destroyed in any order but the reverse of their creation (one per model, dropped by
    the model cache) left the main thread's signal stack pointing at freed memory; the next signal handled
    on it (Python installs its handlers with ``SA_ONSTACK``: a DataLoader's SIGCHLD, Ctrl-C, SIGTERM) then
    killed the process with SIGSEGV, with no traceback (the kernel cannot build the signal frame).
    That was the whole-suite segfault of issue 23 (tests/core/models/test_openvino_signal_stack.py).
    """
    global _ov_core
    with _ov_core_lock:
        if _ov_core is None:
            import openvino as ov

            _ov_core = ov.Core()
        return _ov_core


class OnnxRunner:
    """Runs an ONNX model on ``(N, C, h, w)`` CPU float32 tensors (the tiler's tile function).

    ``precision`` is applied per call (``runner(t, "bf16")``): the precision policy depends on the
    model (its measured policy), the compiled graph is shared.
    """

    backend = ""

    def __call__(self, t: torch.Tensor, precision: str = "f32") -> torch.Tensor:
        x = np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)
        try:
            y = self._infer(x, precision)
        except Exception as exc:  # noqa: BLE001 - re-raised, as MemoryError when it is one
            raise _as_memory_error(exc) from exc
        return torch.from_numpy(y)

    def _infer(self, x: np.ndarray, precision: str) -> np.ndarray:
        raise NotImplementedError


class OpenVinoRunner(OnnxRunner):
    """OpenVINO CPU plugin. Compiled once per tile shape, precision and mode (static shapes measured faster
    than the dynamic graph, and a run uses one tile shape); the last few are kept.

    Two modes: one tile at a time on all threads (``__call__``, the LATENCY hint), and :meth:`session`,
    ``streams`` tiles at once, one thread each (the THROUGHPUT hint), which the tiler uses when a run's
    tiles split evenly between the streams: on the 2-core CPU of issue 23 the RAW denoiser's 8 tiles of a
    24-MP photo took ~7 % less CPU time that way (no barrier between the threads inside each convolution),
    and far less wall time while other processes share the CPU (docs/performance.md).
    """

    backend = "openvino"
    KEEP = 4

    def __init__(self, onnx_bytes: bytes, threads: int) -> None:
        self._core = openvino_core()
        self._model = self._core.read_model(io.BytesIO(onnx_bytes))
        self._threads = threads
        self.streams = threads if threads > 1 else 1
        self._compiled: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()  # one compile/infer at a time: infer requests are not re-entrant

    def _get(self, shape: tuple[int, ...], precision: str, streams: int) -> tuple:
        """(compiled model, its shared infer request); call with the lock held."""
        key = (shape, precision, streams)
        hit = self._compiled.get(key)
        if hit is None:
            model = self._model.clone()
            model.reshape({model.inputs[0].get_any_name(): list(shape)})
            config = {"INFERENCE_PRECISION_HINT": precision, "INFERENCE_NUM_THREADS": self._threads}
            if streams > 1:
                config.update({"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": streams})
            else:
                config["PERFORMANCE_HINT"] = "LATENCY"
            compiled = self._core.compile_model(model, "CPU", config)
            hit = self._compiled[key] = (compiled, compiled.create_infer_request())
            while len(self._compiled) > self.KEEP:
                self._compiled.popitem(last=False)
        self._compiled.move_to_end(key)
        return hit

    def _infer(self, x: np.ndarray, precision: str) -> np.ndarray:
        with self._lock:
            request = self._get(tuple(x.shape), precision, 1)[1]
            return request.infer({0: x})[0].copy()

    def session(self, precision: str = "f32") -> _OvSession:
        """Up to ``streams`` tiles in flight for one tiled run (its own infer requests, so two runs on
        two threads never share one)."""
        return _OvSession(self, precision)


class _OvSession:
    """``start(tile) -> result()``: a tile runs on the next stream while the caller prepares the next one.

    The caller keeps at most ``depth`` results pending and collects them in order (the tiler does), so the
    request a tile is given has always been collected from before.
    """

    def __init__(self, runner: OpenVinoRunner, precision: str) -> None:
        self._runner, self._precision = runner, precision
        self.depth = runner.streams
        self._requests: dict[tuple[int, ...], list] = {}
        self._count = 0

    def start(self, t: torch.Tensor):
        x = np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32)
        try:
            requests = self._requests.get(x.shape)
            if requests is None:
                with self._runner._lock:
                    compiled = self._runner._get(tuple(x.shape), self._precision, self.depth)[0]
                requests = self._requests[x.shape] = [compiled.create_infer_request() for _ in range(self.depth)]
            request = requests[self._count % self.depth]
            self._count += 1
            request.start_async({0: x})
        except Exception as exc:  # noqa: BLE001 - re-raised, as MemoryError when it is one
            raise _as_memory_error(exc) from exc

        def result() -> torch.Tensor:
            try:
                request.wait()
                return torch.from_numpy(request.get_output_tensor(0).data.copy())
            except Exception as exc:  # noqa: BLE001 - re-raised, as MemoryError when it is one
                raise _as_memory_error(exc) from exc

        return result


class OrtRunner(OnnxRunner):
    """ONNX Runtime, CPU execution provider, float32 (a bf16 request runs in float32)."""

    backend = "onnxruntime"

    def __init__(self, onnx_bytes: bytes, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(onnx_bytes, options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def _infer(self, x: np.ndarray, precision: str) -> np.ndarray:
        return self._session.run(None, {self._input: x})[0]


def build_runner(backend: str, onnx_bytes: bytes, threads: int) -> OnnxRunner:
    if backend == "openvino":
        return OpenVinoRunner(onnx_bytes, threads)
    if backend == "onnxruntime":
        return OrtRunner(onnx_bytes, threads)
    raise ValueError(f"no ONNX runner for backend {backend!r}")
