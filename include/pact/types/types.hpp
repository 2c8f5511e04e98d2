#pragma once
// All of pact's low-precision element types: storage structs and exact scalar conversions.
// Each header can also be included on its own.

#include <pact/types/bf16.hpp>
#include <pact/types/e8m0.hpp>
#include <pact/types/fp16.hpp>
#include <pact/types/fp4.hpp>
#include <pact/types/fp6.hpp>
#include <pact/types/fp8.hpp>
#include <pact/types/int4.hpp>
