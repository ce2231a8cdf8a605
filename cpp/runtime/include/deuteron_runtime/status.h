// Status: the outcome of a runtime call.
//
// The runtime never throws: it is meant to sit behind a C ABI, a Python
// binding or a user's C++ program alike, and exceptions do not cross those
// boundaries safely.  Every fallible call returns a Status whose message says
// what was being done and, for driver failures, the driver's error name and
// description.
#pragma once

#include <string>
#include <utility>

namespace deuteron::runtime {

enum class StatusCode : int {
  kOk = 0,
  kDriverNotFound,   // libcuda could not be loaded or lacks a required entry point
  kDriverError,      // a driver call failed; Status::cu_result holds its CUresult
  kInvalidArgument,  // the caller passed something the runtime cannot launch
  kUnsupported,      // the kernel needs a feature this runtime does not provide
};

struct [[nodiscard]] Status {
  StatusCode code = StatusCode::kOk;
  int cu_result = 0;  // the CUresult of a failed driver call (kDriverError only)
  std::string message;

  bool ok() const { return code == StatusCode::kOk; }

  static Status Ok() { return {}; }
  static Status Error(StatusCode code, std::string message, int cu_result = 0) {
    Status s;
    s.code = code;
    s.cu_result = cu_result;
    s.message = std::move(message);
    return s;
  }
};

// Name of a status code ("ok", "driver not found", ...), for messages and tests.
const char* to_string(StatusCode code);

}  // namespace deuteron::runtime
