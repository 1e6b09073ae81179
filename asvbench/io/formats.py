"""The names of the file formats and options the readers take: a leaf module, so the CLI offers them as
parser choices without importing the readers (numpy-free start-up)."""

from __future__ import annotations

#: trial-list formats (``--trials-format``; ``auto`` detects)
TRIAL_FORMATS: tuple[str, ...] = ("auto", "voxceleb", "kaldi", "cnceleb", "asvspoof", "asvspoof5")
#: the line of each trial-list format (help texts; asvbench.trials.read parses them)
TRIAL_LAYOUTS: dict[str, str] = {
    "voxceleb": "'1|0 enroll test'", "kaldi": "'enroll test target|nontarget'", "cnceleb": "'enroll test 1|0'",
    "asvspoof": "'spk utt source key' (key: target, nontarget, spoof)",
    "asvspoof5": "TSV with a header, or the Track 2 'spk file gender attack key'",
}
#: the trial-list formats with spoof trials: SASV protocols (``fuse --trials``; asvbench.labels.FORMAT_LABELS)
SASV_TRIAL_FORMATS: tuple[str, ...] = ("asvspoof", "asvspoof5")
#: score-file formats (``--format`` of ``metrics`` / ``det``; ``auto`` detects)
SCORE_FORMATS: tuple[str, ...] = ("auto", "wespeaker", "sasv", "table")
#: countermeasure protocol formats (``metrics --protocol-format``; ``auto`` detects); see io/cm_protocol.py
CM_PROTOCOL_FORMATS: tuple[str, ...] = ("auto", "asvspoof2019", "asvspoof5", "table")
#: fused SASV score-file formats (``fuse --out-format``); see io/sasv_out.py
SASV_OUT_FORMATS: tuple[str, ...] = ("sasv", "asvspoof5", "tsv")
#: multi-row pooling norms of an embedding store (``--pool-norm``)
POOL_NORMS: tuple[str, ...] = ("none", "l2")
#: how an audio file's path becomes its utterance key (``--key-style``); see :func:`asvbench.io.audio.make_key`
KEY_STYLES: tuple[str, ...] = ("stem", "relpath", "relpath-ext")
