// The source that owns the test executables' precompiled header (tests/CMakeLists.txt,
// PACT_TEST_PCH): CMake builds the PCH as part of this object library, and every test
// target reuses it.
