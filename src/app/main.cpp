#include "huginn/app/cli.hpp"

int main(int argc, char** argv) { return huginn::app::run_cli(argc, argv); }
