// The sampling options shared by `dsv4 run` and `dsv4 chat`.
#pragma once

#include <dsv4/dsv4.h>

#include "command.h"

namespace cli {

// --temp T, --top-k K, --top-p P, --min-p P, --repeat-penalty R, --repeat-last-n N,
// --presence-penalty X, --frequency-penalty X, --seed S; unset flags keep the library's defaults.
// Throws std::invalid_argument for a malformed number (range checks are the library's).
dsv4_sampler_params sampler_params_from_flags(Flags& flags);

// One usage line per option above, for the commands' help texts.
extern const char* const kSamplingUsage;

}  // namespace cli
