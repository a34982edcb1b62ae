// Consumer program in C++: the header works unchanged from C++ with RAII.
#include <dsv4/dsv4.h>

#include <cstdio>
#include <memory>

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    dsv4_model* raw = nullptr;
    if (dsv4_model_open(argv[1], nullptr, &raw) != DSV4_STATUS_OK) {
        std::fprintf(stderr, "%s\n", dsv4_last_error());
        return 1;
    }
    std::unique_ptr<dsv4_model, decltype(&dsv4_model_close)> model(raw, &dsv4_model_close);
    dsv4_model_info info{};
    info.struct_size = sizeof info;
    if (dsv4_model_get_info(model.get(), &info) != DSV4_STATUS_OK) return 1;
    std::printf("cpp: dsv4 %s layers=%d hidden=%d vocab=%d\n", dsv4_version(), info.n_layers, info.hidden_size,
                info.vocab_size);
    return 0;
}
