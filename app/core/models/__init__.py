"""Models: descriptors, the explicit registry, verified safetensors weights, export of trained weights.

Public entry points live in the submodules (kept out of this ``__init__`` so importing
``app.core.models.registry`` from ``Op.availability`` stays light):

* :mod:`.registry` -- ``register``, ``descriptors``, ``model_state``, ``load_model``, ``LoadedModel``
* :mod:`.descriptor` -- ``ModelDescriptor``
* :mod:`.weights` / :mod:`.manifest` -- states, sha256 checks, ``models_dir()``, manifest I/O
* :mod:`.export` -- ``export_model`` (training runner's export step)
* :mod:`.stats` -- ``count_params``, ``count_flops_per_pixel``
* :mod:`.catalog` -- the list of shipped models (add new families there)
* :mod:`.testing` -- a tiny registered model for tests of ops and the pipeline
"""
