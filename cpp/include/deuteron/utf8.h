// UTF-8 encoding, shared by the Python front end (string escapes) and the
// JSON reader (\u escapes).
#pragma once

#include <cstdint>
#include <string>

namespace deuteron {

// Appends code point cp (at most 0x10FFFF) to out as UTF-8.
void append_utf8(std::string& out, uint32_t cp);

}  // namespace deuteron
