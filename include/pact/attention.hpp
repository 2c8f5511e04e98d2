#pragma once
// Attention: flash attention (prefill and flash-decoding), GQA/MQA, masks and logit
// variants, bf16/fp16 inputs, int8 / FP8 E4M3 / Q8_0 KV caches, and MLA decode
// (attention/mla.hpp). See docs/attention.md.
#include "pact/attention/flash_attention.hpp"
#include "pact/attention/mla.hpp"
#include "pact/attention/varlen.hpp"
