// Reading the tile IR's text form back into kernels.
//
// The text is what ir::print writes (`deuteronc --dump=ir`, `--dump=ir-after=
// <stage>`): one or more kernels, each a header, its tensors, scalars and dims,
// its grid, then its ops, nested regions indented two more spaces per level.
// parse then print gives the same text, so a pass can be run on IR written by
// hand or cut from a dump (`deuteronc --run-pass=NAME file.ir`).
//
// Besides what print writes, the parser skips blank lines and full-line
// comments (lines whose first non-blank character is `#`), so that test files
// can carry RUN lines and explanations.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deuteron/diagnostic.h"
#include "deuteron/ir.h"

namespace deuteron::ir {

// Where each kernel and op was in the text (the whole line), so that later
// errors about them (ir::verify's) can point there.
struct TextLocations {
  std::map<const DeviceKernel*, SourceSpan> kernels;
  std::map<const Op*, SourceSpan> ops;
};

// Parses every kernel of `file`.  Malformed text (a syntax error, an
// undefined value or dim, a value defined twice, a wrong operand count for an
// op) throws CompileError pointing at its line and column.  The kernels are
// not verified: run ir::verify for the structural checks.
std::vector<std::unique_ptr<DeviceKernel>> parse_kernels(const std::shared_ptr<const SourceFile>& file,
                                                         TextLocations* locations = nullptr);

// Convenience for tests: parses `text` as a file named `filename`.
std::vector<std::unique_ptr<DeviceKernel>> parse_kernels(const std::string& text,
                                                         const std::string& filename = "<ir>");

}  // namespace deuteron::ir
