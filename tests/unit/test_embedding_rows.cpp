// Embedding rows are read from the checkpoint file (Tensor::read_bytes ->
// MappedFile::read, pread), never through the mapping: each row touched
// there mapped the pages around it as well (on Linux 6.18 a whole large
// page-cache folio), and put most of the embedding table into the process's
// RSS after a long prompt.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "error.h"
#include "forward/context.h"
#include "forward/head.h"
#include "model.h"
#include "quant.h"
#include "test_support.h"

using namespace dsv4;

TEST_CASE("embedding rows come from the file, not through the mapping", "[model][memory]") {
    LoadOptions opts;
    opts.backend = "reference";
    opts.n_threads = 1;
    const auto model = Model::load(testing_support::conformance_dir() + "/golden/tiny-s4/model", opts);
    const ModelConfig& c = model->config();
    const Tensor& embed = *model->weights().embed;
    REQUIRE(embed.source != nullptr);
    REQUIRE(embed.source->mapped());
    const ForwardContext ctx(c, model->weights(), model->backend());
    const int64_t D = c.hidden_size;
    const int32_t tokens[] = {0, int32_t(c.vocab_size / 2), int32_t(c.vocab_size - 1)};

    // The rows through the mapping, before it is made unreadable.
    std::vector<float> want(3 * size_t(D));
    for (int i = 0; i < 3; ++i)
        for (int64_t j = 0; j < D; ++j)
            want[size_t(i * D + j)] = bf16_to_float(embed.as<uint16_t>()[int64_t(tokens[i]) * D + j]);

    // Every whole page of the table unreadable: a lookup through the mapping
    // would fault (the test binary dies, the test fails).
    const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (uintptr_t(embed.data) + page - 1) & ~(page - 1);
    const uintptr_t end = (uintptr_t(embed.data) + embed.nbytes) & ~(page - 1);
    REQUIRE(end > begin);
    REQUIRE(mprotect(reinterpret_cast<void*>(begin), end - begin, PROT_NONE) == 0);
    std::vector<float> got(3 * size_t(D));
    for (int i = 0; i < 3; ++i) embedding_row(ctx, tokens[i], got.data() + i * D);
    REQUIRE(mprotect(reinterpret_cast<void*>(begin), end - begin, PROT_READ) == 0);
    CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);

    // Reads past the tensor or the file fail with a message naming them.
    std::vector<uint8_t> buf(16);
    try {
        embed.read_bytes(embed.nbytes - 8, 16, buf.data());
        FAIL("a read past the tensor succeeded");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("embed.weight") != std::string::npos);
    }
    try {
        embed.source->read(embed.source->size() - 8, 16, buf.data());
        FAIL("a read past the file succeeded");
    } catch (const Error& e) {
        CHECK(e.status() == DSV4_STATUS_IO);
        CHECK(std::string(e.what()).find("model.safetensors") != std::string::npos);
    }
}

TEST_CASE("embedding rows read the same from a checkpoint loaded without mmap", "[model][memory]") {
    LoadOptions mapped, copied;
    mapped.backend = copied.backend = "reference";
    mapped.n_threads = copied.n_threads = 1;
    copied.use_mmap = false;
    const std::string dir = testing_support::conformance_dir() + "/golden/tiny-s4/model";
    const auto a = Model::load(dir, mapped), b = Model::load(dir, copied);
    REQUIRE_FALSE(b->weights().embed->source->mapped());
    const ForwardContext ca(a->config(), a->weights(), a->backend()), cb(b->config(), b->weights(), b->backend());
    const int64_t D = a->config().hidden_size;
    std::vector<float> ra(static_cast<size_t>(D)), rb(static_cast<size_t>(D));
    for (int32_t t : {0, 7, int32_t(a->config().vocab_size - 1)}) {
        embedding_row(ca, t, ra.data());
        embedding_row(cb, t, rb.data());
        CHECK(std::memcmp(ra.data(), rb.data(), ra.size() * sizeof(float)) == 0);
    }
}
