"""``python -m app.train.overfit``: one fixed batch, the MSE ratio to the identity falls as the net fits it."""

import re

import pytest

from app.train.overfit import main

pytestmark = pytest.mark.usefixtures("datasets_dir")


def test_overfit_reports_a_falling_ratio(capsys):
    assert main(["tiny_test", "--steps", "100", "--lr", "2e-3", "--model", "channels=8"]) == 0
    ratios = [float(x) for x in re.findall(r"mse/identity ([0-9.]+)", capsys.readouterr().out)]
    assert len(ratios) == 4  # steps 0, 50, 100 and the eval-mode line
    assert ratios[2] < ratios[0]
