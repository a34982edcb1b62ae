#include "spec_flags.h"

namespace cli {

const char* const kSpecUsage =
    "  --spec MODE            speculative decoding (the MTP block drafts, one pass verifies): auto (default:\n"
    "                         only while it is faster than plain decoding), always, off; the text is the same\n"
    "  --no-spec              the same as --spec off\n"
    "  --draft N              tokens drafted per pass, 1..8 (default 1)\n";

std::string apply_spec_flags(Flags& flags, dsv4_generate_params& params) {
    std::string mode = flags.get("--spec", "auto");
    if (flags.has("--no-spec")) mode = "off";
    const long long n_draft = flags.get_int("--draft", 1);
    if (mode != "auto" && mode != "always" && mode != "off")
        return "--spec must be auto, always or off, not '" + mode + "'";
    if (n_draft < 1 || n_draft > 8) return "--draft must be in 1..8";
    params.speculative = mode != "off";
    params.spec_adaptive = mode == "auto";
    params.n_draft = uint32_t(n_draft);
    return "";
}

}  // namespace cli
