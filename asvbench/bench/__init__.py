"""``asvbench bench``: a registered (or your own) benchmark run end to end, stage by stage.

* :mod:`~asvbench.bench.run`: :func:`run_bench` -> :class:`BenchRun` (stages, records, table, ``run.json``);
* :mod:`~asvbench.bench.specs`: the registered benchmarks it runs (lists, key style, enrolment maps);
* :mod:`~asvbench.bench.lists`: the lists of a run and the utterances they use;
* :mod:`~asvbench.bench.concat`: concatenated enrolment audio (``--enroll-mode concat``, ``enroll-concat``);
* :mod:`~asvbench.bench.cohort`: speaker-mean cohorts (``cohort build``);
* :mod:`~asvbench.bench.make_trials`: trial lists from an utt2spk map (``trials make``).

Importing this package imports neither numpy nor torch.
"""
