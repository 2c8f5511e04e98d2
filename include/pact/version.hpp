#pragma once
// pact's version, read by CMakeLists.txt (keep the three lines in this form).
#define PACT_VERSION_MAJOR 0
#define PACT_VERSION_MINOR 1
#define PACT_VERSION_PATCH 0
#define PACT_VERSION_STRING "0.1.0"
