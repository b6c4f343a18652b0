"""Can a task's model fit one fixed batch? The quickest check that a net and its init can learn at all.

    python -m app.train.overfit CONFIG [--steps 300] [--lr 5e-4] [--batch 4] [--model KEY=VALUE ...]

Trains the config's model with plain MSE on one batch of training crops and prints its MSE relative to
the identity (the degraded input itself) every 50 steps, then once more in eval mode (batch-norm running
statistics). ``--model norm=none`` overrides a ``[model]`` key. A net that cannot push the ratio well below
1 on four crops will not learn the task from the full data either.
"""

from __future__ import annotations

import argparse
import time

import torch

from app.train.config import load_config
from app.train.splits import load_splits
from app.train.tasks import get_task


def _value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("config")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--model", nargs="*", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = load_config(args.config)
    cfg["model"].update({k: _value(v) for k, v in (kv.split("=", 1) for kv in args.model)})
    task = get_task(cfg["task"])
    data = task.build_data(cfg, load_splits(), "train")
    samples = [data[(0, i * (len(data) // args.batch))] for i in range(args.batch)]
    batch = {k: torch.stack([s[k] for s in samples]) for k in samples[0]}
    model = task.build_model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    def mse() -> tuple[float, float]:
        b = dict(batch)  # forward may replace lq / gt with the stage's own (KinD tasks)
        pred = task.forward(model, b)
        return torch.mean((pred - b["gt"]) ** 2), torch.mean((b["lq"] - b["gt"]) ** 2).item()

    t0 = time.perf_counter()
    for step in range(args.steps + 1):
        loss, base = mse()
        if step % 50 == 0:
            print(f"step {step:4d}  mse/identity {loss.item() / base:.3f}  ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
        if step < args.steps:
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        loss, base = mse()
    print(f"eval mode      mse/identity {loss.item() / base:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
