"""Trial lists: where a list is read, identified and named.

* the label words of trial lists are defined once, in the base module :mod:`asvbench.labels`.
* :mod:`~asvbench.trials.read`: the readers (:func:`~asvbench.trials.read.read_trials`, format
  detection, the repeated-trial check, enrolment maps, ``utt2spk``); a list read from a file
  carries its fingerprint, computed from the bytes read.
* :mod:`~asvbench.trials.chunks`: the same lists read a chunk at a time (``score`` on huge lists).
* :mod:`~asvbench.trials.fingerprint`: :class:`~asvbench.trials.fingerprint.TrialsFingerprint`,
  the identity of a list.
* :mod:`~asvbench.trials.registry`: the benchmarks asvbench knows (``data/trials_registry.json``),
  identification, verification, download, and the benchmark name a result record gets.

Layer: beside ``io`` (it uses ``io``'s byte and text parsers), below the records (``results.py``)
and the pipelines; it imports nothing above it.
"""
