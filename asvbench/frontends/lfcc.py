"""NII LFCC front-end (LFCC-LCNN-LSTM countermeasure): 20 linear-frequency cepstral coefficients,
log energy in place of c0, + delta + delta-delta = 60 per 10 ms frame.

Definition followed: ``nii-yamagishilab/project-NN-Pytorch-scripts`` @ ``112ec0ff``
``sandbox/util_frontend.py`` (``LFCC``, ``trimf``, ``delta``, ``stft_wrapper``) and
``sandbox/util_dsp.py`` (``LinearDCT``), as ``LFCC(320, 160, 512, 16000, 20, with_energy=True)``
of the ASVspoof 2021 toy ``lfcc-lcnn-lstm-sig`` model (notes:
``shared/parity/nii_lfcc_lcnn_lstm/README.md``):

1. waveform float in [-1, 1] (no x32768), 16 kHz;
2. pre-emphasis ``y[0] = x[0]``, ``y[n] = x[n] - 0.97 x[n-1]``;
3. ``torch.stft(n_fft=512, hop=160, win_length=320, window=hamming(320)`` (periodic, zero-padded
   to 512 in the middle), ``center=True``, zero padding) -> power ``|X|^2``: ``1 + N // 160`` frames, 257 bins;
4. 20 triangular filters on a **linear** scale: bin ``k`` at ``8000 k / 256`` Hz, band edges
   ``linspace(0, 8000, 22)`` (``trimf``); ``log10(power @ fb + eps)``, eps = float32 epsilon;
5. orthonormal DCT-II (a bias-free linear map, ``LinearDCT(20, 'dct', norm='ortho')``);
6. coefficient 0 replaced by ``log10(sum_k power_k / 512 + eps)``;
7. delta ``d[t] = c[t+1] - c[t-1]`` with the first and last frame repeated; delta-delta = delta of
   delta; ``[c, d, dd]``.

The reference keeps the filterbank and the DCT matrix as (frozen) parameters of its model, so
checkpoints carry them (``m_frontend.0.lfcc_fb``, ``m_frontend.0.l_dct.weight``); :class:`NiiLfcc`
takes such values, or constructs them (:func:`linear_filterbank`, :func:`dct_matrix`). The NII
toy checkpoint's stored values differ from what torch 2.11 constructs by at most 1.3e-6 / 3e-8.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from asvbench.frontends.base import check_batch, pad_time_major

if TYPE_CHECKING:  # pragma: no cover
    import torch

#: ``torch.finfo(torch.float32).eps``, the reference's log floor
FLOAT32_EPS = 1.1920928955078125e-07


@dataclass(frozen=True)
class NiiLfccConfig:
    """Settings of the NII ``LFCC`` (the toy LFCC-LCNN-LSTM model's values)."""

    sample_rate: int = 16000
    frame_length: int = 320
    hop_length: int = 160
    n_fft: int = 512
    n_filters: int = 20
    preemphasis: float = 0.97
    with_energy: bool = True
    with_delta: bool = True

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def dim(self) -> int:
        """Coefficients per frame: 20, or 60 with deltas."""
        return self.n_filters * (3 if self.with_delta else 1)


NII_LFCC60 = NiiLfccConfig()


def num_frames(num_samples: int, config: NiiLfccConfig = NII_LFCC60) -> int:
    """Centred STFT frame count ``1 + N // hop`` (0 for an empty waveform)."""
    return 0 if num_samples <= 0 else 1 + num_samples // config.hop_length


def linear_filterbank(config: NiiLfccConfig = NII_LFCC60) -> "torch.Tensor":
    """``(n_freqs, n_filters)`` triangular filters, float32 arithmetic as the reference's ``trimf``:
    filter ``i`` rises from edge ``i`` to 1 at edge ``i + 1`` and falls to 0 at edge ``i + 2``."""
    import torch

    freqs = (config.sample_rate / 2) * torch.linspace(0, 1, config.n_freqs)
    edges = torch.linspace(float(freqs.min()), float(freqs.max()), config.n_filters + 2)
    bank = torch.zeros(config.n_freqs, config.n_filters)
    for i in range(config.n_filters):
        a, b, c = edges[i], edges[i + 1], edges[i + 2]
        rise = (a < freqs) & (freqs < b)
        fall = (b < freqs) & (freqs < c)
        bank[rise, i] = (freqs[rise] - a) / (b - a)
        bank[fall, i] = (c - freqs[fall]) / (c - b)
        bank[freqs == b, i] = 1.0
    return bank


def dct_matrix(n: int) -> "torch.Tensor":
    """``(n, n)`` orthonormal DCT-II matrix ``C[k, m] = sqrt(2 / n) cos(pi (2m + 1) k / 2n)``, row 0
    scaled by ``1 / sqrt(2)`` (computed in float64, cast to float32): ``y = x @ C.T`` is the DCT."""
    import torch

    k = torch.arange(n, dtype=torch.float64).unsqueeze(1)
    m = torch.arange(n, dtype=torch.float64).unsqueeze(0)
    c = math.sqrt(2.0 / n) * torch.cos(math.pi * (2 * m + 1) * k / (2 * n))
    c[0] /= math.sqrt(2.0)
    return c.float()


def delta(x: "torch.Tensor") -> "torch.Tensor":
    """``d[t] = x[t+1] - x[t-1]`` along the frames of ``(T, D)``, the first and last frame repeated."""
    import torch

    padded = torch.cat([x[:1], x, x[-1:]], dim=0)
    return padded[2:] - padded[:-2]


def nii_lfcc(wav: "torch.Tensor", config: NiiLfccConfig = NII_LFCC60, *, window: "torch.Tensor | None" = None,
             filterbank: "torch.Tensor | None" = None, dct: "torch.Tensor | None" = None) -> "torch.Tensor":
    """LFCC features ``(F, dim)`` of one waveform ``(N,)`` (float32)."""
    import torch

    if wav.dim() != 1:
        raise ValueError(f"nii_lfcc takes one mono waveform (N,), got shape {tuple(wav.shape)}")
    if wav.shape[0] < 1:
        raise ValueError("nii_lfcc needs at least one sample")
    x = wav.float()
    y = torch.cat([x[:1], x[1:] - config.preemphasis * x[:-1]])
    window = torch.hamming_window(config.frame_length) if window is None else window
    filterbank = linear_filterbank(config) if filterbank is None else filterbank
    dct = dct_matrix(config.n_filters) if dct is None else dct
    spec = torch.stft(y, config.n_fft, config.hop_length, config.frame_length, window.to(x.device, torch.float32),
                      center=True, pad_mode="constant", onesided=True, return_complex=True)  # (n_freqs, F)
    power = torch.view_as_real(spec).pow(2).sum(-1).t()  # (F, n_freqs)
    bands = torch.log10(power @ filterbank.to(x.device, torch.float32) + FLOAT32_EPS)
    coef = bands @ dct.to(x.device, torch.float32).t()
    if config.with_energy:
        coef[:, 0] = torch.log10((power / config.n_fft).sum(dim=1) + FLOAT32_EPS)
    if not config.with_delta:
        return coef
    d1 = delta(coef)
    return torch.cat([coef, d1, delta(d1)], dim=1)


class NiiLfcc:
    """Batched, lengths-aware NII LFCC (the :class:`~asvbench.frontends.base.Frontend` contract):
    each row on its own valid samples, then zero-padded. ``filterbank`` / ``dct``: a checkpoint's
    stored constants (kept as float32 copies), else constructed ones."""

    def __init__(self, config: NiiLfccConfig = NII_LFCC60, *, filterbank: "torch.Tensor | None" = None,
                 dct: "torch.Tensor | None" = None, name: str = "nii-lfcc-60"):
        import torch

        self.config = config
        self.name = name
        self._window = torch.hamming_window(config.frame_length)
        # float32 copies: a later ``model.to(dtype=bfloat16)`` must not round the constants
        fb = linear_filterbank(config) if filterbank is None else filterbank
        self._filterbank = fb.detach().to("cpu", torch.float32).clone()
        mat = dct_matrix(config.n_filters) if dct is None else dct
        self._dct = mat.detach().to("cpu", torch.float32).clone()

    def __repr__(self) -> str:
        return f"NiiLfcc(name={self.name!r}, config={self.config!r})"

    def num_frames(self, num_samples: int) -> int:
        return num_frames(num_samples, self.config)

    def single(self, wav: "torch.Tensor") -> "torch.Tensor":
        """Features ``(F, dim)`` of one waveform ``(N,)``."""
        return nii_lfcc(wav, self.config, window=self._window, filterbank=self._filterbank, dct=self._dct)

    def __call__(self, wavs: "torch.Tensor", lengths: "torch.Tensor") -> tuple["torch.Tensor", "torch.Tensor"]:
        check_batch(wavs, lengths)
        rows = [self.single(wavs[i, : int(n)]) for i, n in enumerate(lengths.tolist())]
        return pad_time_major(rows)


def nii_lfcc60() -> NiiLfcc:
    """Registry factory: ``nii-lfcc-60``."""
    return NiiLfcc()
