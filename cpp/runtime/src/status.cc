// Names of status codes.
#include "deuteron_runtime/status.h"

namespace deuteron::runtime {

const char* to_string(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kDriverNotFound: return "driver not found";
    case StatusCode::kDriverError: return "driver error";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kUnsupported: return "unsupported";
  }
  return "unknown";
}

}  // namespace deuteron::runtime
