import numpy as np
import pytest
import torch

from app.core.models.stats import count_params
from app.core.nets.vgg import CAFFE_MEAN_BGR, VGG16_CONVS, VGGFeatures, default_weights_path, load_hed_vgg16


@pytest.fixture(scope="module")
def hed_path():
    path = default_weights_path()
    if not path.is_file():
        pytest.skip(f"HED VGG16 weights not at {path} (run ../shared/datasets/scripts/get_vgg16_hed.sh)")
    pytest.importorskip("h5py")
    return path


def test_layer_selection_and_shapes():
    vgg = VGGFeatures(layers=("relu1_2", "pool2", "conv3_3"))
    assert list(vgg.convs) == [n for n, _, _ in VGG16_CONVS[:7]]  # nothing past conv3_3 is built
    out = vgg(torch.rand(1, 3, 32, 40))
    assert out["relu1_2"].shape == (1, 64, 32, 40) and out["relu1_2"].min() >= 0
    assert out["pool2"].shape == (1, 128, 8, 10)
    assert out["conv3_3"].shape == (1, 256, 8, 10)
    assert not any(p.requires_grad for p in vgg.parameters())
    with pytest.raises(ValueError, match="unknown"):
        VGGFeatures(layers=("conv6_1",))


def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="get_vgg16_hed.sh"):
        load_hed_vgg16(tmp_path / "absent.h5")


def test_hed_loader_maps_all_kernels(hed_path):
    state = load_hed_vgg16(hed_path)
    for name, cin, cout in VGG16_CONVS:
        assert state[f"{name}.weight"].shape == (cout, cin, 3, 3)
        assert state[f"{name}.bias"].shape == (cout,)
    vgg = VGGFeatures(layers=("conv5_3",), weights=hed_path)
    assert count_params(vgg) == 14_714_688
    torch.testing.assert_close(vgg.convs["conv4_2"].weight, state["conv4_2.weight"])


def test_hed_kernel_orientation_and_input_convention(hed_path):
    """conv1_1 on a tiny RGB patch equals a direct HWIO cross-correlation on BGR - Caffe mean."""
    import h5py

    with h5py.File(hed_path, "r") as f:
        kernel = f["block1/layers/conv2d/vars/0"][()]  # (kh, kw, in, out), as named block1_conv1
        bias = f["block1/layers/conv2d/vars/1"][()]
    rng = np.random.default_rng(0)
    rgb = rng.random((3, 5, 5)).astype(np.float32)
    bgr = rgb[::-1] * 255.0 - np.asarray(CAFFE_MEAN_BGR, np.float32)[:, None, None]
    # Output at the centre pixel (2, 2) sees the 3x3 window rows/cols 1..3, no padding involved.
    window = bgr[:, 1:4, 1:4]  # (in, kh, kw)
    expected = np.einsum("ihw,hwio->o", window, kernel) + bias
    vgg = VGGFeatures(layers=("conv1_1",), weights=hed_path)
    with torch.no_grad():
        got = vgg(torch.from_numpy(rgb)[None])["conv1_1"][0, :, 2, 2].numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-2)


def test_input_range_minus_one_to_one(hed_path):
    a = VGGFeatures(layers=("conv2_2",), weights=hed_path)
    b = VGGFeatures(layers=("conv2_2",), weights=hed_path, input_range=(-1.0, 1.0))
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(b(x * 2 - 1)["conv2_2"], a(x)["conv2_2"], rtol=1e-4, atol=1e-3)
