// deuteron._core.NativeLauncher: launches a Triton-compiled kernel from
// Python through the C++ runtime (cpp/runtime), bypassing Triton's per-call
// Python path.  See native_launcher.cc.
#pragma once

#include <nanobind/nanobind.h>

// Adds NativeLauncher (and a test hook that points the runtime at another
// libcuda) to the module.
void bind_native_launcher(nanobind::module_& m);
