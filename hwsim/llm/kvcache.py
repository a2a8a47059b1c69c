"""Paged KV cache sizing: bytes per token, blocks per sequence, and the largest batch that fits.

Per token and layer the cache holds

* GQA/MHA: ``2 x kv_heads x head_dim x bytes`` (K and V; ``value_dim`` for V when it differs);
* MLA: ``(kv_lora_rank + qk_rope_head_dim) x bytes`` (the normalised latent and the shared RoPE key).

Paging (vLLM's PagedAttention): a sequence of ``context`` tokens occupies
``ceil(context / block_tokens)`` blocks in every layer, so it uses
``ceil(context / block_tokens) x block_tokens x bytes_per_token`` bytes (the last block is allocated
whole). ``max_batch = capacity_bytes // bytes_per_sequence``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hwsim.errors import ConfigError
from hwsim.llm.graph import Quant
from hwsim.llm.model import ModelSpec


def kv_bytes_per_token_per_layer(spec: ModelSpec, element_bytes: int) -> int:
    """KV-cache bytes one token occupies in one layer, at ``element_bytes`` per element."""
    if spec.is_mla:
        return (spec.kv_lora_rank + spec.qk_rope_head_dim) * element_bytes
    return spec.kv_heads * (spec.head_dim + spec.value_dim) * element_bytes


class KVCache(BaseModel):
    """A paged KV cache of ``capacity_bytes`` for one model, in blocks of ``block_tokens`` tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=False)
    spec: ModelSpec
    capacity_bytes: int = Field(..., ge=0, description="bytes available for the cache")
    block_tokens: int = Field(16, ge=1, le=1 << 20, description="tokens per page (block)")
    quant: Quant = Field(default_factory=Quant, description="its kv_format sets the element size")

    @property
    def element_bytes(self) -> int:
        return self.quant.kv_bytes

    @property
    def bytes_per_token_per_layer(self) -> int:
        return kv_bytes_per_token_per_layer(self.spec, self.element_bytes)

    @property
    def bytes_per_token(self) -> int:
        """All layers."""
        return self.spec.layers * self.bytes_per_token_per_layer

    @property
    def bytes_per_block(self) -> int:
        """One block of ``block_tokens`` tokens in every layer."""
        return self.block_tokens * self.bytes_per_token

    @property
    def total_blocks(self) -> int:
        return self.capacity_bytes // self.bytes_per_block

    def blocks_per_sequence(self, context_tokens: int) -> int:
        self._check_context(context_tokens)
        return -(-context_tokens // self.block_tokens)

    def bytes_per_sequence(self, context_tokens: int) -> int:
        """Bytes a sequence of ``context_tokens`` tokens occupies (whole blocks)."""
        return self.blocks_per_sequence(context_tokens) * self.bytes_per_block

    def max_batch(self, context_tokens: int) -> int:
        """Most sequences of ``context_tokens`` tokens that fit at once (0 if not even one)."""
        return self.total_blocks // self.blocks_per_sequence(context_tokens)

    def check_batch(self, batch: int, context_tokens: int) -> None:
        """Raise :class:`ConfigError` if ``batch`` sequences of ``context_tokens`` tokens do not fit."""
        if not isinstance(batch, int) or batch < 1:
            raise ConfigError(f"batch: must be an integer >= 1, got {batch!r}")
        need = batch * self.bytes_per_sequence(context_tokens)
        if need > self.total_blocks * self.bytes_per_block:
            per_seq = self.bytes_per_sequence(context_tokens)
            raise ConfigError(
                f"batch: {batch} sequences of {context_tokens} tokens need {need:,} B of KV cache "
                f"({per_seq:,} B each: {self.blocks_per_sequence(context_tokens)} blocks of {self.block_tokens} "
                f"tokens x {self.bytes_per_token:,} B/token for {self.spec.name} in {self.quant.kv_format}), "
                f"but capacity_bytes is {self.capacity_bytes:,} B; max batch at this context is "
                f"{self.max_batch(context_tokens)}")

    def _check_context(self, context_tokens: int) -> None:
        if not isinstance(context_tokens, int) or context_tokens < 1:
            raise ConfigError(f"context_tokens: must be an integer >= 1, got {context_tokens!r}")
        if context_tokens > self.spec.max_positions:
            raise ConfigError(f"context_tokens: {context_tokens} exceeds {self.spec.name}'s max_positions "
                              f"({self.spec.max_positions})")
