#include "py_tokenizer.hpp"

#include <pybind11/stl.h>

#include <sys/stat.h>

namespace py = pybind11;

namespace dsv4py {

PyTokenizer::PyTokenizer(const std::string& path) {
    struct stat st;
    const bool is_dir = ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    dsv4_tokenizer* raw = nullptr;
    dsv4_status s;
    {
        py::gil_scoped_release nogil;
        s = is_dir ? dsv4_tokenizer_open_dir(path.c_str(), &raw) : dsv4_tokenizer_open(path.c_str(), &raw);
    }
    check(s);
    tok_.reset(raw, [](const dsv4_tokenizer* t) { dsv4_tokenizer_free(const_cast<dsv4_tokenizer*>(t)); });
}

std::vector<int32_t> PyTokenizer::encode(const std::string& text, bool add_bos, bool parse_special) const {
    const uint32_t flags =
        (add_bos ? uint32_t(DSV4_TOKENIZE_ADD_BOS) : 0u) | (parse_special ? uint32_t(DSV4_TOKENIZE_PARSE_SPECIAL) : 0u);
    int32_t* ids = nullptr;
    size_t n = 0;
    dsv4_status s;
    {
        py::gil_scoped_release nogil;
        s = dsv4_tokenizer_encode(get(), text.data(), text.size(), flags, &ids, &n);
    }
    check(s);
    TokensPtr keep(ids);
    return std::vector<int32_t>(ids, ids + n);
}

py::str PyTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
    char* text = nullptr;
    size_t len = 0;
    dsv4_status s;
    {
        py::gil_scoped_release nogil;
        s = dsv4_tokenizer_decode(get(), ids.data(), ids.size(), skip_special ? DSV4_DETOKENIZE_SKIP_SPECIAL : 0, &text,
                                  &len);
    }
    check(s);
    StringPtr keep(text);
    // The library only ever returns valid UTF-8 (invalid bytes become U+FFFD).
    return py::str(text, len);
}

std::optional<std::string> PyTokenizer::token_string(int32_t id) const {
    const char* s = dsv4_tokenizer_token_string(get(), id);
    if (!s) return std::nullopt;
    return std::string(s);
}

int32_t PyTokenizer::token_id(const std::string& token_string) const {
    int32_t id = -1;
    check(dsv4_tokenizer_token_id(get(), token_string.c_str(), &id));
    return id;
}

void bind_tokenizer(py::module_& m) {
    py::class_<PyTokenizer>(m, "_Tokenizer")
        .def(py::init<const std::string&>(), py::arg("path"))
        .def("encode", &PyTokenizer::encode, py::arg("text"), py::arg("add_bos"), py::arg("parse_special"))
        .def("decode", &PyTokenizer::decode, py::arg("ids"), py::arg("skip_special"))
        .def("token_string", &PyTokenizer::token_string)
        .def("token_id", &PyTokenizer::token_id)
        .def("is_special", &PyTokenizer::is_special)
        .def_property_readonly("vocab_size", &PyTokenizer::vocab_size)
        .def_property_readonly("bos_id", &PyTokenizer::bos_id)
        .def_property_readonly("eos_id", &PyTokenizer::eos_id);
}

}  // namespace dsv4py
