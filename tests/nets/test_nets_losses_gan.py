import pytest
import torch

from app.core.nets.losses_gan import (
    ragan_ls_d_loss,
    ragan_ls_d_loss_double,
    ragan_ls_g_loss,
    ragan_ls_g_loss_double,
)

REAL = torch.tensor([1.0, 3.0])  # mean 2
FAKE = torch.tensor([0.0, -2.0])  # mean -1


def test_d_loss_hand_computed():
    # real - E[fake] - 1 = [1, 3];   fake - E[real] + 1 = [-1, -3]
    # ((1 + 9) / 2 + (1 + 9) / 2) / 2 = 5
    assert ragan_ls_d_loss(REAL, FAKE).item() == pytest.approx(5.0)


def test_g_loss_hand_computed():
    # real - E[fake] + 1 = [3, 5];   fake - E[real] - 1 = [-3, -5]
    # ((9 + 25) / 2 + (9 + 25) / 2) / 2 = 17
    assert ragan_ls_g_loss(REAL, FAKE).item() == pytest.approx(17.0)


def test_optimum_for_discriminator_is_zero():
    real, fake = torch.full((2, 1, 3, 3), 0.5), torch.full((2, 1, 3, 3), -0.5)
    assert ragan_ls_d_loss(real, fake).item() == pytest.approx(0.0)
    assert ragan_ls_g_loss(real, fake).item() == pytest.approx(4.0)  # (2^2 + 2^2) / 2


def test_double_scale_losses_average_branches():
    real = {"patch": REAL, "full": torch.tensor([[0.5], [0.5]])}
    fake = {"patch": FAKE, "full": torch.tensor([[-0.5], [-0.5]])}
    assert ragan_ls_d_loss_double(real, fake).item() == pytest.approx((5.0 + 0.0) / 2)
    assert ragan_ls_g_loss_double(real, fake).item() == pytest.approx((17.0 + 4.0) / 2)
    with pytest.raises(ValueError):
        ragan_ls_d_loss_double(real, {"patch": FAKE})


def test_generator_gradient_flows_only_through_fake():
    fake = FAKE.clone().requires_grad_(True)
    ragan_ls_g_loss(REAL, fake).backward()
    assert fake.grad is not None and torch.all(fake.grad != 0)
