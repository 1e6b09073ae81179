"""Speaker-embedding and countermeasure model families, checkpoint adapters and the model registry.

* :mod:`asvbench.models.base` — the contract (``ModelEntry``, ``LoadedModel``, strict loading);
* :mod:`asvbench.models.registry` — registered models by name (``get_model``, ``list_models``);
* ``asvbench.models.<family>`` — one family each: frozen config, ``PRESETS``, ``build_<family>``,
  module-level networks, the registry loader (import torch);
* :mod:`asvbench.models.layers` — masks, masked statistics, pooling and SE layers every family uses;
* :mod:`asvbench.models.glue` — loader glue (strict checkpoint loading, front-end + network forward);
* :mod:`asvbench.models.adapters` — source checkpoint layouts -> our key names (``@register_adapter``).

How a new family is added: ``asvbench/models/README.md``.
Importing this package (or the registry) does not import torch.
"""
