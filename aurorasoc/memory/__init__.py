"""Agent memory (spec §17): sliding window, episodic cases and threat intel over ``vector_embeddings``."""

from aurorasoc.memory.tiered import (
    ANALYST_MEMORY,
    DEFAULT_MEMORY,
    ENDPOINT_MEMORY,
    HUNTER_MEMORY,
    INTEL_MEMORY,
    NETWORK_MEMORY,
    ORCHESTRATOR_MEMORY,
    RESPONDER_MEMORY,
    MemoryConfig,
    TieredAgentMemory,
    create_tiered_memory,
)

__all__ = [
    "ANALYST_MEMORY",
    "DEFAULT_MEMORY",
    "ENDPOINT_MEMORY",
    "HUNTER_MEMORY",
    "INTEL_MEMORY",
    "NETWORK_MEMORY",
    "ORCHESTRATOR_MEMORY",
    "RESPONDER_MEMORY",
    "MemoryConfig",
    "TieredAgentMemory",
    "create_tiered_memory",
]
