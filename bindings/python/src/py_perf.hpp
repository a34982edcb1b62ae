// The machine probes behind `dsv4 bench`'s rooflines (dsv4_measure_*) and the cpu backend's
// instruction set, as module functions; each probe runs with the GIL released.
#pragma once

#include <pybind11/pybind11.h>

namespace dsv4py {

void bind_perf(pybind11::module_& m);

}  // namespace dsv4py
