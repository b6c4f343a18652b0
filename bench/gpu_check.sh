#!/usr/bin/env bash
# The GPU check of issue 23, one command for a machine with a CUDA GPU (< 8 min on one H100-class GPU):
#   bench/gpu_check.sh                 # all parts on cuda, 24-MP photos
#   bench/gpu_check.sh --part oom gui  # some parts
#   GPU_CHECK_DEVICE=cpu GPU_CHECK_MP=0.3 bench/gpu_check.sh   # the CPU-only parts (what CI runs)
# Parts (bench/gpu_check.py): --selftest on the device; every op end to end on a 24-MP photo with timings;
# the out-of-memory path under a small memory cap; fp16/bf16 autocast vs float32 per model; the GUI worker
# on the device, offscreen. Prints a log; exit status 0 only if every part passed. Needs ../shared/datasets
# (or PHOTORESTORE_DATASETS) for the photos.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" QT_QPA_PLATFORM=offscreen
exec timeout "${GPU_CHECK_TIMEOUT:-480}" "${PYTHON:-python3}" bench/gpu_check.py \
  --device "${GPU_CHECK_DEVICE:-cuda}" --mp "${GPU_CHECK_MP:-24}" "$@"
