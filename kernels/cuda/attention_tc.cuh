// attention_tc.cuh — internal: the tensor-core (mma.sync) flash-attention kernels of
// attention_tc.cu, used by attention.cu for bf16/fp16 with head_dim a multiple of 4 up to 128.
#pragma once

#include "kernels/cuda/common.cuh"

#include <initializer_list>

namespace llmplan::kernels::cuda {

// True when the tensor-core path applies: 16-bit storage, head_dim a multiple of 4 up to 128,
// every tensor 16-byte aligned (8-byte when head_dim is not a multiple of 8: the tiles' rows are
// then copied 8 bytes at a time).
bool flash_tc_supported(DType dt, int d, std::initializer_list<const void*> tensors);
// window > 0: sliding-window causal attention, query i sees keys i − window < j ≤ i (ops.cuh).
void flash_tc_forward(Context& ctx, const void* q, const void* k, const void* v, void* out, float* lse, int B, int S,
                      int heads, int kv_heads, int d, DType dt, float scale, int window);
// D = rowsum(dout∘out) [B,heads,S] computed beforehand.
void flash_tc_backward(Context& ctx, const void* q, const void* k, const void* v, const float* lse, const float* D,
                       const void* dout, void* dq, void* dk, void* dv, int B, int S, int heads, int kv_heads, int d, DType dt,
                       float scale, int window);

}  // namespace llmplan::kernels::cuda
