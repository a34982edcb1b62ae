"""Training-side tooling for the tiny DeepSeek-V4 model that dsv4 ships as its default.

Modules (each has one job):
  config       - the HF config.json keys of ARCHITECTURE-V4.md section 1, as a dataclass
  formats      - e4m3 / e2m1 / e8m0 / bf16 number formats (numpy, used by export and load)
  quant        - the spec's QAT simulations in torch (FP8 / FP4 blocks, Hadamard), with STE
  safetensors  - our own minimal safetensors reader / writer (numpy)
  model        - the V4 forward (training form: whole causal sequences) in torch
  checkpoint   - official-layout checkpoint <-> model state (quantize / dequantize)
  bpe          - byte-level BPE with the DeepSeek pre-tokenizer (HF tokenizer.json semantics)
  corpus       - deterministic corpus listing, split and token cache
"""
