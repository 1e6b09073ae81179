"""Bring a decoded waveform to what a model expects: mono, float32, the model's sample rate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch


def prepare_waveform(wav: Any, sr: int, target_sr: int, *, channels_first: bool = True) -> tuple["torch.Tensor", list[str]]:
    """Down-mix to mono and resample to ``target_sr``; return ``((N,) float32 tensor, notices)``.

    ``wav`` is a torch tensor or numpy array, ``(N,)`` mono or 2-D multi-channel:
    ``(channels, N)`` as ``torchaudio.load`` returns it (``channels_first=True``, default) or
    ``(N, channels)`` as ``soundfile.read`` does (``channels_first=False``). Down-mixing is the
    channel mean. Resampling uses ``torchaudio.functional.resample`` (windowed-sinc, its
    defaults). ``notices`` lists, in words, each change made (empty when none), for the log.
    """
    import torch

    from asvbench.errors import AsvbenchError

    x = torch.as_tensor(wav)
    if not torch.is_floating_point(x):
        raise AsvbenchError(f"expected a float waveform in [-1, 1], got dtype {x.dtype}",
                            hint="decode audio to float32 (e.g. soundfile.read(..., dtype='float32'))")
    x = x.to(torch.float32)
    notices: list[str] = []
    if x.dim() == 2:
        if not channels_first:
            x = x.t()
        if x.shape[0] > 1:
            notices.append(f"down-mixed {x.shape[0]} channels to mono (channel mean)")
        x = x.mean(dim=0)
    elif x.dim() != 1:
        raise AsvbenchError(f"expected a waveform of shape (N,) or 2-D multi-channel, got {tuple(x.shape)}")
    if sr <= 0 or target_sr <= 0:
        raise AsvbenchError(f"sample rates must be positive, got {sr} -> {target_sr}")
    if sr != target_sr:
        from asvbench.check_install import require_torchaudio

        AF = require_torchaudio("functional")

        x = AF.resample(x, int(sr), int(target_sr))
        notices.append(f"resampled {sr} Hz to {target_sr} Hz")
    return x.contiguous(), notices
