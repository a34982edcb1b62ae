// Running a golden conformance vector (golden/NAME/golden.npz) through the C
// API on one backend and comparing every logits row.
#pragma once

#include <string>

struct GoldenResult {
    double max_prefill = 0, max_decode = 0, max_mtp = 0;  // max-abs errors seen
    int rows = 0;                                         // rows compared
};

// Checks (with Catch2 assertions) every prefill row, decode row and the MTP
// row of `golden_dir` on `backend`: max-abs <= tol and identical argmax.
GoldenResult check_golden(const std::string& golden_dir, const char* backend, double tol = 1e-3);

// Max-abs difference of two rows and whether their argmax agrees.
struct RowDiff {
    double max_abs = 0;
    bool same_argmax = true;
};
RowDiff compare_rows(const float* a, const float* b, size_t n);
