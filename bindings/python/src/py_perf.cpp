#include "py_perf.hpp"

#include <string>

#include "capi.hpp"

namespace py = pybind11;

namespace dsv4py {

namespace {

// "bf16", "fp8" or "fp4" as a dsv4_weight_format.
dsv4_weight_format weight_format(const std::string& name) {
    for (int f = 0; f < DSV4_WEIGHT_FORMAT_COUNT; ++f)
        if (name == weight_format_name(dsv4_weight_format(f))) return dsv4_weight_format(f);
    invalid("weight format '" + name + "' is not 'bf16', 'fp8' or 'fp4'");
}

// Thread counts as the C ABI takes them (int); larger Python ints are refused here, before
// they could wrap.
int threads_arg(long long threads) {
    if (threads < 0 || threads > (1 << 20)) invalid("threads must be >= 0, got " + std::to_string(threads));
    return int(threads);
}

// Runs a probe (call(&result) -> status) with the GIL released: a probe takes a second or more.
template <class Call>
double run_probe(const Call& call) {
    double out = 0;
    dsv4_status st;
    {
        py::gil_scoped_release nogil;
        st = call(&out);
    }
    check(st);
    return out;
}

double read_bandwidth(long long threads, uint64_t buffer_bytes) {
    const int n = threads_arg(threads);
    return run_probe([&](double* out) { return dsv4_measure_read_bandwidth(n, buffer_bytes, out); });
}

double gemm_peak(long long threads, int m, int n, int k) {
    const int t = threads_arg(threads);
    return run_probe([&](double* out) { return dsv4_measure_gemm_peak(t, m, n, k, out); });
}

double decode_kernel(const std::string& format, long long threads) {
    const dsv4_weight_format f = weight_format(format);
    const int t = threads_arg(threads);
    return run_probe([&](double* out) { return dsv4_measure_decode_kernel(t, f, out); });
}

}  // namespace

void bind_perf(py::module_& m) {
    m.def("cpu_isa", [] { return std::string(dsv4_cpu_isa()); });
    m.def("measure_read_bandwidth", &read_bandwidth, py::arg("threads") = 0, py::arg("buffer_bytes") = 0);
    m.def("measure_gemm_peak", &gemm_peak, py::arg("threads") = 0, py::arg("m") = 0, py::arg("n") = 0,
          py::arg("k") = 0);
    m.def("measure_decode_kernel", &decode_kernel, py::arg("format"), py::arg("threads") = 0);
}

}  // namespace dsv4py
