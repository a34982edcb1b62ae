#include "default_model.h"

#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace cli {

namespace {

constexpr const char* kModelName = "dsv4-tiny-code";

bool has_config(const std::string& dir) {
    struct stat st;
    return !dir.empty() && ::stat((dir + "/config.json").c_str(), &st) == 0;
}

std::string program_dir() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "";
    std::string p(buf, size_t(n));
    auto slash = p.rfind('/');
    return slash == std::string::npos ? "" : p.substr(0, slash);
}

std::string installed_dir() {
    std::string d = program_dir();
    return d.empty() ? "" : d + "/../share/dsv4/models/" + kModelName;
}

std::string source_dir() {
#ifdef DSV4_SOURCE_MODELS_DIR
    return std::string(DSV4_SOURCE_MODELS_DIR) + "/" + kModelName;
#else
    return "";
#endif
}

}  // namespace

std::string default_model_dir() {
    if (const char* env = std::getenv("DSV4_MODEL"); env && *env) return env;
    for (const std::string& d : {installed_dir(), source_dir()})
        if (has_config(d)) return d;
    return "";
}

std::string model_dir_or_default(const std::string& flag_value) {
    if (!flag_value.empty()) return flag_value;
    std::string d = default_model_dir();
    if (d.empty())
        throw std::runtime_error("no model given (-m DIR) and the default model " + std::string(kModelName) +
                                 " was not found in " + installed_dir() + " nor " + source_dir() +
                                 " (or set DSV4_MODEL)");
    return d;
}

}  // namespace cli
