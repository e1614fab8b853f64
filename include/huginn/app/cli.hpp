#pragma once
// Command-line front end: parses argv, runs `analyze` or `serve`, and turns
// every start-up failure into one clear line on stderr and a non-zero exit.
namespace huginn::app {

// Returns the process exit code; never throws.
int run_cli(int argc, char** argv);

}  // namespace huginn::app
