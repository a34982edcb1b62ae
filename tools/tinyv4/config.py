"""The model hyper-parameters, named exactly as the HF config.json keys (spec section 1)."""
import dataclasses
import json
from typing import List


@dataclasses.dataclass
class V4Config:
    vocab_size: int = 4096
    hidden_size: int = 256
    num_hidden_layers: int = 4
    num_hash_layers: int = 1
    num_attention_heads: int = 4
    head_dim: int = 128
    qk_rope_head_dim: int = 64
    q_lora_rank: int = 128
    o_groups: int = 2
    o_lora_rank: int = 64
    moe_intermediate_size: int = 256
    n_routed_experts: int = 16
    num_experts_per_tok: int = 2
    routed_scaling_factor: float = 1.5
    sliding_window: int = 64
    # one entry per main layer, then one per MTP block (always 0 for MTP)
    compress_ratios: List[int] = dataclasses.field(default_factory=lambda: [0, 4, 128, 4, 0])
    index_n_heads: int = 4
    index_head_dim: int = 128
    index_topk: int = 16
    hc_mult: int = 4
    hc_sinkhorn_iters: int = 20
    hc_eps: float = 1e-6
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    compress_rope_theta: float = 160000.0
    rope_factor: float = 16.0
    rope_original_max_position: int = 65536
    rope_beta_fast: float = 32.0
    rope_beta_slow: float = 1.0
    swiglu_limit: float = 10.0
    num_nextn_predict_layers: int = 1
    expert_dtype: str = "fp4"
    bos_token_id: int = 0
    eos_token_id: int = 1
    max_position_embeddings: int = 1048576

    def check(self):
        """Layout constraints of the checkpoint format and of the QAT simulations."""
        n = self.head_dim - self.qk_rope_head_dim
        assert len(self.compress_ratios) == self.num_hidden_layers + self.num_nextn_predict_layers
        assert all(r in (0, 4, 128) for r in self.compress_ratios)
        assert all(r == 0 for r in self.compress_ratios[self.num_hidden_layers:]), "MTP has R=0"
        assert n % 64 == 0, "KV FP8 simulation works on blocks of 64 of the nope dims"
        assert self.qk_rope_head_dim % 2 == 0 and self.qk_rope_head_dim <= self.index_head_dim
        d = self.index_head_dim
        assert d & (d - 1) == 0 and d % 32 == 0, "indexer: Hadamard (power of 2) + FP4 blocks"
        assert self.num_attention_heads % self.o_groups == 0
        if self.expert_dtype == "fp4":
            assert self.hidden_size % 32 == 0 and self.moe_intermediate_size % 32 == 0
        return self

    def hf_dict(self):
        """config.json in the key order of the official / golden configs."""
        return {
            "architectures": ["DeepseekV4ForCausalLM"],
            "model_type": "deepseek_v4",
            "attention_bias": False,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": self.eos_token_id,
            "expert_dtype": self.expert_dtype,
            "hc_eps": self.hc_eps,
            "hc_mult": self.hc_mult,
            "hc_sinkhorn_iters": self.hc_sinkhorn_iters,
            "hidden_act": "silu",
            "max_position_embeddings": self.max_position_embeddings,
            "n_shared_experts": 1,
            "norm_topk_prob": True,
            "num_key_value_heads": 1,
            "num_nextn_predict_layers": self.num_nextn_predict_layers,
            "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3",
                                    "quant_method": "fp8", "scale_fmt": "ue8m0",
                                    "weight_block_size": [128, 128]},
            "rms_norm_eps": self.rms_norm_eps,
            "rope_scaling": {"beta_fast": _num(self.rope_beta_fast),
                             "beta_slow": _num(self.rope_beta_slow),
                             "factor": _num(self.rope_factor),
                             "original_max_position_embeddings": self.rope_original_max_position,
                             "type": "yarn"},
            "rope_theta": _num(self.rope_theta),
            "compress_rope_theta": _num(self.compress_rope_theta),
            "scoring_func": "sqrtsoftplus",
            "swiglu_limit": self.swiglu_limit,
            "tie_word_embeddings": False,
            "topk_method": "noaux_tc",
            "torch_dtype": "bfloat16",
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_hash_layers": self.num_hash_layers,
            "num_attention_heads": self.num_attention_heads,
            "head_dim": self.head_dim,
            "qk_rope_head_dim": self.qk_rope_head_dim,
            "q_lora_rank": self.q_lora_rank,
            "o_groups": self.o_groups,
            "o_lora_rank": self.o_lora_rank,
            "moe_intermediate_size": self.moe_intermediate_size,
            "n_routed_experts": self.n_routed_experts,
            "num_experts_per_tok": self.num_experts_per_tok,
            "routed_scaling_factor": self.routed_scaling_factor,
            "sliding_window": self.sliding_window,
            "compress_ratios": list(self.compress_ratios),
            "index_n_heads": self.index_n_heads,
            "index_head_dim": self.index_head_dim,
            "index_topk": self.index_topk,
        }

    @classmethod
    def from_hf(cls, d):
        rs = d.get("rope_scaling") or {}
        kw = {f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d}
        kw.update(rope_factor=rs.get("factor", 1.0),
                  rope_original_max_position=rs.get("original_max_position_embeddings", 0),
                  rope_beta_fast=rs.get("beta_fast", 32), rope_beta_slow=rs.get("beta_slow", 1))
        kw["expert_dtype"] = d.get("expert_dtype") or "fp8"
        return cls(**kw)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls.from_hf(json.load(f))


def _num(x):
    """Write integral floats as ints, as the official configs do (e.g. rope_theta 10000)."""
    return int(x) if float(x).is_integer() else x
