#pragma once
// Chooses the kernel for a validated problem and runs it on the executor: the decode
// kernel when a KV head serves few query rows (g * Sq <= decode_max_rows), the flash
// prefill kernel otherwise; then merges kv splits.
#include "pact/attention/decode_kernel.hpp"
#include "pact/attention/flash_driver.hpp"

PACT_NAMESPACE_BEGIN
namespace attention_detail {

template <class A, index_t D, class QT, class KS, class VS, class OT, class E>
void run_flash(problem& p, index_t block_q, index_t block_kv, tensor_view<const QT, 4> q, const KS& ks, const VS& vs,
               tensor_view<OT, 4> o, const E& exec) {
  aligned_buffer<float> part_buf;
  split_store parts;
  if (p.splits > 1) {
    parts.stride = p.dim + 2;
    part_buf.resize(static_cast<std::size_t>(p.batch * p.hq * p.sq * p.splits * parts.stride));
    parts.data = part_buf.data();
  }
  if (p.group * p.sq <= decode_max_rows) {
    const decode_runner<A, D, QT, KS, VS, OT> runner{p, q, ks, vs, o, parts, block_kv};
    exec.parallel_for(runner.items(), [&](index_t i) { runner.run(i); });
  } else {
    plan_blocks(p, block_q, block_kv, micro_shape<A>::chunk);
    p.blocks_per_pass = std::min(p.blocks_per_pass, max_blocks_per_pass);
    p.passes = ceil_div(p.head_blocks, p.blocks_per_pass);
    const flash_item_runner<A, D, QT, KS, VS, OT> runner{p, q, ks, vs, o, parts, block_q, block_kv};
    exec.parallel_for(runner.items(), [&](index_t i) { runner.run(i); });
  }
  if (p.splits > 1) exec.parallel_for(p.batch * p.hq * p.sq, [&](index_t r) { merge_splits(p, parts, o, r); });
}

}  // namespace attention_detail
PACT_NAMESPACE_END
