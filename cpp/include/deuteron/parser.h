// Parser: tokens -> ast::Module.
//
// Recursive descent over Python's grammar for the subset the kernel language
// accepts (see docs/language.md).  Anything outside the subset (with, try,
// class, import, del, yield, await, decorators other than on the kernel, ...)
// is a CompileError that names the construct and points at it.  Assignment
// expressions, loop `else` clauses and global/nonlocal declarations are
// lowered to plain statements as they are parsed (frontend/desugar.h).
#pragma once

#include <memory>

#include "deuteron/ast.h"
#include "deuteron/diagnostic.h"

namespace deuteron {

// Parses a whole file/kernel text.  Throws CompileError.
std::unique_ptr<ast::Module> parse_module(const std::shared_ptr<const SourceFile>& file);

// Limits that keep the parser safe on hostile input (fuzzing): nesting deeper
// than this is a CompileError, not a stack overflow.
constexpr int kMaxParserNesting = 200;

// No expression tree the parser returns is taller than this (a long chain
// such as `a + b + c + ...` or `x.a.b.c...` grows the tree without nesting in
// the source), so passes that recurse over the AST are stack-safe too.  Their
// recursion is bounded by kMaxAstDepth expression levels plus
// kMaxParserNesting statement blocks.
constexpr int kMaxAstDepth = 500;

}  // namespace deuteron
