#include "sampling_flags.h"

#include <stdexcept>
#include <string>

namespace cli {

const char* const kSamplingUsage =
    "  --temp T               temperature; 0 or less: greedy (default 1)\n"
    "  --top-k K              keep the K most likely tokens (default 0: off)\n"
    "  --top-p P              keep the smallest set with mass P (default 1: off)\n"
    "  --min-p P              drop tokens below P x the top probability (default 0: off)\n"
    "  --repeat-penalty R     divide the logits of recent tokens by R (default 1: off)\n"
    "  --repeat-last-n N      recent tokens the penalties see; -1: all (default 64)\n"
    "  --presence-penalty X   subtract X from every recent token (default 0)\n"
    "  --frequency-penalty X  subtract X per occurrence of a recent token (default 0)\n"
    "  --seed S               random seed: the same seed gives the same text (default 0)\n";

dsv4_sampler_params sampler_params_from_flags(Flags& flags) {
    dsv4_sampler_params p;
    dsv4_sampler_params_init(&p);
    p.temperature = float(flags.get_double("--temp", p.temperature));
    p.top_k = int32_t(flags.get_int("--top-k", p.top_k));
    p.top_p = float(flags.get_double("--top-p", p.top_p));
    p.min_p = float(flags.get_double("--min-p", p.min_p));
    p.repetition_penalty = float(flags.get_double("--repeat-penalty", p.repetition_penalty));
    p.penalty_last_n = int32_t(flags.get_int("--repeat-last-n", p.penalty_last_n));
    p.presence_penalty = float(flags.get_double("--presence-penalty", p.presence_penalty));
    p.frequency_penalty = float(flags.get_double("--frequency-penalty", p.frequency_penalty));
    const long long seed = flags.get_int("--seed", 0);
    if (seed < 0) throw std::invalid_argument("flag --seed needs a non-negative integer, got " + std::to_string(seed));
    p.seed = uint64_t(seed);
    return p;
}

}  // namespace cli
