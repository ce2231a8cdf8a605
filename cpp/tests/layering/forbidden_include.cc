// A fixture for the ctest `layering_rejects_a_forbidden_include`: checked as
// a file of the `passes` component, whose declared dependencies (ir,
// analysis, target, support) do not include the config or sema, the two
// includes below must make the layering check fail.  Never compiled.
#include "deuteron/passes.h"
#include "deuteron/config.h"
#include "deuteron/sema.h"
