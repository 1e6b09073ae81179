"""Waveform front-end of the UniSpeech WavLM speaker-verification model (s3prl ``UpstreamExpert``).

With ``cfg.normalize`` (WavLM-Large), s3prl layer-normalises each waveform over its own samples
before the network: ``F.layer_norm(wav, wav.shape)`` (eps 1e-5, biased variance, no affine);
the input is float [-1, 1] at 16 kHz, with no x32768. Each row is normalised over its valid
samples only and zero-padded afterwards, so a padded batch holds each utterance's own input.
The "features" are the normalised samples, ``(B, N, 1)``, with one frame per sample.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch

LAYER_NORM_EPS = 1e-5


class WavLMWaveform:
    """Front-end contract (:class:`asvbench.frontends.base.Frontend`): ``(B, T)`` + lengths ->
    ``(B, T, 1)`` per-utterance layer-normalised samples + the same lengths."""

    name = "wavlm-layernorm"

    def __repr__(self) -> str:
        return "WavLMWaveform(layer_norm per utterance, eps=1e-5)"

    def num_frames(self, num_samples: int) -> int:
        return max(int(num_samples), 0)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """One utterance ``(N,)`` -> its normalised samples ``(N,)``."""
        import torch.nn.functional as F

        return F.layer_norm(wav, wav.shape, eps=LAYER_NORM_EPS)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        import torch

        from asvbench.frontends.base import check_batch

        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
        check_batch(wavs, lengths)
        out = torch.zeros(wavs.shape, dtype=torch.float32)
        for i, n in enumerate(lengths.tolist()):
            if n > 0:
                out[i, :n] = self.single(wavs[i, :n].to(torch.float32))
        return out.unsqueeze(-1), lengths


def wavlm_layernorm() -> WavLMWaveform:
    return WavLMWaveform()
