#pragma once
// GEMM: pact::gemm, pre-packed weights, fixed-size, batched and grouped products.
#include "pact/gemm/gemm.hpp"
#include "pact/gemm/prepacked.hpp"
#include "pact/gemm/fixed_size.hpp"
#include "pact/gemm/batched.hpp"
