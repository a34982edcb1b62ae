// Speculative decoding in `dsv4 bench`: the same greedy generation from the same prompt with and
// without MTP drafts, timed, with the generator's statistics (public C API only).
#pragma once

#include <dsv4/dsv4.h>

namespace cli {

struct SpecBench {
    bool ran = false;            // false when the model has no MTP block
    double mtp_acceptance = 0;   // drafts accepted / drafted
    double tokens_per_pass = 0;  // tokens decided per main-model pass
    double spec_tok_s = 0;       // generation speed with speculation
    double plain_tok_s = 0;      // and without
    double spec_speedup = 0;     // spec_tok_s / plain_tok_s
};

// Generates `gen` tokens greedily twice from forks of `session` (which holds the prompt; it is not
// changed): without speculation, then with n_draft drafts per pass.
SpecBench bench_speculation(dsv4_session* session, long long gen, unsigned n_draft = 1);

}  // namespace cli
