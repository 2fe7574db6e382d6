"""Plain frozen result dataclasses and their save/load (JSON + safetensors, never pickle)."""
