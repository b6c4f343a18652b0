#!/usr/bin/env bash
# Train and export the three KinD low-light nets in order, on one CPU thread (~95 min on a 2-core box).
# Restoration and adjustment learn on the *exported* decomposition, so each stage exports before the next.
# Resumable: rerun the same command and every stage continues from its checkpoint (a finished stage
# just re-exports). A stage that hits its --max-minutes cap is exported with "INCOMPLETE" on its card.
#   nohup nice -n 5 scripts/train_kind.sh > ~/.cache/photorestore/logs/train_kind.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
run() {
    echo "=== $1 (max $2 min) $(date -u +%FT%TZ)"
    python -m app.train "$1" --resume --threads 1 --max-minutes "$2" --export
}
run kind_decompose "${KIND_MINUTES_DECOMPOSE:-27}"
run kind_restore "${KIND_MINUTES_RESTORE:-42}"
run kind_adjust "${KIND_MINUTES_ADJUST:-16}"
echo "=== done $(date -u +%FT%TZ)"
