"""LLM workloads: real transformer forward passes whose GEMMs run on hwsim models (``hwsim.llm.minilm``)."""
