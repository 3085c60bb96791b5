// SPDX-License-Identifier: Apache-2.0
// heraldctl: SRE command line for a herald node; all logic is in ctl.cpp and the
// *_command.cpp files.
#include "tools/heraldctl/ctl.hpp"

int main(int argc, char** argv) {
  return herald::ctl::run_cli(argc, argv);
}
