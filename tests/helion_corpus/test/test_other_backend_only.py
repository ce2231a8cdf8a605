"""Not in the runner's list of language test files: set apart, never run."""
raise AssertionError("the runner must not run this file")
