// dsv4 inspect MODEL_DIR: a readable summary of a checkpoint.
#include <cstdio>
#include <string>

#include <dsv4/dsv4.h>

#include "command.h"
#include "default_model.h"
#include "progress_bar.h"

namespace {

std::string human_bytes(double b) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) {
        b /= 1024;
        ++u;
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
    return buf;
}

std::string human_count(double n) {
    char buf[64];
    if (n >= 1e9) std::snprintf(buf, sizeof buf, "%.3fB", n / 1e9);
    else if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.3fM", n / 1e6);
    else if (n >= 1e3) std::snprintf(buf, sizeof buf, "%.3fK", n / 1e3);
    else std::snprintf(buf, sizeof buf, "%.0f", n);
    return buf;
}

const char* attention_kind(int ratio) {
    if (ratio == 0) return "window";
    if (ratio == 4) return "CSA";
    return "HCA";
}

std::string bytes_per_token(double b) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2f B", b);
    return buf;
}

// KV/session state per context length in the compact layout: per-ratio
// sizing makes it grow by the entry bytes of each layer divided by its ratio
// per token, rather than L x d floats.
void print_session_memory(dsv4_model* model, const dsv4_model_info& info) {
    dsv4_session_info one, two;
    one.struct_size = two.struct_size = sizeof one;
    if (dsv4_model_estimate_session_bytes(model, 4096, &one) != DSV4_STATUS_OK ||
        dsv4_model_estimate_session_bytes(model, 8192, &two) != DSV4_STATUS_OK)
        return;
    // Per layer kind, per token of context.
    int n_window = 0, n_csa = 0, n_hca = 0, hca_ratio = 0;
    for (int l = 0; l < info.n_layers + info.n_mtp_layers; ++l) {
        int r = 0;
        dsv4_model_layer_ratio(model, l, &r);
        if (r == 0) ++n_window;
        else if (r == 4) ++n_csa;
        else {
            ++n_hca;
            hca_ratio = r;
        }
    }
    const double row = double(one.kv_row_bytes), key = double(one.index_key_bytes);
    const double csa = (row + key) / 4.0, hca = hca_ratio ? row / hca_ratio : 0.0;
    std::printf("session:      %s per token (%.1f bytes), %s fixed (windows + carry)\n",
                human_bytes(double(two.state_bytes - one.state_bytes) / 4096.0).c_str(),
                double(two.state_bytes - one.state_bytes) / 4096.0,
                human_bytes(double(one.window_bytes + one.carry_bytes)).c_str());
    std::printf("  layout      KV row %llu B (FP8 e4m3 codes + a scale byte per 64 dims + %d float rotary dims), "
                "indexer key %llu B (FP4 e2m1 + a scale byte per 32)\n",
                (unsigned long long)one.kv_row_bytes, info.rope_head_dim, (unsigned long long)one.index_key_bytes);
    std::printf("  per token   CSA layer %s (x%d), HCA layer %s (x%d), window layer 0 B (x%d), token history 4 B\n",
                bytes_per_token(csa).c_str(), n_csa, bytes_per_token(hca).c_str(), n_hca, n_window);
    const uint64_t contexts[] = {4096, 131072, 1048576};
    const char* names[] = {"4K", "128K", "1M"};
    for (int i = 0; i < 3; ++i) {
        if (contexts[i] > info.max_context) {
            std::printf("  at %-5s    beyond the model's context limit\n", names[i]);
            continue;
        }
        dsv4_session_info s;
        s.struct_size = sizeof s;
        if (dsv4_model_estimate_session_bytes(model, contexts[i], &s) != DSV4_STATUS_OK) continue;
        std::printf("  at %-5s    %s (window %s, compressed %s, indexer %s, carry %s, history %s)\n", names[i],
                    human_bytes(double(s.state_bytes)).c_str(), human_bytes(double(s.window_bytes)).c_str(),
                    human_bytes(double(s.compressed_bytes)).c_str(), human_bytes(double(s.indexer_bytes)).c_str(),
                    human_bytes(double(s.carry_bytes)).c_str(), human_bytes(double(s.history_bytes)).c_str());
    }
    // With V4's row shapes (head 512, rope 64, indexer 128: the published
    // checkpoints and their flash-shape / pro-shape stand-ins), the published
    // models' layer counts give their context-proportional state (their fixed
    // windows and carries add about 30 MiB).
    if (info.head_dim != 512 || info.rope_head_dim != 64 || info.index_head_dim != 128) return;
    struct Layout {
        const char* name;
        int csa, hca;
    } published[] = {{"V4-Flash", 21, 20}, {"V4-Pro", 30, 31}};
    for (const Layout& m : published) {
        const double per_token = m.csa * csa + m.hca * row / 128.0 + 4.0;
        std::printf("  %-10s  %d CSA + %d HCA layers: %s per token, %s at 1M\n", m.name, m.csa, m.hca,
                    bytes_per_token(per_token).c_str(), human_bytes(per_token * 1048576.0).c_str());
    }
}

int run(const cli::Args& args) {
    cli::Flags flags(args);
    std::string model_dir = flags.get("--model", "", "-m");
    auto pos = flags.positional();
    if (model_dir.empty() && !pos.empty()) model_dir = pos[0];
    if (!flags.unknown().empty()) return cli::fail("inspect: unknown option " + flags.unknown()[0]);
    model_dir = cli::model_dir_or_default(model_dir);

    dsv4_model_params params;
    dsv4_model_params_init(&params);
    cli::ProgressBar bar("loading");
    params.progress = cli::ProgressBar::callback;
    params.progress_user_data = &bar;
    dsv4_model* model = nullptr;
    dsv4_status st = dsv4_model_open(model_dir.c_str(), &params, &model);
    bar.finish();
    if (st != DSV4_STATUS_OK) return cli::fail_status("cannot open " + model_dir, st);

    dsv4_model_info info;
    info.struct_size = sizeof info;
    dsv4_model_get_info(model, &info);
    std::printf("model:        %s\n", model_dir.c_str());
    std::printf("architecture: DeepSeek-V4 (hidden %d, %d layers + %d MTP, %d heads x %d, rope %d)\n", info.hidden_size,
                info.n_layers, info.n_mtp_layers, info.n_heads, info.head_dim, info.rope_head_dim);
    std::printf("attention:    q rank %d, %d output groups of rank %d, window %d, indexer %d x %d top-%d\n",
                info.q_lora_rank, info.o_groups, info.o_lora_rank, info.sliding_window, info.index_n_heads,
                info.index_head_dim, info.index_topk);
    std::printf("moe:          %d routed experts (%s), %d per token, %d shared, width %d, %d hash layer(s)\n",
                info.n_routed_experts, info.experts_fp4 ? "FP4" : "FP8", info.n_experts_per_tok, info.n_shared_experts,
                info.moe_intermediate_size, info.n_hash_layers);
    std::printf("vocab:        %d (bos %d, eos %d), context limit %llu\n", info.vocab_size, info.bos_token_id,
                info.eos_token_id, (unsigned long long)info.max_context);
    std::printf("layers:      ");
    for (int l = 0; l < info.n_layers + info.n_mtp_layers; ++l) {
        int r = 0;
        dsv4_model_layer_ratio(model, l, &r);
        std::printf(" %s%d:%s", l >= info.n_layers ? "mtp" : "", l >= info.n_layers ? l - info.n_layers : l,
                    attention_kind(r));
        if (r) std::printf("/%d", r);
    }
    std::printf("\n");
    std::printf("parameters:   %s total (%llu), %s active per token (%llu)\n", human_count(double(info.total_params)).c_str(),
                (unsigned long long)info.total_params, human_count(double(info.active_params)).c_str(),
                (unsigned long long)info.active_params);
    std::printf("bytes:        %s total\n", human_bytes(double(info.total_bytes)).c_str());
    for (int d = 0; d < DSV4_DTYPE_COUNT; ++d)
        if (info.bytes_by_dtype[d])
            std::printf("  %-8s    %s (%llu)\n", dsv4_dtype_name(dsv4_dtype(d)), human_bytes(double(info.bytes_by_dtype[d])).c_str(),
                        (unsigned long long)info.bytes_by_dtype[d]);
    print_session_memory(model, info);
    dsv4_model_close(model);
    return 0;
}

const bool registered = cli::register_command(
    {"inspect", "summarize a checkpoint (shapes, parameters, memory)", run,
     "usage: dsv4 inspect [-m] [MODEL_DIR]\n"
     "  shapes, parameters, bytes, and the KV memory per token of context and at 1M tokens\n"
     "  (default: the embedded model)\n"});

}  // namespace
