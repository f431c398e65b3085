// catch_main.cpp — the Catch2 (v2) runner shared by every unit-test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
