// deuteronc's --run-pass mode (run_pass_tool.cc).
#pragma once

// Whether argv asks for --run-pass.
bool wants_run_pass(int argc, char** argv);
// deuteronc --run-pass=NAME[,NAME..] [--block-sizes=..] [--reduction-loops=..] [--subtiles=N] FILE.ir
int run_pass_main(int argc, char** argv);
