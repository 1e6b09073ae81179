"""Speaker-embedding and countermeasure model families, checkpoint adapters and the model registry.

* :mod:`asvbench.models.base` — the contract (``ModelEntry``, ``LoadedModel``, strict loading);
* :mod:`asvbench.models.registry` — registered models by name (``get_model``, ``list_models``);
* ``asvbench.models.<family>`` — the networks (import torch);
* :mod:`asvbench.models.adapters` — source checkpoint layouts -> our key names.

Importing this package (or the registry) does not import torch.
"""
