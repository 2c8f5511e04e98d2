#pragma once
// Mixture of experts: routing policies, dispatch/combine, grouped expert FFN, load
// statistics and the whole layer (docs/moe.md).
#include "pact/moe/routing_policies.hpp"
#include "pact/moe/route.hpp"
#include "pact/moe/dispatch.hpp"
#include "pact/moe/expert_weights.hpp"
#include "pact/moe/expert_ffn.hpp"
#include "pact/moe/combine.hpp"
#include "pact/moe/statistics.hpp"
#include "pact/moe/layer.hpp"
