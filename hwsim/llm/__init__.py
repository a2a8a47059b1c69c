"""LLM workloads.

* ``hwsim.llm.model``: :class:`ModelSpec` from Hugging Face ``config.json`` files, parameter counts.
* ``hwsim.llm.graph``: :func:`build_graph`, the operator graph of a prefill or decode phase.
* ``hwsim.llm.kvcache``: paged KV-cache sizing.
* ``hwsim.llm.minilm``: a real transformer forward pass whose GEMMs run on hwsim models.
"""

from hwsim.llm.graph import ELEMENT_FLOPS, ExpertLoad, Graph, LayerGroup, Op, Quant, build_graph
from hwsim.llm.kvcache import KVCache, kv_bytes_per_token_per_layer
from hwsim.llm.model import ModelSpec, ParameterCount, available_models, load_model, spec_from_config

__all__ = ["ELEMENT_FLOPS", "ExpertLoad", "Graph", "KVCache", "LayerGroup", "ModelSpec", "Op", "ParameterCount",
           "Quant", "available_models", "build_graph", "kv_bytes_per_token_per_layer", "load_model",
           "spec_from_config"]
