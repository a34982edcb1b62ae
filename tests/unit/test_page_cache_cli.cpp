// `dsv4 bench` drops the checkpoint from the page cache before it opens it and
// reports how much of the mapped checkpoint is in 2 MiB pages
// (examples/cli/page_cache.*).
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "page_cache.h"
#include "test_support.h"

namespace {

// Pages of `path` in the page cache (mincore over a fresh mapping, which
// itself touches nothing).
size_t resident_pages(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    const off_t size = ::lseek(fd, 0, SEEK_END);
    void* p = ::mmap(nullptr, size_t(size), PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    REQUIRE(p != MAP_FAILED);
    const size_t page = size_t(sysconf(_SC_PAGESIZE)), n = (size_t(size) + page - 1) / page;
    std::vector<unsigned char> v(n);
    REQUIRE(::mincore(p, size_t(size), v.data()) == 0);
    ::munmap(p, size_t(size));
    size_t r = 0;
    for (unsigned char c : v) r += c & 1;
    return r;
}

}  // namespace

TEST_CASE("smaps of the checkpoint's mappings are summed, others left out", "[cli][bench][memory]") {
    testing_support::TempDir dir("smaps");
    testing_support::write_file(dir / "smaps",
                                "7f0000000000-7f0000400000 r--p 00000000 fe:01 11   /m/model-00001.safetensors\n"
                                "Size:               4096 kB\n"
                                "Rss:                4096 kB\n"
                                "FilePmdMapped:      2048 kB\n"
                                "VmFlags: rd mr mw me hg\n"
                                "7f0000400000-7f0000500000 rw-p 00000000 00:00 0 \n"
                                "Rss:                1024 kB\n"
                                "FilePmdMapped:         0 kB\n"
                                "7f0000600000-7f0000800000 r--p 00000000 fe:01 12   /usr/lib/libfoo.so\n"
                                "Rss:                 512 kB\n"
                                "FilePmdMapped:      2048 kB\n"
                                "7f0000800000-7f0000a00000 r--p 00000000 fe:01 13   /m/dir with space/b.safetensors\n"
                                "Rss:                1536 kB\n"
                                "FilePmdMapped:       512 kB\n");
    const cli::MappedWeights m = cli::mapped_weights(dir / "smaps");
    CHECK(m.mappings == 2);
    CHECK(m.resident_mb == Approx(5.5));
    CHECK(m.huge_page_mb == Approx(2.5));
}

TEST_CASE("the checkpoint is dropped from the page cache", "[cli][bench][memory]") {
    testing_support::TempDir dir("page_cache");
    const std::string file = dir / "model.safetensors";
    testing_support::write_file(file, std::string(size_t(8) << 20, 'x'));
    testing_support::read_file(file);  // in the page cache now
    REQUIRE(resident_pages(file) > 0);

    std::string why;
    CHECK(cli::drop_from_page_cache(dir.path(), &why) == 1);
    INFO(why);
    CHECK(resident_pages(file) == 0);

    testing_support::read_file(file);
    REQUIRE(resident_pages(file) > 0);
    CHECK(cli::drop_from_page_cache(file, &why) == 1);  // a file named directly
    CHECK(resident_pages(file) == 0);

    CHECK(cli::drop_from_page_cache(dir / "missing", &why) == -1);
    CHECK(why.find("missing") != std::string::npos);
}

TEST_CASE("the checkpoint is read back into the page cache without staying mapped", "[cli][bench][memory]") {
    testing_support::TempDir dir("page_cache_read");
    const std::string file = dir / "model.safetensors";
    const size_t size = (size_t(6) << 20) + 5;
    testing_support::write_file(file, std::string(size, 'y'));
    std::string why;
    REQUIRE(cli::drop_from_page_cache(dir.path(), &why) == 1);
    REQUIRE(resident_pages(file) == 0);

    const cli::MappedWeights before = cli::mapped_weights();
    CHECK(cli::read_into_page_cache(dir.path(), &why) == Approx(double(size)));
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    CHECK(resident_pages(file) == (size + page - 1) / page);
    const cli::MappedWeights after = cli::mapped_weights();
    CHECK(after.mappings == before.mappings);  // unmapped again

    CHECK(cli::read_into_page_cache(dir / "missing", &why) == -1);
}

TEST_CASE("dsv4 bench reports the mapped checkpoint's pages", "[cli][bench][memory]") {
    const std::string model = "'" + testing_support::conformance_dir() + "/golden/tiny-s4/model'";
    for (const char* keep : {"", " --keep-page-cache"}) {
        auto r = testing_support::run_cli(
            "bench -m " + model + " --prompt 8 --gen 2 --threads 1 --bw-mb 16 --no-spec --verify-reps 0 --json" + keep);
        INFO(r.err);
        REQUIRE(r.exit_code == 0);
        const size_t nl = r.out.find_last_of('\n', r.out.size() - 2);
        const auto j = nlohmann::json::parse(r.out.substr(nl == std::string::npos ? 0 : nl + 1));
        CHECK(j["page_cache_dropped_files"].get<int>() == (*keep ? 0 : 1));
        if (*keep)
            CHECK(j["page_in_bytes"].get<double>() == 0);
        else
            CHECK(j["page_in_bytes"].get<double>() > 0);
        CHECK(j["weights_mapped_mb"].get<double>() > 0);
        CHECK(j["weights_huge_page_mb"].get<double>() >= 0);
        CHECK(j["weights_huge_page_mb"].get<double>() <= j["weights_mapped_mb"].get<double>());
        CHECK(r.out.find("pages:") != std::string::npos);
    }
}
