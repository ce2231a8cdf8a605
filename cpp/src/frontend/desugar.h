// Rewrites the parser applies to Python forms that the rest of the compiler
// never sees: a for loop's `else` clause (a while loop's is an error, as in
// Helion), assignment expressions
// (`name := value`) and `global`/`nonlocal` declarations.  The AST after
// parsing holds only plain statements (docs/language.md, "Statements").
#pragma once

#include <string>

#include "deuteron/ast.h"

namespace deuteron::desugar {

// `name = value`, one target.
ast::StmtPtr make_assign(const std::string& name, SourceSpan name_span, ast::ExprPtr value, SourceSpan span);
// A True/False constant.
ast::ExprPtr make_bool(bool value, SourceSpan span);

// Whether the loop whose body this is has a `break` (one in a nested loop
// or function belongs to that loop, not this one).
bool has_break(const ast::Body& body);

// Puts `flag = True` before every `break` of the loop whose body this is:
// a loop with `else` runs the clause after the loop when the flag is still
// False (the loop ended without `break`).
void set_flag_before_breaks(ast::Body& body, const std::string& flag);

// The first statement of `body` (nested blocks included, nested functions
// and comprehensions' own variables not) that binds `name`: an assignment
// target, an augmented or annotated assignment, a for loop's target.
const ast::Stmt* find_binding(const ast::Body& body, const std::string& name);

}  // namespace deuteron::desugar
