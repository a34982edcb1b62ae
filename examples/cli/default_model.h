// Where the dsv4 program finds a model when -m is not given: the embedded
// default model (models/dsv4-tiny-code), installed beside the program or in
// the source tree it was built from.
#pragma once

#include <string>

namespace cli {

// In order: $DSV4_MODEL; <dir of the program>/../share/dsv4/models/dsv4-tiny-code
// (installed); the source tree's models/dsv4-tiny-code (build tree). Returns ""
// when none holds a config.json.
std::string default_model_dir();

// The -m/--model flag's value, or default_model_dir(); fails with a message
// naming the places searched when there is neither.
std::string model_dir_or_default(const std::string& flag_value);

}  // namespace cli
