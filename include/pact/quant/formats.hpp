#pragma once
// Every quantized storage format pact knows (layouts only; quantizers live next door).
#include <pact/quant/formats/fp8_block_scaled.hpp>
#include <pact/quant/formats/ggml_blocks.hpp>
#include <pact/quant/formats/int8_matrix.hpp>
#include <pact/quant/formats/mx_blocks.hpp>
#include <pact/types/fp6.hpp>
