#include "test_support.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace testing_support {

std::string conformance_dir() {
    const char* env = std::getenv("DSV4_CONFORMANCE_DIR");
    std::string dir = env && *env ? env : DSV4_CONFORMANCE_DIR;
    if (!fs::is_directory(dir))
        FAIL("conformance vectors not found at " << dir
                                                 << " (expected ../shared/conformance beside the source tree)");
    return dir;
}

std::vector<std::string> golden_dirs() {
    std::vector<std::string> out;
    const std::string root = conformance_dir() + "/golden";
    if (fs::is_directory(root))
        for (const auto& e : fs::directory_iterator(root))
            if (e.is_directory()) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    if (out.empty()) FAIL("no golden checkpoints under " << root);
    return out;
}

TempDir::TempDir(const std::string& tag) {
    static std::atomic<int> counter{0};
    path_ = (fs::temp_directory_path() / ("dsv4-test-" + tag + "-" + std::to_string(::getpid()) + "-" +
                                          std::to_string(counter++)))
                .string();
    fs::remove_all(path_);
    fs::create_directories(path_);
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) FAIL("cannot read " << path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const std::string& path, const std::string& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), std::streamsize(data.size()));
    if (!out) FAIL("cannot write " << path);
}

void copy_file(const std::string& from, const std::string& to) { write_file(to, read_file(from)); }

RunResult run_cli(const std::string& args, const std::string& stdin_text) {
    static std::atomic<int> counter{0};
    TempDir tmp("cli" + std::to_string(counter++));
    write_file(tmp / "stdin", stdin_text);
    const std::string cmd = std::string("'") + DSV4_CLI_PATH + "' " + args + " <'" + (tmp / "stdin") + "' >'" +
                            (tmp / "stdout") + "' 2>'" + (tmp / "stderr") + "'";
    int status = std::system(cmd.c_str());
    RunResult r;
    // std::system runs /bin/sh: a signal in the child shows as 128+N from the shell.
    r.exited = WIFEXITED(status) && WEXITSTATUS(status) < 128;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(tmp / "stdout");
    r.err = read_file(tmp / "stderr");
    return r;
}

}  // namespace testing_support
