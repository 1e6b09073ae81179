"""Five record sets shaped like the five seed tables, with SIMULATED numbers (made up, not the
papers'): every record has ``simulated=True``, so every table says so in its title."""

from __future__ import annotations

from pathlib import Path

from asvbench.results import ResultRecord, TrialsFingerprint, save_result

INTERP = {"eer_method": "interp", "p_target": [0.01], "c_miss": 1.0, "c_fa": 1.0}


def _trials(name: str, n_target: int, n_nontarget: int, n_spoof: int = 0) -> TrialsFingerprint:
    counts = {"target": n_target, "nontarget": n_nontarget, **({"spoof": n_spoof} if n_spoof else {})}
    digest = (name.encode().hex() * 64)[:64]
    return TrialsFingerprint(sha256=None, content_sha256=digest, n_lines=sum(counts.values()),
                             label_counts=counts, source=f"lists/{name}.txt")


def _record(system, bench, metrics, trials, *, variant="", meta=None, definitions=INTERP, normalization=None):
    counts = trials.label_counts
    full = {**metrics, "n_target": counts["target"], "n_nontarget": counts["nontarget"],
            "n_spoof": counts.get("spoof", 0)}
    return ResultRecord(system=system, benchmark=f"simulated:{bench}", metrics=full, variant=variant,
                        trials=trials, definitions=dict(definitions), simulated=True, meta=dict(meta or {}),
                        normalization=normalization, created="2026-01-01T00:00:00+00:00")


def wespeaker_cnceleb() -> list[ResultRecord]:
    """8 rows of one model: pretraining data x LM x AS-Norm (the DINO fine-tuning table)."""
    trials = _trials("CNC-Eval-Avg", 18_000, 3_466_000)
    eers = [0.0820, 0.0750, 0.0810, 0.0733, 0.0722, 0.0671, 0.0699, 0.0648]
    dcfs = [0.440, 0.378, 0.423, 0.366, 0.391, 0.344, 0.375, 0.331]
    out = []
    for k, (pre, lm, asnorm) in enumerate((p, lm, a) for p in ("CNCeleb", "WenetSpeech (filtered)")
                                          for lm in (False, True) for a in (False, True)):
        meta = {"params": 14_650_000, "flops": 2_650_000_000, "pretraining": pre, "lm": lm, "asnorm": asnorm}
        out.append(_record("ECAPA_TDNN_GLOB_c1024-ASTP-emb192", "CNC-Eval-Avg",
                           {"eer": eers[k], "min_dcf": {"0.01": dcfs[k]}}, trials, variant=f"{pre} {lm} {asnorm}",
                           meta=meta))
    return out


def doubleroc_sasv() -> list[ResultRecord]:
    """SASV EERs on DEV and EVAL, NoNorm (ECAPA) and L2Norm (ECAPA, SE-Res2Net-50)."""
    sasv = {"DEV": _trials("sasv-dev", 1_000, 9_000, 20_000), "EVAL": _trials("sasv-eval", 5_000, 60_000, 60_000)}
    rows = [("NoNorm", "ECAPA", (0.0110, 0.0180, 0.0130), (0.0140, 0.0150, 0.0120)),
            ("L2Norm", "ECAPA", (0.0090, 0.0150, 0.0010), (0.0110, 0.0110, 0.0110)),
            ("L2Norm", "SE-Res2Net-50", (0.0010, 0.0020, 0.0010), (0.0060, 0.0030, 0.0070))]
    out = []
    for fusion, model, dev, ev in rows:
        for bench, (a, b, c) in (("DEV", dev), ("EVAL", ev)):
            out.append(_record(model, bench, {"sasv_eer": a, "sv_eer": b, "spf_eer": c}, sasv[bench],
                               variant=fusion, meta={"fusion": fusion}))
    return out


def taoruijie_ecapa() -> list[ResultRecord]:
    """One system on Vox1-O/E/H, minDCF at P_target 0.05 (the transposed table)."""
    defs = {**INTERP, "p_target": [0.05]}
    values = {"Vox1_O": (0.0087, 0.06861), "Vox1_E": (0.0119, 0.07648), "Vox1_H": (0.0216, 0.12951)}
    sizes = {"Vox1_O": (18_802, 18_858), "Vox1_E": (290_000, 290_000), "Vox1_H": (275_000, 275_000)}
    return [_record("ECAPA-TDNN", bench, {"eer": eer, "min_dcf": {"0.05": dcf}}, _trials(bench, *sizes[bench]),
                    definitions=defs) for bench, (eer, dcf) in values.items()]


def golden_gemini() -> list[ResultRecord]:
    """Four models on Vox1-O/E/H with Param, large-margin and model-folder columns."""
    models = [("Gemini DF-ResNet60", 4_050_000, False, "0611-df_resnet56", (0.00940, 0.088), (0.01052, 0.116),
               (0.01800, 0.166)),
              ("Gemini DF-ResNet114", 6_530_000, False, "0615-df_resnet110", (0.00687, 0.067), (0.00862, 0.097),
               (0.01491, 0.144)),
              ("Gemini DF-ResNet183", 9_200_000, False, "0621-df_resnet179", (0.00597, 0.065), (0.00805, 0.090),
               (0.01441, 0.137)),
              ("[New] Gemini DF-ResNet183", 9_200_000, True, "0621-df_resnet179-LM", (0.00570, 0.045),
               (0.00767, 0.078), (0.01343, 0.126))]
    sizes = {"Vox1-O": (18_802, 18_858), "Vox1-E": (290_000, 290_000), "Vox1-H": (275_000, 275_000)}
    out = []
    for name, params, lm, folder, *values in models:
        for bench, (eer, dcf) in zip(sizes, values):
            out.append(_record(name, bench, {"eer": eer, "min_dcf": {"0.01": dcf}}, _trials(bench, *sizes[bench]),
                               meta={"params": params, "lm": lm, "folder": folder}))
    return out


def open_speaker_verification() -> list[ResultRecord]:
    """Five ResNet34 variants: Backbone / Metric / feature / batch size / config columns; two lack Vox1-H."""
    am = "AMSoftmax, scale=30, margin=0.2"
    feat = "81 FBANK(including energy)"
    systems = [("ResNet34-AM-VoxCeleb2", "ResNet34", 128, "vox2_resnet34_b128x4", (0.01208, 0.0739), 0.0245),
               ("ResNet34-AM-VoxCeleb2-syncBN", "ResNet34", 128, "vox2_resnet34_b128x4_syncBN", (0.01195, 0.0790),
                None),
               ("SEResNet34-AM-VoxCeleb2", "SEResNet34", 100, "vox2_seresnet34_b100x4", (0.01122, 0.0772), 0.0242),
               ("SEResNet34-AM-VoxCeleb2-syncBN", "SEResNet34", 100, "vox2_seresnet34_b100x4_syncBN",
                (0.01176, 0.0746), None)]
    out = []
    for name, backbone, batch, config, (eer_o, dcf_o), eer_h in systems:
        meta = {"backbone": backbone, "loss": am, "feature": feat, "batch_size": batch, "config": config}
        out.append(_record(name, "Vox1-O(cleaned)", {"eer": eer_o, "min_dcf": {"0.01": dcf_o}},
                           _trials("Vox1-O-cleaned", 18_802, 18_858), meta=meta))
        if eer_h is not None:
            out.append(_record(name, "Vox1-H", {"eer": eer_h}, _trials("Vox1-H", 275_000, 275_000), meta=meta))
    return out


RECORD_SETS = {"wespeaker": wespeaker_cnceleb, "doubleroc": doubleroc_sasv, "taoruijie": taoruijie_ecapa,
               "gemini": golden_gemini, "osv": open_speaker_verification}


def write_record_sets(root: Path) -> dict[str, list[Path]]:
    """Write every set under ``root/records/<set>/NN.json``; returns the paths per set."""
    paths: dict[str, list[Path]] = {}
    for name, build in RECORD_SETS.items():
        folder = root / "records" / name
        folder.mkdir(parents=True, exist_ok=True)
        paths[name] = [save_result(folder / f"{i:02d}.json", rec) for i, rec in enumerate(build())]
    return paths
