#include "generate/model_tokenizer.h"

#include <sys/stat.h>

#include "error.h"

namespace dsv4::generate {

std::unique_ptr<text::Tokenizer> load_model_tokenizer(const std::string& model_dir, int model_vocab) {
    std::string path = model_dir;
    if (!path.empty() && path.back() != '/') path += '/';
    path += "tokenizer.json";
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return nullptr;
    std::unique_ptr<text::Tokenizer> tok = text::Tokenizer::from_file(path);
    if (tok->vocab_size() > model_vocab)
        fail(DSV4_STATUS_FORMAT, path + ": the tokenizer has ids up to " + std::to_string(tok->vocab_size() - 1) +
                                     ", beyond the model's vocab_size of " + std::to_string(model_vocab));
    return tok;
}

}  // namespace dsv4::generate
