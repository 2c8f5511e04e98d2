#pragma once
// pact's SIMD layer: the only place that knows instruction sets. Kernels use these ops on
// vec<T, A> registers and never call intrinsics or xsimd directly.
#include "pact/simd/target.hpp"
#include "pact/simd/arch.hpp"
#include "pact/simd/vec.hpp"
#include "pact/simd/ops_memory.hpp"
#include "pact/simd/ops_arith.hpp"
#include "pact/simd/ops_bits.hpp"
#include "pact/simd/ops_exp.hpp"
#include "pact/simd/ops_math.hpp"
#include "pact/simd/ops_int8.hpp"
#include "pact/simd/ops_int4.hpp"
#include "pact/simd/ops_convert.hpp"
#include "pact/simd/ops_quant.hpp"
#include "pact/simd/ops_subbyte.hpp"
#include "pact/simd/ops_int8_pack.hpp"
#include "pact/simd/ops_int8_gemv.hpp"
#include "pact/simd/ops_kv.hpp"
