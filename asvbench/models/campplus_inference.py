"""CAM++'s x-vector part in time-major form, for inference (see ``campplus.fuse_for_inference``).

The reference keeps activations channel-major, ``(B, C, T)``, runs every 1x1 convolution as a
convolution and every pre-activation ``BatchNorm-ReLU`` as two passes over the growing dense
input. Here the same function is computed as matrix products on a time-major buffer, ``(B * T,
C)``, with three rewrites that change only float rounding:

* **Pre-activation folded into the following linear map.** For ``W relu(s * x + b) + c`` with
  every BatchNorm scale ``s > 0``: ``relu(s * x + b) = s * (max(x, t) - t)`` with ``t = -b / s``,
  so the layer is ``W' max(x, t) + c'`` with ``W' = W diag(s)`` and ``c' = c - W' t``: one
  elementwise pass (a per-channel maximum) instead of BatchNorm then ReLU. A layer with any
  scale ``<= 0`` keeps the explicit ``relu(s * x + b)``.
* **1x1 convolutions as linear maps** (one GEMM each) on the time-major buffer; the buffer's
  column slices are the dense block's growing input, so nothing is concatenated or copied.
* **The CAM local convolution** (kernel ``K``, dilation ``d``) as one linear map to the ``K``
  taps' outputs, summed with shifts of multiples of ``d`` frames (zero beyond the ends, as the
  zero-padded convolution); the context gate is computed per segment from one pass of segment sums (the
  utterance mean is their total over ``T``) and applied per segment.

Only unpadded input takes this path (every row of the batch has all its frames): with a frame
mask the channel-major network it was built from runs instead, which masks every operation
that mixes frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.campplus import _CAMLayer, _DenseLayer, _XVector


def linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, relu: bool) -> torch.Tensor:
    """``x @ weight.T + bias``, then ReLU in place; ``x`` 2-D, any row stride.

    Plain ``F.linear`` (MKL's GEMM on CPU) on purpose: oneDNN's fused linear-ReLU is faster on a
    shape it has seen, but builds a new kernel for every new number of frames, and utterance
    lengths are rarely repeated (measured slower end to end on real speech)."""
    y = F.linear(x, weight, bias)
    return F.relu_(y) if relu else y


def batchnorm_affine(bn: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as ``s * x + b`` per channel, in float64."""
    scale = 1.0 / torch.sqrt(bn.running_var.double() + bn.eps)
    shift = -bn.running_mean.double() * scale
    if bn.affine:
        scale, shift = scale * bn.weight.double(), shift * bn.weight.double() + bn.bias.double()
    return scale, shift


class PreActLinear(nn.Module):
    """``linear(relu(batchnorm(x)))`` with the BatchNorm folded into the linear map (see the
    module docstring): ``W' max(x, t) + c'`` when every BatchNorm scale is positive, else the
    explicit ``W relu(s * x + b) + c``. ``x`` is ``(N, C_in)``, any row stride."""

    def __init__(self, bn: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None):
        super().__init__()
        scale, shift = batchnorm_affine(bn)
        w = weight.detach().double()
        c = bias.detach().double() if bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
        dtype = weight.dtype
        self.thresholded = bool((scale > 0).all())
        if self.thresholded:
            threshold = -shift / scale
            folded = w * scale[None, :]
            self.register_buffer("weight", folded.to(dtype).contiguous())
            self.register_buffer("bias", (c - folded @ threshold).to(dtype))
            self.register_buffer("threshold", threshold.to(dtype))
        else:
            self.register_buffer("weight", w.to(dtype).contiguous())
            self.register_buffer("bias", c.to(dtype))
            self.register_buffer("scale", scale.to(dtype))
            self.register_buffer("shift", shift.to(dtype))

    def activation(self, x: torch.Tensor) -> torch.Tensor:
        """``max(x, t)`` (thresholded) or ``relu(s * x + b)``: a new ``(N, C_in)`` tensor."""
        if self.thresholded:
            return torch.maximum(x, self.threshold.to(x.dtype))
        return F.relu_(torch.addcmul(self.shift.to(x.dtype), x, self.scale.to(x.dtype)))

    def forward(self, x: torch.Tensor, relu: bool = False) -> torch.Tensor:
        z = self.activation(x)
        return linear(z, self.weight.to(z.dtype), self.bias.to(z.dtype), relu)


def _segment_sums(h: torch.Tensor, seg_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Sums of ``h`` ``(B, T, C)`` over consecutive ``seg_len``-frame segments (the last one
    partial) and the frames each holds: ``(B, n_seg, C)``, ``(n_seg, 1)``."""
    b, t, c = h.shape
    full = t // seg_len
    parts = [h[:, : full * seg_len].reshape(b, full, seg_len, c).sum(2)] if full else []
    if t > full * seg_len:
        parts.append(h[:, full * seg_len :].sum(1, keepdim=True))
    sums = torch.cat(parts, 1) if len(parts) > 1 else parts[0]
    counts = torch.full((sums.shape[1], 1), float(seg_len), dtype=h.dtype, device=h.device)
    counts[-1] = t - (sums.shape[1] - 1) * seg_len
    return sums, counts


def _per_segment(out: torch.Tensor, y: torch.Tensor, gate: torch.Tensor, seg_len: int) -> None:
    """``out = y * gate`` with ``gate`` ``(B, n_seg, C)`` repeated over each segment's frames;
    ``out`` and ``y`` ``(B, T, C)`` (``out`` may be a strided view)."""
    b, t, c = y.shape
    full = t // seg_len
    if full:
        span = full * seg_len
        torch.mul(y[:, :span].view(b, full, seg_len, c), gate[:, :full, None, :],
                  out=out[:, :span].view(b, full, seg_len, c))
    if t > full * seg_len:
        torch.mul(y[:, full * seg_len :], gate[:, full:], out=out[:, full * seg_len :])


class TimeMajorDenseLayer(nn.Module):
    """One CAM dense layer (``BN-ReLU-Conv1x1-BN-ReLU`` then CAM) on a time-major buffer."""

    def __init__(self, layer: "_DenseLayer"):
        super().__init__()
        if not isinstance(layer.nonlinear2.batchnorm, nn.Identity):
            raise ValueError("fold nonlinear2's BatchNorm into linear1 first (fuse_for_inference)")
        linear1 = layer.linear1
        self.pre = PreActLinear(layer.nonlinear1.batchnorm, linear1.weight[:, :, 0], linear1.bias)
        cam: "_CAMLayer" = layer.cam_layer
        local = cam.linear_local.weight.detach()  # (G, bottleneck, K), K odd, 'same' padding
        if cam.linear_local.bias is not None:
            raise ValueError("the time-major CAM layer expects a local convolution without bias")
        self.growth, self.kernel = local.shape[0], local.shape[-1]
        self.dilation = cam.linear_local.dilation[0]
        self.seg_len = cam.seg_len
        self.register_buffer("taps", torch.cat([local[:, :, k] for k in range(self.kernel)], 0).contiguous())
        self.register_buffer("w1", cam.linear1.weight.detach()[:, :, 0].contiguous())
        self.register_buffer("b1", cam.linear1.bias.detach().clone())
        self.register_buffer("w2", cam.linear2.weight.detach()[:, :, 0].contiguous())
        self.register_buffer("b2", cam.linear2.bias.detach().clone())

    def forward(self, x: torch.Tensor, batch: int, frames: int, out: torch.Tensor) -> None:
        """Reads ``x`` ``(B * T, C_in)``, writes the layer's ``(B, T, growth)`` output into ``out``."""
        h = self.pre(x, relu=True)
        y = self._local(linear(h, self.taps.to(h.dtype), None, False).view(batch, frames, -1))
        sums, counts = _segment_sums(h.view(batch, frames, -1), self.seg_len)
        context = sums / counts + sums.sum(1, keepdim=True) / frames
        hidden = F.relu(F.linear(context, self.w1.to(h.dtype), self.b1.to(h.dtype)))
        gate = torch.sigmoid(F.linear(hidden, self.w2.to(h.dtype), self.b2.to(h.dtype)))
        _per_segment(out, y, gate, self.seg_len)

    def _local(self, taps: torch.Tensor) -> torch.Tensor:
        """The local convolution from its taps' outputs ``(B, T, K * G)``: ``y[t] = sum_k W_k
        h[t + (k - K // 2) d]``, terms outside the utterance being zero (the 'same' zero padding)."""
        g, centre, frames = self.growth, self.kernel // 2, taps.shape[1]
        y = taps[:, :, centre * g : (centre + 1) * g].clone()
        for k in range(self.kernel):
            shift = (k - centre) * self.dilation
            tap = taps[:, :, k * g : (k + 1) * g]
            if shift < 0 and -shift < frames:
                y[:, -shift:] += tap[:, : frames + shift]
            elif shift > 0 and shift < frames:
                y[:, : frames - shift] += tap[:, shift:]
        return y


class TimeMajorXVector(nn.Module):
    """CAM++'s ``xvector`` (TDNN, dense blocks, transits, pooling, embedding layer) computing
    unpadded batches time-major; padded (masked) batches run the channel-major ``xvector`` it
    was built from (kept as ``channel_major``, whose TDNN and embedding layer both paths use)."""

    def __init__(self, xvector: "_XVector"):
        super().__init__()
        self.channel_major = xvector
        self.blocks = nn.ModuleList()
        self.transits = nn.ModuleList()
        for i in range(1, xvector.n_blocks + 1):
            block, transit = getattr(xvector, f"block{i}"), getattr(xvector, f"transit{i}")
            self.blocks.append(nn.ModuleList(TimeMajorDenseLayer(layer) for layer in block.children()))
            self.transits.append(PreActLinear(transit.nonlinear.batchnorm, transit.linear.weight[:, :, 0],
                                              transit.linear.bias))
        scale, shift = batchnorm_affine(xvector.out_nonlinear.batchnorm)
        dtype = xvector.dense.linear.weight.dtype
        self.register_buffer("out_scale", scale.to(dtype))
        self.register_buffer("out_shift", shift.to(dtype))

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        if mask is not None:
            return self.channel_major(x, mask)
        tdnn = self.channel_major.tdnn(x, None)  # (B, C, T)
        batch, channels, frames = tdnn.shape
        current = tdnn.transpose(1, 2)  # (B, T, C), a view
        for layers, transit in zip(self.blocks, self.transits):
            growth = layers[0].growth if len(layers) else 0
            total = channels + growth * len(layers)
            buffer = tdnn.new_empty(batch * frames, total)
            grid = buffer.view(batch, frames, total)
            grid[:, :, :channels] = current
            for layer in layers:
                layer(buffer[:, :channels], batch, frames, grid[:, :, channels : channels + growth])
                channels += growth
            flat = transit(buffer)
            channels = flat.shape[1]
            current = flat.view(batch, frames, channels)
        # statistics in float32 even under reduced-precision autocast (a variance over
        # thousands of frames loses too much in bfloat16)
        z = F.relu_(torch.addcmul(self.out_shift.float(), current.float(), self.out_scale.float()))
        return self.channel_major.dense(self.channel_major.pool(z.transpose(1, 2), None))
