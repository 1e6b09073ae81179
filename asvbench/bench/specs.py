"""The registered benchmarks ``asvbench bench`` runs: their lists, key style and enrolment rule.

A benchmark is one or more registry entries (``asvbench trials list``) scored alike. Lists come
from ``--trials-dir`` under the registry's file name; enrolment maps (models made of several
utterances) under the names given here.
"""

from __future__ import annotations

from dataclasses import dataclass

from asvbench.scoring.options import NORM_METHODS

ENROLL_MODES: tuple[str, ...] = ("average", "concat")
#: score normalisations a benchmark applies with its cohort (the scorer's, less "none": no cohort, no norm)
BENCH_NORMS: tuple[str, ...] = tuple(m for m in NORM_METHODS if m != "none")
#: centring of the embeddings before the cosine: none, or the cohort's mean
CENTERS: tuple[str, ...] = ("none", "cohort")
#: formats ``trials make`` writes (each one ``read_trials`` detects), and its two ways of pairing
MAKE_FORMATS: tuple[str, ...] = ("voxceleb", "kaldi", "cnceleb")
MAKE_MODES: tuple[str, ...] = ("all-pairs", "sampled")


@dataclass(frozen=True)
class BenchSpec:
    name: str
    #: registry entries scored, per enrolment mode (average, concat)
    lists: dict[str, tuple[str, ...]]
    #: how audio paths below --audio become the keys the lists use
    key_style: str
    #: enrolment-map file names in --trials-dir, per list (empty: enrolment ids are utterances)
    enroll_maps: dict[str, tuple[str, ...]]
    kind: str = "asv"
    about: str = ""

    def lists_for(self, mode: str) -> tuple[str, ...]:
        return self.lists.get(mode) or self.lists["average"]


def _vox(name: str, entry: str) -> BenchSpec:
    return BenchSpec(name, {"average": (entry,)}, "relpath-ext", {},
                     about="VoxCeleb1 paths id1xxxx/VIDEO/00001.wav below --audio (the wav/ folder)")


_CNC_MAP = ("enroll.map",)
_LA = "ASVspoof2019.LA.asv"
_A5 = "ASVspoof5"

BENCH_SPECS: dict[str, BenchSpec] = {spec.name: spec for spec in (
    _vox("vox1-o", "vox1-o-cleaned"), _vox("vox1-o-original", "vox1-o-original"),
    _vox("vox1-e", "vox1-e-cleaned"), _vox("vox1-e-original", "vox1-e-original"),
    _vox("vox1-h", "vox1-h-cleaned"), _vox("vox1-h-original", "vox1-h-original"),
    BenchSpec("cnceleb-eval", {"average": ("cnc-eval-avg",), "concat": ("cnc-eval-concat",)}, "relpath-ext",
              {"cnc-eval-avg": _CNC_MAP, "cnc-eval-concat": _CNC_MAP},
              about="CN-Celeb1 eval/ below --audio (test/*.wav, enroll/*.wav); enroll.map in --trials-dir"),
    BenchSpec("asvspoof2019-la-sasv", {"average": ("asvspoof2019-la-sasv-dev", "asvspoof2019-la-sasv-eval")},
              "stem", {"asvspoof2019-la-sasv-dev": (f"{_LA}.dev.female.trn.txt", f"{_LA}.dev.male.trn.txt"),
                       "asvspoof2019-la-sasv-eval": (f"{_LA}.eval.female.trn.txt", f"{_LA}.eval.male.trn.txt")},
              kind="sasv", about="ASVspoof2019 LA flac files (LA_D_*, LA_E_*) below --audio; needs --cm"),
    BenchSpec("asvspoof5-sasv", {"average": ("asvspoof5-sasv-dev", "asvspoof5-sasv-eval")}, "stem",
              {"asvspoof5-sasv-dev": (f"{_A5}.dev.track_2.enroll.tsv",),
               "asvspoof5-sasv-eval": (f"{_A5}.eval.track_2.enroll.tsv",)},
              kind="sasv", about="ASVspoof 5 flac files (D_*, E_*) below --audio; the Track 2 protocols "
                                 "(ASVspoof5_protocols.tar.gz) in --trials-dir; needs --cm"),
)}
