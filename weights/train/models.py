"""The two architectures, as plain nn.Sequential so weights/export_pytorch.export() takes them.

ESPCN (Shi et al., CVPR 2016): Conv(1,64,5) tanh, Conv(64,32,3) tanh, Conv(32,r^2,3),
PixelShuffle(r). Outputs are not clamped here; the engine clamps to [0, 1].

FSRCNN-style (Dong et al., ECCV 2016): Conv(1,d,5) PReLU(d), Conv(d,s,1) PReLU(s),
m x [Conv(s,s,3) PReLU(s)], Conv(s,d,1) PReLU(d), ConvTranspose2d(d,1,9,stride=r). The
deconvolution's padding p and output padding op make the output exactly r x the input
(9 - 2p + op = r): op = (9 - r) % 2, p = (9 - r + op) / 2, which also centres the 9 x 9
kernel on the LR pixel as closely as an integer p allows (x2: p 4 op 1; x3: p 3 op 0;
x4: p 3 op 1). The engine converts it into an LR convolution + periodic shuffle at load.

Initialization ("init" in the configs):
- "he" (default, and what the original implementations do): every conv but the last
  N(0, sqrt(2 / (out_channels * k * k))) (He et al., fan-out), biases 0; the last layer
  (the r^2 conv of ESPCN, the deconvolution of FSRCNN) N(0, 0.001), bias 0. PReLU slopes 0.25.
- "torch": PyTorch's default initialization.

Training speed: PyTorch 1.13's CPU ConvTranspose2d (slow_conv_transpose2d, im2col loops) is
~10x slower than its oneDNN convolutions, so `forward()` computes FSRCNN's deconvolution as the
equivalent LR convolution with r^2 outputs + PixelShuffle (the same rewrite the engine does at
load; Shi et al. 2016), with the convolution's weights *gathered from the ConvTranspose2d's own
weight tensor*. The parameters, the function and its gradients are those of the
ConvTranspose2d model (only the arithmetic order differs: float32 rounding); the model stays an
nn.Sequential ending in nn.ConvTranspose2d and is exported as such. `check_subpixel()`
verifies the equality against nn.ConvTranspose2d.
"""
from __future__ import annotations

import copy
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from espcn_format import read_model  # noqa: E402  (weights/: the one reader of our format)

ARCHS = ("espcn", "fsrcnn", "lrnet", "hrnet")


def deconv_padding(r: int, k: int = 9) -> tuple[int, int]:
    op = (k - r) % 2
    p = (k - r + op) // 2
    assert k - 2 * p + op == r and 0 <= op < r and p >= 0, (r, k, p, op)
    return p, op


def espcn(r: int, c1: int = 64, c2: int = 32) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, c1, 5, padding=2), nn.Tanh(),
        nn.Conv2d(c1, c2, 3, padding=1), nn.Tanh(),
        nn.Conv2d(c2, r * r, 3, padding=1), nn.PixelShuffle(r))


def fsrcnn(r: int, d: int = 56, s: int = 12, m: int = 4) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(1, d, 5, padding=2), nn.PReLU(d),
                               nn.Conv2d(d, s, 1), nn.PReLU(s)]
    for _ in range(m):
        layers += [nn.Conv2d(s, s, 3, padding=1), nn.PReLU(s)]
    layers += [nn.Conv2d(s, d, 1), nn.PReLU(d)]
    p, op = deconv_padding(r)
    layers.append(nn.ConvTranspose2d(d, 1, 9, stride=r, padding=p, output_padding=op))
    return nn.Sequential(*layers)


class CollapsibleConv(nn.Module):
    """A k x k convolution trained over-parameterized and always run collapsed (Bhardwaj et
    al., "Collapsible Linear Blocks for Super-Efficient Super Resolution", MLSys 2022).

    Parameters: a k x k conv in -> `expand` channels and a 1 x 1 conv expand -> out (a linear
    block: no activation between them), plus, when in == out and `short_residual`, the identity
    (the block's short residual). Their composition is one k x k conv in -> out,
    W = W2 . W1 (+ I at the kernel centre), b = W2 b1 + b2, and the forward pass computes
    exactly that collapsed conv (so a training step costs about what the small network's
    does; only the gradients reach W1, W2 through the product). `expand` = 0: a plain conv."""

    def __init__(self, cin: int, cout: int, k: int, expand: int = 0, short_residual: bool = True):
        super().__init__()
        self.cin, self.cout, self.k, self.expand = cin, cout, k, expand
        self.short_residual = short_residual and cin == cout
        if expand:
            self.w1 = nn.Parameter(torch.empty(expand, cin, k, k))
            self.b1 = nn.Parameter(torch.zeros(expand))
            self.w2 = nn.Parameter(torch.empty(cout, expand, 1, 1))
            self.b2 = nn.Parameter(torch.zeros(cout))
        else:
            self.w = nn.Parameter(torch.empty(cout, cin, k, k))
            self.b = nn.Parameter(torch.zeros(cout))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default Conv2d initialization for each factor.
        for name in ("w1", "w2", "w"):
            if hasattr(self, name):
                nn.init.kaiming_uniform_(getattr(self, name), a=math.sqrt(5))

    def collapsed(self) -> tuple[torch.Tensor, torch.Tensor]:
        if self.expand:
            w2 = self.w2[:, :, 0, 0]
            w = torch.einsum("oe,eikl->oikl", w2, self.w1)
            b = w2 @ self.b1 + self.b2
        else:
            w, b = self.w, self.b
        if self.short_residual:
            eye = torch.zeros_like(w)
            c = self.k // 2
            idx = torch.arange(self.cout, device=w.device)
            eye[idx, idx, c, c] = 1.0
            w = w + eye
        return w, b

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.collapsed()
        return F.conv2d(x, w, b, padding=self.k // 2)

    def to_conv(self) -> nn.Conv2d:
        conv = nn.Conv2d(self.cin, self.cout, self.k, padding=self.k // 2)
        with torch.no_grad():
            w, b = self.collapsed()
            conv.weight.copy_(w)
            conv.bias.copy_(b)
        return conv


def _activation(kind: str, channels: int) -> nn.Module:
    if kind == "prelu":
        return nn.PReLU(channels)
    if kind == "relu":
        return nn.ReLU()
    if kind == "tanh":
        return nn.Tanh()
    raise ValueError(f"unknown activation {kind!r} (prelu, relu, tanh)")


class LRNet(nn.Module):
    """All-LR network: conv first_k 1 -> f, m x (conv 3 x 3 f -> f), conv last_k f -> r^2, each
    but the last followed by `act`, then the periodic shuffle; with `residual` "nearest" the
    LR input is added to each of the r^2 output channels before the shuffle (= the input
    upsampled by pixel replication added to the HR output: FORMAT.md "residual"). Every conv
    is a CollapsibleConv (expand = 0: plain); exported in collapsed form (to_sequential)."""

    def __init__(self, r: int, f: int = 16, m: int = 8, first_k: int = 5, last_k: int = 5,
                 expand: int = 0, act: str = "prelu", residual: str | None = "nearest",
                 short_residual: bool = True):
        super().__init__()
        if residual not in (None, "none", "nearest"):
            raise ValueError(f"residual must be null or 'nearest', not {residual!r}")
        self.r = r
        self.residual = None if residual in (None, "none") else residual
        layers: list[nn.Module] = [CollapsibleConv(1, f, first_k, expand, short_residual),
                                   _activation(act, f)]
        for _ in range(m):
            layers += [CollapsibleConv(f, f, 3, expand, short_residual), _activation(act, f)]
        layers.append(CollapsibleConv(f, r * r, last_k, expand, short_residual))
        self.body = nn.Sequential(*layers)
        self.shuffle = nn.PixelShuffle(r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        if self.residual == "nearest":
            y = y + x  # broadcast over the r^2 channels
        return self.shuffle(y)

    def to_sequential(self) -> nn.Sequential:
        # New Conv2d modules draw their (overwritten) initial weights from the global RNG;
        # fork it, so that exporting or counting parameters never changes a training run's
        # random state (a resumed run must match an uninterrupted one bit for bit).
        with torch.random.fork_rng(devices=[]):
            out = []
            for mod in self.body:
                out.append(mod.to_conv() if isinstance(mod, CollapsibleConv) else copy.deepcopy(mod))
            out.append(nn.PixelShuffle(self.r))
            return nn.Sequential(*out)


def bicubic_taps(r: int) -> torch.Tensor:
    """(r^2, 1, 5, 5) weights of an LR conv that, with replicate padding 2 and PixelShuffle(r),
    upsamples by r with Keys' cubic (a = -0.5), centre-aligned: HR row y = q r + i samples
    the LR position q + (i + 0.5)/r - 0.5 (MATLAB imresize's geometry, without its antialias,
    which upscaling does not use)."""
    def keys(t: float) -> float:
        t = abs(t)
        if t <= 1:
            return 1.5 * t ** 3 - 2.5 * t ** 2 + 1
        if t < 2:
            return -0.5 * t ** 3 + 2.5 * t ** 2 - 4 * t + 2
        return 0.0
    one_d = torch.zeros(r, 5, dtype=torch.float64)
    for i in range(r):
        d = (i + 0.5) / r - 0.5
        for t in range(-2, 3):
            one_d[i, t + 2] = keys(d - t)
        one_d[i] /= one_d[i].sum()
    w = torch.einsum("ik,jl->ijkl", one_d, one_d).reshape(r * r, 1, 5, 5)
    return w.float()


class HRNet(nn.Module):
    """Upsample first (bicubic, bicubic_taps), then every conv in HR space: conv first_k
    1 -> f, m x conv 3 x 3 f -> f, conv last_k f -> 1, `act` between (SRCNN's structure).
    The note's Section 3 counterpart of LRNet; PyTorch only (the engine runs LR networks)."""

    def __init__(self, r: int, f: int = 16, m: int = 1, first_k: int = 5, last_k: int = 3,
                 act: str = "relu"):
        super().__init__()
        self.r = r
        self.register_buffer("taps", bicubic_taps(r))
        layers: list[nn.Module] = [nn.Conv2d(1, f, first_k, padding=first_k // 2), _activation(act, f)]
        for _ in range(m):
            layers += [nn.Conv2d(f, f, 3, padding=1), _activation(act, f)]
        layers.append(nn.Conv2d(f, 1, last_k, padding=last_k // 2))
        self.body = nn.Sequential(*layers)

    def upsample(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), self.taps), self.r)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(self.upsample(x))


def init_weights(model: nn.Sequential, scheme: str = "he", last_std: float = 1e-3) -> None:
    if scheme == "torch":
        return
    if scheme != "he":
        raise ValueError(f"unknown init {scheme!r} (he, torch)")
    convs = [mod for mod in model if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d))]
    for i, mod in enumerate(convs):
        if i == len(convs) - 1:
            nn.init.normal_(mod.weight, 0.0, last_std)
        else:
            k = mod.kernel_size[0] * mod.kernel_size[1]
            nn.init.normal_(mod.weight, 0.0, math.sqrt(2.0 / (mod.out_channels * k)))
        if mod.bias is not None:
            nn.init.zeros_(mod.bias)


def build(arch: str, scale: int, init: str = "he", last_std: float = 1e-3, **kw) -> nn.Sequential:
    if arch == "espcn":
        model = espcn(scale, **kw)
    elif arch == "fsrcnn":
        model = fsrcnn(scale, **kw)
    elif arch == "lrnet":
        model = LRNet(scale, **kw)
        if init == "he":
            raise ValueError("lrnet: use init 'torch' (its factors have their own init)")
        return model
    elif arch == "hrnet":
        model = HRNet(scale, **kw)
    else:
        raise ValueError(f"unknown arch {arch!r} ({', '.join(ARCHS)})")
    init_weights(model, init, last_std)
    return model


def read_espcn_file(path: str):
    """(network JSON, {tensor name: float32 numpy array}) of a file in our format, read by
    weights/espcn_format.read_model (ValueError, with the path, for a file it cannot read)."""
    import numpy as np
    net, tensors = read_model(path)
    return net, {name: np.asarray(t.values, np.float32).reshape(t.shape) for name, t in tensors.items()}


def load_espcn_file(model: nn.Sequential, path: str) -> None:
    """Copies the weights of a file in our format into `model`, layer by layer. The layer
    types and every tensor shape must match; stride and padding of a deconvolution may
    differ, which is how FSRCNN moves between scales (Dong et al. 2016, sec. 3.3: the
    feature, shrinking, mapping and expanding layers are shared, the 9x9 deconvolution has
    the same shape at every scale and is fine-tuned)."""
    net, tensors = read_espcn_file(path)
    layers = list(model)
    if len(layers) != len(net["layers"]):
        raise ValueError(f"{path}: {len(net['layers'])} layers, the model has {len(layers)}")
    for i, (mod, spec) in enumerate(zip(layers, net["layers"])):
        want = {nn.Conv2d: "conv", nn.ConvTranspose2d: "deconv", nn.PReLU: "prelu", nn.Tanh: "tanh",
                nn.PixelShuffle: "pixel_shuffle"}.get(type(mod))
        if want != spec["type"]:
            raise ValueError(f"{path}: layer {i} is {spec['type']}, the model's is {type(mod).__name__}")
        with torch.no_grad():
            for attr in ("weight", "bias"):
                if spec.get(attr):
                    t = torch.from_numpy(tensors[spec[attr]].copy())
                    if tuple(t.shape) != tuple(getattr(mod, attr).shape):
                        raise ValueError(f"{path}: layer {i} {attr} {tuple(t.shape)} vs {tuple(getattr(mod, attr).shape)}")
                    getattr(mod, attr).copy_(t)


def last_layer(model: nn.Module) -> nn.Module:
    kinds = (nn.Conv2d, nn.ConvTranspose2d, CollapsibleConv)
    return [mod for mod in model.modules() if isinstance(mod, kinds)][-1]


def macs_per_lr_pixel(model: nn.Module) -> int:
    """Multiply-accumulates per LR pixel of the model as the engine runs it (collapsed;
    an HRNet's convs count r^2 times, its fixed bicubic upsampling not at all)."""
    total = 0
    for mod in model.modules():
        if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d)):
            # a ConvTranspose2d: each LR input pixel scatters in*out*k*k products
            total += mod.in_channels * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, CollapsibleConv):
            total += mod.cin * mod.cout * mod.k * mod.k
    if isinstance(model, HRNet):
        total *= model.r * model.r
    return total


def deployed_parameters(model: nn.Module) -> int:
    """Parameters of the model as exported (LRNet: collapsed)."""
    if isinstance(model, LRNet):
        model = model.to_sequential()
    return sum(p.numel() for n, p in model.named_parameters())


def _subpixel_index(k: int, r: int, p: int, c_in: int, c_out: int):
    """For ConvTranspose2d(c_in, c_out, k, stride r, padding p): (index, R) such that the
    equivalent 'same' conv weight, shape (c_out*r*r, c_in, 2R+1, 2R+1), is
    W_ext[ci, co*k*k + ky*k + kx] gathered at index[co*r*r + i*r + j, jy, jx] (== c_out*k*k
    where there is no tap: W_ext has one zero column appended there).

    Output y = q*r + i receives input x = q - t through tap t*r + i + p; as a correlation
    offset jy = -t."""
    taps = [[t for t in range(-k, k + 1) if 0 <= t * r + i + p < k] for i in range(r)]
    R = max(abs(t) for ts in taps for t in ts)
    S = 2 * R + 1
    zero = c_out * k * k
    index = torch.full((c_out * r * r, S, S), zero, dtype=torch.long)
    for co in range(c_out):
        for i in range(r):
            for j in range(r):
                for ty in taps[i]:
                    for tx in taps[j]:
                        index[co * r * r + i * r + j, R - ty, R - tx] = \
                            co * k * k + (ty * r + i + p) * k + (tx * r + j + p)
    return index, R


def subpixel_deconv(x: torch.Tensor, deconv: nn.ConvTranspose2d) -> torch.Tensor:
    """deconv(x), computed as an LR conv + PixelShuffle with weights gathered from deconv."""
    k, r, p = deconv.kernel_size[0], deconv.stride[0], deconv.padding[0]
    c_in, c_out = deconv.in_channels, deconv.out_channels
    key = (k, r, p, c_in, c_out)
    cache = getattr(deconv, "_subpixel_cache", None)
    if cache is None or cache[0] != key or cache[1].device != x.device:
        index, R = _subpixel_index(k, r, p, c_in, c_out)
        cache = (key, index.to(x.device), R)
        deconv._subpixel_cache = cache
    _, index, R = cache
    w = deconv.weight.reshape(c_in, c_out * k * k)
    w = torch.cat([w, w.new_zeros(c_in, 1)], dim=1)
    w = w[:, index].permute(1, 0, 2, 3)  # (c_out*r*r, c_in, S, S)
    b = deconv.bias.repeat_interleave(r * r) if deconv.bias is not None else None
    y = F.pixel_shuffle(F.conv2d(x, w, b, padding=R), r)
    op = deconv.output_padding[0]
    h, w_ = x.shape[-2] * r, x.shape[-1] * r
    if k - 2 * p + op != r:
        raise ValueError("subpixel_deconv needs an exactly r x deconvolution")
    return y[..., :h, :w_]


def forward(model: nn.Sequential, x: torch.Tensor, fast: bool = True) -> torch.Tensor:
    """model(x); an ending ConvTranspose2d is computed as conv + shuffle when fast."""
    if not isinstance(model, nn.Sequential):
        return model(x)
    if fast and isinstance(model[-1], nn.ConvTranspose2d) and model[-1].groups == 1 \
            and model[-1].dilation == (1, 1):
        for mod in list(model)[:-1]:
            x = mod(x)
        return subpixel_deconv(x, model[-1])
    return model(x)


def check_subpixel(verbose: bool = True) -> float:
    """max |fast - nn.ConvTranspose2d| over FSRCNN x2/x3/x4 with random weights (float64)."""
    worst = 0.0
    g = torch.Generator().manual_seed(0)
    for r in (2, 3, 4):
        for k in (9, 5, 3):
            if k < r:
                continue
            p, op = deconv_padding(r, k)
            dc = nn.ConvTranspose2d(6, 2, k, stride=r, padding=p, output_padding=op).double()
            with torch.no_grad():
                dc.weight.copy_(torch.randn(dc.weight.shape, generator=g, dtype=torch.float64))
                dc.bias.copy_(torch.randn(dc.bias.shape, generator=g, dtype=torch.float64))
            x = torch.randn(2, 6, 7, 9, generator=g, dtype=torch.float64, requires_grad=True)
            a = dc(x)
            b = subpixel_deconv(x, dc)
            assert a.shape == b.shape == (2, 2, 7 * r, 9 * r), (a.shape, b.shape)
            worst = max(worst, (a - b).abs().max().item())
            ga = torch.autograd.grad(a.square().sum(), [x, dc.weight])
            gb = torch.autograd.grad(b.square().sum(), [x, dc.weight])
            worst = max(worst, max((u - v).abs().max().item() for u, v in zip(ga, gb)))
    if verbose:
        print(f"subpixel deconvolution == nn.ConvTranspose2d: max |diff| {worst:.3g} (float64)")
    assert worst < 1e-9, worst
    return worst


if __name__ == "__main__":
    check_subpixel()
