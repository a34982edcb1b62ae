// The tokenizer that ships inside a checkpoint directory (tokenizer.json beside config.json),
// loaded together with the model so that text generation needs no second path.
#pragma once

#include <memory>
#include <string>

#include "text/tokenizer.h"

namespace dsv4::generate {

// MODEL_DIR/tokenizer.json (with its tokenizer_config.json), or nullptr when the directory has
// none. A tokenizer that fails to load fails the call (naming the file), and so does one with ids
// the model cannot take (>= model_vocab): a mismatched tokenizer would feed the model wrong ids.
std::unique_ptr<text::Tokenizer> load_model_tokenizer(const std::string& model_dir, int model_vocab);

}  // namespace dsv4::generate
