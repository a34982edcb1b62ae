// Speculative decoding in `dsv4 bench`: the same greedy generation from the same prompt with and
// without MTP drafts, timed, with the generator's statistics; and the cost of a 2-token
// verification pass against a 1-token decode step (public C API only).
#pragma once

#include <cstddef>

#include <dsv4/dsv4.h>

namespace cli {

struct SpecBench {
    bool ran = false;            // false when the model has no MTP block
    double mtp_acceptance = 0;   // drafts accepted / drafted
    double tokens_per_pass = 0;  // tokens decided per main-model pass
    double spec_tok_s = 0;       // generation speed with speculation
    double plain_tok_s = 0;      // and without
    double spec_speedup = 0;     // spec_tok_s / plain_tok_s
    // The default, adaptive speculation (dsv4_generate_params::spec_adaptive): its speed, against
    // plain decoding, and how many of its main passes speculated.
    double auto_tok_s = 0;
    double auto_speedup = 0;
    unsigned long long auto_spec_passes = 0, auto_main_passes = 0;
};

// Generates `gen` tokens greedily three times from forks of `session` (which holds the prompt; it
// is not changed): without speculation, with n_draft drafts on every pass, and adaptively.
SpecBench bench_speculation(dsv4_session* session, long long gen, unsigned n_draft = 1);

struct VerifyCost {
    bool ran = false;
    int reps = 0;                    // timed repetitions (after one untimed warm-up)
    double decode1_s = 0;            // fastest dsv4_decode_step of one token
    double verify1_s = 0;            // fastest dsv4_session_verify of one token (the same work: a noise check)
    double verify2_s = 0;            // fastest dsv4_session_verify of two tokens
    double verify2_cost = 0;         // verify2_s / decode1_s: what a speculative pass costs in plain passes
    double verify2_cost_median = 0;  // the same from the medians (more exposed to other processes)
    double decode1_bytes = 0;        // weight bytes the 1-token step reads (dsv4_session_get_stats)
    double verify2_bytes = 0;        // and the 2-token pass: more when the two tokens route to other experts
};

// Times the three passes `reps` times each (best of `reps`), interleaved, on one fork of `session` (which needs
// room for two more tokens; it is not changed), truncating back after every pass.
VerifyCost bench_verify_cost(dsv4_session* session, size_t vocab_size, int reps = 5);

}  // namespace cli
