#pragma once
// pact's quantized formats: storage layouts, quantizers and dequantizers, and the checked
// loader for untrusted bytes. See docs/quant.md.
#include <pact/quant/formats.hpp>
#include <pact/quant/fp8_blockwise.hpp>
#include <pact/quant/ggml.hpp>
#include <pact/quant/int8.hpp>
#include <pact/quant/mx.hpp>
#include <pact/quant/untrusted.hpp>
// Quantized compute kernels (docs/quant.md, "Quantized kernels").
#include <pact/quant/gemm_dequant.hpp>
#include <pact/quant/gemm_fp8.hpp>
#include <pact/quant/gemm_q.hpp>
#include <pact/quant/gemv_q.hpp>
#include <pact/quant/gemv_fp8.hpp>
#include <pact/quant/int8_gemm.hpp>
