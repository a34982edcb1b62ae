// dsv4 logits: run a token sequence through a session (one prefill, then
// one decode step per remaining token) and save every logits row as .npy.
// This is how the engine is compared with reference logits from outside.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <dsv4/dsv4.h>

#include "command.h"
#include "default_model.h"
#include "npy_io.h"

namespace {

const char* kUsage =
    "logits: usage: dsv4 logits -m MODEL_DIR --tokens IDS --prefill P -o OUT.npy [--mtp-out MTP.npy] "
    "[--backend NAME]\n"
    "  IDS: comma-separated ids, or @FILE (.npy of int32/int64, or one id per line)";

int32_t parse_id(const std::string& s, const std::string& where) {
    size_t used = 0;
    long long v = 0;
    try {
        v = std::stoll(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used == 0 || used != s.size() || v < INT32_MIN || v > INT32_MAX)
        throw std::invalid_argument("logits: '" + s + "' in " + where + " is not a token id");
    return int32_t(v);
}

std::string trim(const std::string& s) {
    size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
    return s.substr(a, b - a);
}

std::vector<int32_t> read_ids(const std::string& spec) {
    std::vector<int32_t> ids;
    if (!spec.empty() && spec[0] == '@') {
        const std::string path = spec.substr(1);
        if (path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0) return cli::read_npy_ids(path);
        std::ifstream in(path);
        if (!in) throw std::runtime_error("logits: cannot open " + path);
        std::string line;
        while (std::getline(in, line))
            if (!trim(line).empty()) ids.push_back(parse_id(trim(line), path));
        return ids;
    }
    size_t start = 0;
    while (start <= spec.size()) {
        size_t comma = spec.find(',', start);
        if (comma == std::string::npos) comma = spec.size();
        const std::string item = trim(spec.substr(start, comma - start));
        if (!item.empty()) ids.push_back(parse_id(item, "--tokens"));
        start = comma + 1;
    }
    return ids;
}

int run(const cli::Args& args) {
    cli::Flags flags(args);
    const std::string model_dir = cli::model_dir_or_default(flags.get("--model", "", "-m"));
    const std::string tokens_spec = flags.get("--tokens");
    const long long P = flags.get_int("--prefill", -1);
    const std::string out_path = flags.get("--out", "", "-o");
    const std::string mtp_path = flags.get("--mtp-out");
    const std::string backend = flags.get("--backend");
    if (!flags.unknown().empty()) return cli::fail("logits: unknown option " + flags.unknown()[0] + "\n" + kUsage);
    if (model_dir.empty() || tokens_spec.empty() || P < 0 || out_path.empty()) return cli::fail(kUsage);

    const std::vector<int32_t> ids = read_ids(tokens_spec);
    const long long T = (long long)ids.size();
    if (P < 1 || P > T)
        return cli::fail("logits: --prefill " + std::to_string(P) + " must be in [1, " + std::to_string(T) +
                         "] (the number of ids)");
    if (!mtp_path.empty() && P >= T)
        return cli::fail("logits: --mtp-out needs the id after the prefill: --prefill must be less than " +
                         std::to_string(T));

    dsv4_model_params mp;
    dsv4_model_params_init(&mp);
    if (!backend.empty()) mp.backend = backend.c_str();
    dsv4_model* model = nullptr;
    dsv4_status st = dsv4_model_open(model_dir.c_str(), &mp, &model);
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot open " + model_dir, st);
    dsv4_model_info info;
    info.struct_size = sizeof info;
    dsv4_model_get_info(model, &info);
    const size_t V = size_t(info.vocab_size);

    dsv4_session_params sp;
    dsv4_session_params_init(&sp);
    sp.n_ctx = uint64_t(T);
    dsv4_session* session = nullptr;
    st = dsv4_session_create(model, &sp, &session);
    if (st != DSV4_STATUS_OK) {
        dsv4_model_close(model);
        return cli::fail_status("cannot create a session", st);
    }
    auto done = [&](int rc) {
        dsv4_session_destroy(session);
        dsv4_model_close(model);
        return rc;
    };

    const size_t rows = size_t(1 + T - P);
    std::vector<float> logits(rows * V);
    st = dsv4_session_prefill(session, ids.data(), size_t(P));
    if (st != DSV4_STATUS_OK) return done(cli::fail_status("prefill failed", st));
    dsv4_session_copy_logits(session, logits.data(), V);
    if (!mtp_path.empty()) {
        std::vector<float> mtp(V);
        st = dsv4_session_mtp_logits(session, ids[size_t(P)], mtp.data(), V);
        if (st != DSV4_STATUS_OK) return done(cli::fail_status("MTP logits failed", st));
        cli::write_npy_f32(mtp_path, mtp.data(), {int64_t(V)});
    }
    for (size_t j = 1; j < rows; ++j) {
        st = dsv4_decode_step(session, ids[size_t(P) + j - 1]);
        if (st != DSV4_STATUS_OK) return done(cli::fail_status("decode step " + std::to_string(j) + " failed", st));
        dsv4_session_copy_logits(session, logits.data() + j * V, V);
    }
    cli::write_npy_f32(out_path, logits.data(), {int64_t(rows), int64_t(V)});
    std::fprintf(stderr, "logits: wrote %zu x %zu to %s\n", rows, V, out_path.c_str());
    return done(0);
}

const bool registered =
    cli::register_command({"logits", "prefill + decode a token sequence and save the logits as .npy", run,
                           "usage: dsv4 logits [-m MODEL] --tokens IDS --prefill P -o OUT.npy [options]\n"
                           "  -m, --model DIR        checkpoint directory (default: the embedded model)\n"
                           "  --tokens IDS           comma-separated ids, or @FILE (.npy of int32/int64, or one id\n"
                           "                         per line)\n"
                           "  --prefill P            the first P ids go in one prefill, the rest one decode step each\n"
                           "  -o, --out FILE         the logits, one row per position from P - 1 on (.npy, float32)\n"
                           "  --mtp-out FILE         the MTP block's logits after the prefill, given id P (.npy)\n"
                           "  --backend NAME         compute backend (cpu, reference)\n"});

}  // namespace
