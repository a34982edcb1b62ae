// The speculative-decoding options shared by `dsv4 run` and `dsv4 chat`.
#pragma once

#include <string>

#include <dsv4/dsv4.h>

#include "command.h"

namespace cli {

// --spec auto|always|off, --no-spec (= off), --draft N into params (speculative, spec_adaptive,
// n_draft). Returns an error message for a bad value, else "".
std::string apply_spec_flags(Flags& flags, dsv4_generate_params& params);

// Their usage lines, for the commands' help texts.
extern const char* const kSpecUsage;

}  // namespace cli
