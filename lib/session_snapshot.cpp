#include "session_snapshot.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "error.h"
#include "session.h"

namespace dsv4 {

// ---------------------------------------------------------------- CRC-32

namespace {

struct Crc32Tables {
    std::array<std::array<uint32_t, 256>, 8> t{};
    Crc32Tables() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; ++i)
            for (int s = 1; s < 8; ++s) t[size_t(s)][i] = (t[size_t(s - 1)][i] >> 8) ^ t[0][t[size_t(s - 1)][i] & 0xFF];
    }
};

const Crc32Tables& crc_tables() {
    static const Crc32Tables tables;
    return tables;
}

}  // namespace

uint32_t crc32_update(uint32_t crc, const void* data, size_t n) {
    const auto& t = crc_tables().t;
    const auto* p = static_cast<const uint8_t*>(data);
    uint32_t c = ~crc;
    while (n >= 8) {
        uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + 4, 4);
        lo ^= c;
        c = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][hi & 0xFF] ^
            t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) c = t[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

// ---------------------------------------------------------------- sinks and sources

void ByteSink::write(const void* data, size_t n) {
    if (n == 0) return;
    put(data, n);
    crc_ = crc32_update(crc_, data, n);
    bytes_ += n;
}

void BufferSink::put(const void* data, size_t n) {
    if (n > cap_ - used_)
        fail(DSV4_STATUS_INTERNAL, "session snapshot: the buffer of " + std::to_string(cap_) + " bytes is too small");
    std::memcpy(buf_ + used_, data, n);
    used_ += n;
}

void FileSink::put(const void* data, size_t n) {
    if (std::fwrite(data, 1, n, f_) != n) fail(DSV4_STATUS_IO, "cannot write session snapshot '" + path_ + "'");
}

void ByteSource::read(void* data, size_t n) {
    if (n == 0) return;
    if (!get(data, n))
        fail(DSV4_STATUS_FORMAT,
             origin() + " is truncated: it ends within its first " + std::to_string(bytes_ + n) + " bytes");
    crc_ = crc32_update(crc_, data, n);
    bytes_ += n;
}

bool BufferSource::get(void* data, size_t n) {
    if (n > len_ - used_) return false;
    std::memcpy(data, buf_ + used_, n);
    used_ += n;
    return true;
}

bool FileSource::get(void* data, size_t n) {
    if (n > size_ - used_) return false;
    if (std::fread(data, 1, n, f_) != n) fail(DSV4_STATUS_IO, "cannot read " + origin_);
    used_ += n;
    return true;
}

// ---------------------------------------------------------------- the format

namespace {

constexpr char kMagic[8] = {'D', 'S', 'V', '4', 'S', 'N', 'A', 'P'};
constexpr uint32_t kByteOrderMark = 0x01020304u;

struct Header {
    char magic[8];
    uint32_t version;
    uint32_t byte_order;
    uint64_t fingerprint;
    uint64_t n_ctx;
    uint64_t position;
    uint32_t blocks, slack, window, head_dim, rope_head_dim, index_head_dim, stream_width, vocab;
    uint64_t payload_bytes;
};
static_assert(sizeof(Header) == 8 + 4 + 4 + 8 * 3 + 4 * 8 + 8, "snapshot header is packed");

Header make_header(const ModelConfig& c, uint64_t fingerprint, uint64_t n_ctx, int64_t position, uint64_t payload) {
    Header h;
    std::memset(&h, 0, sizeof h);
    std::memcpy(h.magic, kMagic, sizeof kMagic);
    h.version = kSnapshotVersion;
    h.byte_order = kByteOrderMark;
    h.fingerprint = fingerprint;
    h.n_ctx = n_ctx;
    h.position = uint64_t(position);
    h.blocks = uint32_t(c.n_layers + (c.n_mtp_layers > 0 ? 1 : 0));
    h.slack = kTruncateSlack;
    h.window = uint32_t(c.sliding_window);
    h.head_dim = uint32_t(c.head_dim);
    h.rope_head_dim = uint32_t(c.rope_head_dim);
    h.index_head_dim = uint32_t(c.index_head_dim);
    h.stream_width = uint32_t(c.hc_mult * c.hidden_size);
    h.vocab = uint32_t(c.vocab_size);
    h.payload_bytes = payload;
    return h;
}

// The positions [first, end) a ring of `capacity` holds at `end`.
int64_t ring_first(int64_t end, int64_t capacity) {
    return std::max<int64_t>(0, end - capacity);
}

// Walks the payload in order, calling row(ptrs...) on each piece; shared by
// the writer, the reader and the size computation.
template <class Visit>
void visit_payload(SessionState& st, std::vector<int32_t>& tokens, std::vector<float>& logits, int64_t p,
                   Visit&& visit) {
    visit(tokens.data(), size_t(p) * sizeof(int32_t));
    if (p > 0) visit(logits.data(), logits.size() * sizeof(float));
    const size_t hw = size_t(st.stream_width());
    // The last kTruncateSlack + 1 streams (what a truncation reads back; the
    // MTP ring is caught up before writing, so the older ones it might need
    // are not).
    for (int64_t t = ring_first(p, kTruncateSlack + 1); t < p; ++t) visit(st.streams(t), hw * sizeof(float));
    auto kv_rows = [&](KvRows& rows, int64_t first, int64_t end, bool ring) {
        for (int64_t t = first; t < end; ++t) {
            const int64_t i = ring ? t % rows.capacity() : t;
            visit(rows.codes(i), size_t(rows.nope()));
            visit(rows.scales(i), size_t(rows.blocks()));
            visit(rows.rope(i), size_t(rows.rope_dims()) * sizeof(float));
        }
    };
    auto carry_rows = [&](CompressorCarry& k) {
        for (int64_t t = ring_first(p, k.ring); t < p; ++t) {
            visit(k.a_row(t), size_t(k.cw) * sizeof(float));
            visit(k.g_row(t), size_t(k.cw) * sizeof(float));
        }
    };
    auto block = [&](LayerState& l, int64_t rows_end) {
        kv_rows(l.ring, ring_first(rows_end, l.ring.capacity()), rows_end, true);
        if (l.ratio > 0) {
            carry_rows(l.compressor);
            kv_rows(*l.compressor.entries, 0, p / l.ratio, false);
        }
        if (l.ratio == 4) {
            carry_rows(l.index_compressor);
            IndexKeys& keys = *l.index_compressor.index_keys;
            for (int64_t b = 0; b < p / 4; ++b) {
                visit(keys.packed(b), size_t(keys.dim() / 2));
                visit(keys.scales(b), size_t(keys.dim() / 32));
            }
        }
    };
    for (LayerState& l : st.layers) block(l, p);
    // The MTP block has seen positions up to p - 2 (it needs the next token).
    if (st.has_mtp) block(st.mtp, std::max<int64_t>(0, p - 1));
}

// Payload bytes for a session of this model at `position`, by the same walk
// over a state-shaped counter (no allocation of the tables' contents).
uint64_t payload_bytes(const ModelConfig& c, int64_t p) {
    const uint64_t f = sizeof(float), row = kv_row_bytes(c.head_dim, c.rope_head_dim),
                   key = index_key_bytes(c.index_head_dim);
    const uint64_t ring = uint64_t(c.sliding_window + kTruncateSlack);
    auto in_ring = [](int64_t end, uint64_t cap) { return uint64_t(std::min<int64_t>(end, int64_t(cap))); };
    uint64_t b = uint64_t(p) * 4 + (p > 0 ? uint64_t(c.vocab_size) * f : 0);
    b += in_ring(p, kTruncateSlack + 1) * uint64_t(c.hc_mult) * uint64_t(c.hidden_size) * f;
    auto block = [&](int R, int64_t rows_end) {
        b += in_ring(rows_end, ring) * row;
        auto carry = [&](int ratio, int width) {
            const uint64_t cw = uint64_t(ratio == 4 ? 2 : 1) * uint64_t(width);
            const uint64_t k = uint64_t((ratio == 4 ? 2 * ratio : ratio) + kTruncateSlack);
            b += in_ring(p, k) * 2 * cw * f;
        };
        if (R > 0) {
            carry(R, c.head_dim);
            b += uint64_t(p / R) * row;
        }
        if (R == 4) {
            carry(4, c.index_head_dim);
            b += uint64_t(p / 4) * key;
        }
    };
    for (int l = 0; l < c.n_layers; ++l) block(c.ratio(l), p);
    if (c.n_mtp_layers > 0) block(c.ratio(c.n_layers), std::max<int64_t>(0, p - 1));
    return b;
}

}  // namespace

uint64_t Session::snapshot_size() const {
    return sizeof(Header) + payload_bytes(model_.config(), state_.position) + sizeof(uint32_t);
}

void Session::write_snapshot(ByteSink& out) const {
    const ModelConfig& c = model_.config();
    const int64_t p = state_.position;
    const uint64_t payload = payload_bytes(c, p);
    const Header h = make_header(c, model_.fingerprint(), opts_.n_ctx, p, payload);
    // The snapshot holds the MTP ring up to p - 1, as it always has: fill in
    // what decoding left out (state a draft would compute anyway; the
    // session's observable behaviour does not change).
    const_cast<Session*>(this)->catch_up_mtp();
    out.write(&h, sizeof h);
    // The walk takes mutable references (it is shared with the reader); it
    // only reads here.
    auto& st = const_cast<SessionState&>(state_);
    auto& tokens = const_cast<std::vector<int32_t>&>(state_.tokens);
    auto& logits = const_cast<std::vector<float>&>(logits_);
    const uint64_t before = out.bytes();
    visit_payload(st, tokens, logits, p, [&](const void* data, size_t n) { out.write(data, n); });
    if (out.bytes() - before != payload)
        fail(DSV4_STATUS_INTERNAL, "session snapshot: wrote " + std::to_string(out.bytes() - before) +
                                       " payload bytes, expected " + std::to_string(payload));
    const uint32_t crc = out.crc();
    out.write(&crc, sizeof crc);
}

void Session::read_snapshot(ByteSource& in) {
    const ModelConfig& c = model_.config();
    const std::string& what = in.origin();
    if (in.remaining() < sizeof(Header))
        fail(DSV4_STATUS_FORMAT,
             what + " is truncated: " + std::to_string(in.remaining()) + " bytes, less than its header");
    Header h;
    in.read(&h, sizeof h);
    if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0)
        fail(DSV4_STATUS_FORMAT, what + " is not a dsv4 session snapshot (bad magic)");
    if (h.version != kSnapshotVersion)
        fail(DSV4_STATUS_FORMAT, what + " has format version " + std::to_string(h.version) +
                                     "; this library reads version " + std::to_string(kSnapshotVersion));
    if (h.byte_order != kByteOrderMark)
        fail(DSV4_STATUS_FORMAT, what + " was written on a machine of another byte order");
    if (h.fingerprint != model_.fingerprint())
        fail(DSV4_STATUS_FORMAT, what + " was written by another model (fingerprint " + std::to_string(h.fingerprint) +
                                     ", this model's is " + std::to_string(model_.fingerprint()) + ")");
    const Header want = make_header(c, model_.fingerprint(), 0, 0, 0);
    if (h.blocks != want.blocks || h.slack != want.slack || h.window != want.window || h.head_dim != want.head_dim ||
        h.rope_head_dim != want.rope_head_dim || h.index_head_dim != want.index_head_dim ||
        h.stream_width != want.stream_width || h.vocab != want.vocab)
        fail(DSV4_STATUS_FORMAT, what + ": its state shape does not match this model's");
    if (h.position > opts_.n_ctx)
        fail(DSV4_STATUS_INVALID_ARGUMENT, what + " holds " + std::to_string(h.position) +
                                               " tokens, more than this session's n_ctx of " +
                                               std::to_string(opts_.n_ctx));
    const int64_t p = int64_t(h.position);
    const uint64_t payload = payload_bytes(c, p);
    if (h.payload_bytes != payload)
        fail(DSV4_STATUS_FORMAT, what + ": its header gives " + std::to_string(h.payload_bytes) + " payload bytes, " +
                                     std::to_string(payload) + " expected for " + std::to_string(p) + " tokens");
    if (in.remaining() != payload + sizeof(uint32_t))
        fail(DSV4_STATUS_FORMAT, what + " is " +
                                     (in.remaining() < payload + 4 ? "truncated" : "followed by extra bytes") + ": " +
                                     std::to_string(in.bytes() + in.remaining()) + " bytes, expected " +
                                     std::to_string(sizeof(Header) + payload + 4));

    SessionState fresh(c, opts_.n_ctx);
    fresh.tokens.resize(size_t(p));
    std::vector<float> logits(logits_.size());
    visit_payload(fresh, fresh.tokens, logits, p, [&](void* data, size_t n) { in.read(data, n); });
    const uint32_t computed = in.crc();
    uint32_t stored = 0;
    in.read(&stored, sizeof stored);
    if (stored != computed) fail(DSV4_STATUS_FORMAT, what + " is corrupted (checksum mismatch)");
    for (size_t i = 0; i < fresh.tokens.size(); ++i)
        if (fresh.tokens[i] < 0 || fresh.tokens[i] >= c.vocab_size)
            fail(DSV4_STATUS_FORMAT, what + ": token " + std::to_string(i) + " has id " +
                                         std::to_string(fresh.tokens[i]) + ", out of range");
    fresh.position = p;
    fresh.written = p;
    fresh.mtp_keys = std::max<int64_t>(0, p - 1);
    state_ = std::move(fresh);
    logits_ = std::move(logits);
    logits_position_ = p;
    recent_rows_ = 0;
}

}  // namespace dsv4
