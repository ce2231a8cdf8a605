// deuteron's C++ runtime: load Triton-compiled cubins and launch them through
// the CUDA driver API, with no Python and no libtorch.  See README.md.
#pragma once

#include "deuteron_runtime/cuda_driver.h"
#include "deuteron_runtime/cuda_types.h"
#include "deuteron_runtime/kernel.h"
#include "deuteron_runtime/scratch.h"
#include "deuteron_runtime/status.h"
