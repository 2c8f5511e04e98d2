#pragma once
// pact: Portable AI Compute Templates. The umbrella header; include the per-op headers
// (pact/gemm.hpp, ...) instead to keep compile times down.
#include "pact/version.hpp"
#include "pact/simd/simd.hpp"
#include "pact/types/types.hpp"
#include "pact/core/core.hpp"
#include "pact/gemm.hpp"
#include "pact/quant.hpp"
#include "pact/attention.hpp"
#include "pact/moe.hpp"
#include "pact/moe/quantized_expert_weights.hpp"
