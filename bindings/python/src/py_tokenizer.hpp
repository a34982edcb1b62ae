// _Tokenizer: a tokenizer.json opened on its own (owned) or the one that came with a model (which
// it keeps open).
#pragma once

#include <pybind11/pybind11.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "capi.hpp"

namespace dsv4py {

class PyTokenizer {
public:
    // A tokenizer.json file, or a directory holding one.
    explicit PyTokenizer(const std::string& path);
    // Shares ownership of whatever keeps `tok` alive (a model).
    explicit PyTokenizer(std::shared_ptr<const dsv4_tokenizer> tok) : tok_(std::move(tok)) {}

    std::vector<int32_t> encode(const std::string& text, bool add_bos, bool parse_special) const;
    pybind11::str decode(const std::vector<int32_t>& ids, bool skip_special) const;
    int32_t vocab_size() const { return dsv4_tokenizer_vocab_size(get()); }
    int32_t bos_id() const { return dsv4_tokenizer_bos(get()); }
    int32_t eos_id() const { return dsv4_tokenizer_eos(get()); }
    std::optional<std::string> token_string(int32_t id) const;
    int32_t token_id(const std::string& token_string) const;
    bool is_special(int32_t id) const { return dsv4_tokenizer_is_special(get(), id); }

    const dsv4_tokenizer* get() const { return tok_.get(); }
    const std::shared_ptr<const dsv4_tokenizer>& shared() const { return tok_; }

private:
    std::shared_ptr<const dsv4_tokenizer> tok_;
};

void bind_tokenizer(pybind11::module_& m);

}  // namespace dsv4py
