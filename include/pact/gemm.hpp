#pragma once
// GEMM: pact::gemm, pre-packed weights, fixed-size, batched and grouped products.
#include "pact/gemm/gemm.hpp"
