"""AASIST and AASIST-L spoofing countermeasures (clovaai/aasist layout).

AASIST (Jung et al., ICASSP 2022, arXiv:2110.01200): a fixed sinc band-pass filter bank on the
raw waveform, a residual 2-D CNN encoder, spectral and temporal graph attention layers with
graph pooling, two heterogeneous stacking graph attention branches (HS-GAL) with a learned master
node, and a linear readout to two logits ``[spoof, bona fide]``. Definition followed:
``clovaai/aasist`` ``models/AASIST.py`` (class ``Model``), configs ``config/AASIST.conf`` and
``config/AASIST-L.conf``; input handling of ``data_utils.pad`` (eval: the **first** 64,600
samples; shorter waveforms are tiled ``int(64600 / N) + 1`` times and cut). Notes:
``shared/docs/models.md`` §5.

The CM score of the reference (``main.produce_evaluation_file``) is the bona fide logit
``logits[:, 1]``; :func:`cm_scores` also gives the softmax bona fide probability.

Eval-mode facts kept from the reference: every dropout is inactive (so none is built here);
the residual blocks 1-5 own a ``bn1`` whose output the reference discards (``conv1`` reads the
block input), so ``bn1`` exists for strict loading and is not applied; ``pool_ratios[3]`` and
``temperatures[3]`` are unused; the sinc bank is a constant, not in the state dict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from asvbench.frontends.raw import FixedLengthWaveform, fixed_length_input  # noqa: F401 - re-exported
from asvbench.models import _presets

if TYPE_CHECKING:  # pragma: no cover
    from asvbench.models.base import LoadedModel, ModelEntry
    from asvbench.models.glue import Forward

FAMILY = "AASIST"


@dataclass(frozen=True)
class AasistConfig:
    """``model_config`` of a clovaai AASIST ``.conf`` file."""

    nb_samp: int = 64600
    first_conv: int = 128
    filts: tuple[Any, ...] = (70, (1, 32), (32, 32), (32, 64), (64, 64))
    gat_dims: tuple[int, int] = (64, 32)
    pool_ratios: tuple[float, ...] = (0.5, 0.7, 0.5, 0.5)
    temperatures: tuple[float, ...] = (2.0, 2.0, 100.0, 100.0)
    sample_rate: int = 16000

    def __post_init__(self) -> None:
        if len(self.filts) != 5 or len(self.gat_dims) != 2:
            raise ValueError("filts needs 5 entries (sinc count + 4 [in, out] pairs), gat_dims 2")
        if len(self.pool_ratios) < 3 or len(self.temperatures) < 3:
            raise ValueError("pool_ratios and temperatures need at least 3 entries")

    @property
    def n_sinc(self) -> int:
        return int(self.filts[0])

    @property
    def sinc_taps(self) -> int:
        """The reference forces an odd kernel: ``first_conv + 1`` when ``first_conv`` is even."""
        return self.first_conv + 1 if self.first_conv % 2 == 0 else self.first_conv

    @property
    def encoder_channels(self) -> int:
        return int(self.filts[-1][-1])

    @property
    def spectral_nodes(self) -> int:
        """Frequency nodes after the 3x3 max-pool of the sinc outputs (``pos_S`` length, 23)."""
        return self.n_sinc // 3

    @property
    def min_model_samples(self) -> int:
        """Shortest raw input the network accepts (the engine always feeds ``nb_samp``): the sinc
        convolution removes ``taps - 1`` samples, then one ``(3, 3)`` and six ``(1, 3)`` max-pools
        divide time by 3**7, so ``N - taps + 1 >= 3**7`` (2,315 samples for 129 taps; same
        figure in ``shared/docs/models.md`` §5.1)."""
        return 3**7 + self.sinc_taps - 1


def config_from_model_config(model_config: dict[str, Any]) -> AasistConfig:
    """An :class:`AasistConfig` from the ``model_config`` dict of a clovaai ``.conf`` file."""
    if model_config.get("architecture", "AASIST") != "AASIST":
        raise ValueError(f"not an AASIST config: architecture {model_config.get('architecture')!r}")
    filts = model_config["filts"]
    return AasistConfig(
        nb_samp=int(model_config["nb_samp"]),
        first_conv=int(model_config["first_conv"]),
        filts=(int(filts[0]),) + tuple(tuple(int(v) for v in f) for f in filts[1:]),
        gat_dims=tuple(int(v) for v in model_config["gat_dims"]),  # type: ignore[arg-type]
        pool_ratios=tuple(float(v) for v in model_config["pool_ratios"]),
        temperatures=tuple(float(v) for v in model_config["temperatures"]),
    )


def config_from_conf_file(path: str | Path) -> AasistConfig:
    """Read a clovaai-style JSON ``.conf`` (its ``model_config``); errors are AsvbenchError."""
    from asvbench.errors import AsvbenchError

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        return config_from_model_config(data["model_config"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise AsvbenchError(f"not a readable AASIST config: {exc}", where=p,
                            hint="pass the .conf JSON file shipped with the checkpoint") from None


#: ``config/AASIST.conf`` and ``config/AASIST-L.conf`` of clovaai/aasist @ a04c9863.
PRESETS: dict[str, AasistConfig] = {
    "AASIST": AasistConfig(),
    "AASIST-L": AasistConfig(
        filts=(70, (1, 32), (32, 32), (32, 24), (24, 24)), gat_dims=(24, 32), pool_ratios=(0.4, 0.5, 0.7, 0.5),
    ),
}


def get_preset(name: str) -> AasistConfig:
    """The preset ``name`` (:class:`~asvbench.models._presets.UnknownPresetError` listing the valid ones)."""
    return _presets.get_preset(FAMILY, PRESETS, name)


def sinc_filters(config: AasistConfig = PRESETS["AASIST"]) -> torch.Tensor:
    """The fixed sinc band-pass bank ``(n_sinc, taps)`` of ``CONV.__init__`` (float32).

    Band edges: ``n_sinc + 1`` points equally spaced on the mel scale ``2595 log10(1 + f/700)``
    between the mel values of the 257-point grid 0..sr/2; filter i = symmetric Hamming window x
    (ideal low-pass at the upper edge - ideal low-pass at the lower edge), with the reference's
    precision (sinc argument in float32, window and ideal response cast to float32 separately).
    """
    sr = config.sample_rate
    taps = config.sinc_taps
    grid = int(sr / 2) * np.linspace(0, 1, 257)
    mel = 2595 * np.log10(1 + grid / 700)
    edges = 700 * (10 ** (np.linspace(mel.min(), mel.max(), config.n_sinc + 1) / 2595) - 1)
    support = torch.arange(-(taps - 1) / 2, (taps - 1) / 2 + 1)  # float32, as the reference
    window = torch.from_numpy(np.hamming(taps).astype(np.float32))
    bank = torch.zeros(config.n_sinc, taps)
    for i in range(config.n_sinc):
        lo, hi = edges[i], edges[i + 1]
        ideal = (2 * hi / sr) * np.sinc((2 * hi * support / sr).numpy()) - (2 * lo / sr) * np.sinc(
            (2 * lo * support / sr).numpy()
        )
        bank[i] = window * torch.from_numpy(np.asarray(ideal, dtype=np.float32))
    return bank


def cm_scores(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(bona fide logit, softmax bona fide probability)`` of ``(B, 2)`` logits ``[spoof, bona fide]``."""
    return logits[:, 1], torch.softmax(logits.float(), dim=1)[:, 1]


# ---------------------------------------------------------------- network


def _pairwise(x: torch.Tensor) -> torch.Tensor:
    """``(B, N, d) -> (B, N, N, d)`` with entry ``[i, j] = x_i * x_j``."""
    return x.unsqueeze(2) * x.unsqueeze(1)


def _bn_nodes(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm over the feature axis of ``(B, N, d)`` node features."""
    return bn(x.reshape(-1, x.shape[-1])).reshape(x.shape)


class GraphAttention(nn.Module):
    """GAT layer: ``a_ij = softmax_j(w . tanh(W_att(x_i * x_j)) / tau)``;
    ``out = SELU(BN(W_with(sum_j a_ij x_j) + W_without(x)))``."""

    def __init__(self, in_dim: int, out_dim: int, temperature: float):
        super().__init__()
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_weight = nn.Parameter(torch.empty(out_dim, 1))
        nn.init.xavier_normal_(self.att_weight)
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.temp = temperature

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        att = torch.matmul(torch.tanh(self.att_proj(_pairwise(x))), self.att_weight) / self.temp
        att = torch.softmax(att, dim=-2).squeeze(-1)
        x = self.proj_with_att(torch.matmul(att, x)) + self.proj_without_att(x)
        return F.selu(_bn_nodes(self.bn, x))


class HeteroGraphAttention(nn.Module):
    """HS-GAL layer over two node types plus a master node (``HtrgGraphAttentionLayer``)."""

    def __init__(self, in_dim: int, out_dim: int, temperature: float):
        super().__init__()
        self.proj_type1 = nn.Linear(in_dim, in_dim)
        self.proj_type2 = nn.Linear(in_dim, in_dim)
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_projM = nn.Linear(in_dim, out_dim)
        for name in ("att_weight11", "att_weight22", "att_weight12", "att_weightM"):
            p = nn.Parameter(torch.empty(out_dim, 1))
            nn.init.xavier_normal_(p)
            setattr(self, name, p)
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.proj_with_attM = nn.Linear(in_dim, out_dim)
        self.proj_without_attM = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.temp = temperature

    def forward(self, x1: torch.Tensor, x2: torch.Tensor,
                master: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        n1 = x1.shape[1]
        x = torch.cat([self.proj_type1(x1), self.proj_type2(x2)], dim=1)
        # node-to-node attention, one weight vector per (type, type) block
        pm = torch.tanh(self.att_proj(_pairwise(x)))
        score = pm.new_zeros(pm.shape[:-1] + (1,))
        score[:, :n1, :n1] = torch.matmul(pm[:, :n1, :n1], self.att_weight11)
        score[:, n1:, n1:] = torch.matmul(pm[:, n1:, n1:], self.att_weight22)
        score[:, :n1, n1:] = torch.matmul(pm[:, :n1, n1:], self.att_weight12)
        score[:, n1:, :n1] = torch.matmul(pm[:, n1:, :n1], self.att_weight12)
        att = torch.softmax(score / self.temp, dim=-2).squeeze(-1)
        # master node: attention over all nodes, no BN / activation
        qm = torch.matmul(torch.tanh(self.att_projM(x * master)), self.att_weightM) / self.temp
        qm = torch.softmax(qm, dim=-2).squeeze(-1).unsqueeze(1)  # (B, 1, N)
        master = self.proj_with_attM(torch.matmul(qm, x)) + self.proj_without_attM(master)
        x = self.proj_with_att(torch.matmul(att, x)) + self.proj_without_att(x)
        x = F.selu(_bn_nodes(self.bn, x))
        return x[:, :n1], x[:, n1:], master


class GraphPool(nn.Module):
    """Keep the top ``max(int(N k), 1)`` nodes by ``sigmoid(proj(h))``, scaled by that score."""

    def __init__(self, k: float, in_dim: int):
        super().__init__()
        self.k = k
        self.proj = nn.Linear(in_dim, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.proj(h))
        keep = max(int(h.shape[1] * self.k), 1)
        idx = torch.topk(scores, keep, dim=1).indices.expand(-1, -1, h.shape[-1])
        return torch.gather(h * scores, 1, idx)


class ResidualBlock(nn.Module):
    """Encoder block: conv1 (2x3) -> bn2 -> SELU -> conv2 (2x3) + identity / 1x3 conv -> max-pool (1, 3)."""

    def __init__(self, cin: int, cout: int, first: bool):
        super().__init__()
        if not first:
            self.bn1 = nn.BatchNorm2d(cin)  # applied by nobody in the reference's forward
        self.conv1 = nn.Conv2d(cin, cout, kernel_size=(2, 3), padding=(1, 1))
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, kernel_size=(2, 3), padding=(0, 1))
        if cin != cout:
            self.conv_downsample = nn.Conv2d(cin, cout, kernel_size=(1, 3), padding=(0, 1))
        self.downsample = cin != cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.selu(self.bn2(self.conv1(x))))
        identity = self.conv_downsample(x) if self.downsample else x
        return F.max_pool2d(out + identity, (1, 3))


class Aasist(nn.Module):
    """clovaai ``Model``; ``forward(wavs (B, N)) -> logits (B, 2)`` ``[spoof, bona fide]``."""

    def __init__(self, cfg: AasistConfig):
        super().__init__()
        self.config = cfg
        filts, gat, pr, temps = cfg.filts, cfg.gat_dims, cfg.pool_ratios, cfg.temperatures
        c = cfg.encoder_channels
        self.register_buffer("sinc", sinc_filters(cfg).unsqueeze(1), persistent=False)
        self.first_bn = nn.BatchNorm2d(1)
        self.encoder = nn.Sequential(*(
            nn.Sequential(ResidualBlock(int(f[0]), int(f[1]), first=(i == 0)))
            for i, f in enumerate((filts[1], filts[2], filts[3], filts[4], filts[4], filts[4]))
        ))
        self.pos_S = nn.Parameter(torch.randn(1, cfg.spectral_nodes, c))
        self.master1 = nn.Parameter(torch.randn(1, 1, gat[0]))
        self.master2 = nn.Parameter(torch.randn(1, 1, gat[0]))
        self.GAT_layer_S = GraphAttention(c, gat[0], temps[0])
        self.GAT_layer_T = GraphAttention(c, gat[0], temps[1])
        self.HtrgGAT_layer_ST11 = HeteroGraphAttention(gat[0], gat[1], temps[2])
        self.HtrgGAT_layer_ST12 = HeteroGraphAttention(gat[1], gat[1], temps[2])
        self.HtrgGAT_layer_ST21 = HeteroGraphAttention(gat[0], gat[1], temps[2])
        self.HtrgGAT_layer_ST22 = HeteroGraphAttention(gat[1], gat[1], temps[2])
        self.pool_S = GraphPool(pr[0], gat[0])
        self.pool_T = GraphPool(pr[1], gat[0])
        self.pool_hS1 = GraphPool(pr[2], gat[1])
        self.pool_hT1 = GraphPool(pr[2], gat[1])
        self.pool_hS2 = GraphPool(pr[2], gat[1])
        self.pool_hT2 = GraphPool(pr[2], gat[1])
        self.out_layer = nn.Linear(5 * gat[1], 2)

    def _branch(self, out_T, out_S, master, first, second, pool_S, pool_T):  # type: ignore[no-untyped-def]
        t1, s1, m1 = first(out_T, out_S, master)
        s1, t1 = pool_S(s1), pool_T(t1)
        t_aug, s_aug, m_aug = second(t1, s1, m1)
        return t1 + t_aug, s1 + s_aug, m1 + m_aug

    def forward_with_hidden(self, wavs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(last_hidden (B, 5 gat_dims[1]), logits (B, 2))`` of raw waveforms ``(B, N)``."""
        x = F.conv1d(wavs.unsqueeze(1), self.sinc.to(wavs.dtype))  # (B, n_sinc, N - taps + 1)
        x = F.max_pool2d(torch.abs(x.unsqueeze(1)), (3, 3))
        x = F.selu(self.first_bn(x))
        e = self.encoder(x)  # (B, C, freq nodes, time nodes)
        e_abs = torch.abs(e)
        out_S = self.pool_S(self.GAT_layer_S(e_abs.amax(dim=3).transpose(1, 2) + self.pos_S))
        out_T = self.pool_T(self.GAT_layer_T(e_abs.amax(dim=2).transpose(1, 2)))
        t1, s1, m1 = self._branch(out_T, out_S, self.master1, self.HtrgGAT_layer_ST11,
                                  self.HtrgGAT_layer_ST12, self.pool_hS1, self.pool_hT1)
        t2, s2, m2 = self._branch(out_T, out_S, self.master2, self.HtrgGAT_layer_ST21,
                                  self.HtrgGAT_layer_ST22, self.pool_hS2, self.pool_hT2)
        out_T, out_S, master = torch.maximum(t1, t2), torch.maximum(s1, s2), torch.maximum(m1, m2)
        hidden = torch.cat([
            torch.abs(out_T).amax(dim=1), out_T.mean(dim=1),
            torch.abs(out_S).amax(dim=1), out_S.mean(dim=1),
            master.squeeze(1),
        ], dim=1)
        return hidden, self.out_layer(hidden)

    def forward(self, wavs: torch.Tensor) -> torch.Tensor:
        return self.forward_with_hidden(wavs)[1]


def build_aasist(config: AasistConfig | str, **overrides: Any) -> Aasist:
    """Build AASIST from a config or a preset name (``PRESETS``), with field overrides (random init; eval mode)."""
    return Aasist(_presets.resolve_config(FAMILY, PRESETS, config, **overrides)).eval()


# ---------------------------------------------------------------- registry loader

MIN_SAMPLES = 1  # any non-empty waveform: shorter ones are repeat-padded to nb_samp


def fixed_length_forward(module: nn.Module, *, nb_samp: int, min_samples: int = MIN_SAMPLES,
                         name: str = "aasist") -> "Forward":
    """``forward(wavs (B, T) in [-1, 1], lengths (B,)) -> (B, 2)`` logits ``[spoof, bona fide]``.

    Each row's valid samples go through the ``raw-64600-repeat`` front-end (first ``nb_samp`` samples, or
    repeat-padded), so every row has exactly ``nb_samp`` samples and a batch is exactly the
    one-at-a-time computation: the engine may batch any lengths together.
    """
    from asvbench.models.glue import require_min_samples

    frontend = FixedLengthWaveform(nb_samp)

    def forward(wavs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
        require_min_samples(lengths, min_samples, name)
        param = next(module.parameters())
        feats, _ = frontend(wavs.to(torch.float32), lengths)
        with torch.inference_mode():
            out = module(feats[:, :, 0].to(device=param.device, dtype=param.dtype))
        return out.float()

    return forward


def load_aasist(entry: "ModelEntry", path: Path, *, preset: str, layout: str = "clovaai-aasist") -> "LoadedModel":
    """Registry loader: build the AASIST ``preset``, adapt the checkpoint, load strictly, eval mode."""
    from asvbench.models.base import LoadedModel
    from asvbench.models.glue import load_checkpoint

    config = get_preset(preset)
    module = load_checkpoint(build_aasist(config), path, layout=layout, family=f"{FAMILY} ({preset})")
    forward = fixed_length_forward(module, nb_samp=config.nb_samp, min_samples=max(entry.min_samples, MIN_SAMPLES),
                                   name=entry.name)
    return LoadedModel(entry, module, forward)
