// kernel_table.h — measured kernel throughput of one GPU (schema "llmplan.kernel-tables/1", written by
// validation/kernels/measure_kernels.py): GEMMs by input format and (m, n, k), fused attention
// forward/backward by backend, sequence, head dim, causal mask and GQA ratio, memory-bound kernels
// by bytes. The time model reads the GPU's rates from it where the catalog row names a table
// (GpuSpec::kernel_table) or the user passes one (--kernel-table FILE); docs/PERFORMANCE_MODEL.md §2.
//
// Lookups interpolate in log space, coordinates log2 of the sizes, clamped to the range the table
// measured (each clamped coordinate is reported):
//  * GEMM rows are scattered in (m, n, k): the value is the inverse-distance-squared weighted mean
//    of the kKernelTableNeighbours nearest measured points in (log2 m, log2 n, log2 k) (Shepard 1968,
//    "modified" to the nearest points); exact at a measured point (rows of one point are averaged);
//  * attention rows lie on lines of sequence length for each (head_dim, GQA ratio): linear in
//    log2(seq) along each line (clamped to that line's range), then linear in log2(head_dim), then
//    in log2(GQA ratio) between the measured lines;
//  * memory-bound rows: linear in log2(bytes) for the op asked.
#pragma once

#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmplan {

inline constexpr const char* kKernelTableSchema = "llmplan.kernel-tables/1";
inline constexpr int kKernelTableNeighbours = 4;

struct KernelGemmRow {
    std::string dtype;  // "bf16", "fp16", "tf32", "fp32", "fp8_e4m3"
    double m = 0, n = 0, k = 0;
    double tflops = 0;  // 2·m·n·k per second, 1e12
};
struct KernelAttentionRow {
    std::string backend;  // "flash_attention" (SDPA's FlashAttention-2), "cudnn_attention"
    double seq = 0, heads = 0, kv_heads = 0, head_dim = 0;
    bool causal = true;
    double fwd_tflops = 0, bwd_tflops = 0;  // FlashAttention-2 FLOP counts (causal halved; backward 2.5 × forward)
};
struct KernelMemoryRow {
    std::string op;  // "copy", "add", "cast_bf16_fp32", "layer_norm", "rms_norm"
    double bytes = 0;  // the input tensor's size
    double gbps = 0;   // bytes moved (read + written) per second, 1e9
};

struct KernelTable {
    std::string name;    // the built-in table's key ("h200") or the file it was read from
    std::string device;  // meta.device, as the script recorded it
    std::string date;    // meta.date_utc
    std::vector<KernelGemmRow> gemm;
    std::vector<KernelAttentionRow> attention;
    std::vector<KernelMemoryRow> memory_bound;
    // Nonzero: this table's rows do not change after it was made (parse_kernel_table and
    // merge_kernel_tables give each table they make its own number), so gemm_tflops,
    // attention_tflops and memory_gbps may remember a lookup's result by it. 0 (a table built or
    // changed by hand): every lookup is computed.
    std::uint64_t lookup_cache_id = 0;
};

// Parses a table; throws InputError "WHAT: KEY ..." naming the key (e.g. `gemm[3].tflops`) for a
// wrong schema, a missing or non-positive number, or an empty table.
KernelTable parse_kernel_table(const std::string& json_text, const std::string& what);
// The table read from a file (--kernel-table): core/file's reader, then parse_kernel_table.
KernelTable read_kernel_table(const std::string& path, const std::string& flag);

// The tables compiled in (validation/kernels/kernel_tables_<key>.json), by key; nullptr if none.
const KernelTable* builtin_kernel_table(std::string_view key);
// The keys of the compiled-in tables, sorted.
std::vector<std::string> builtin_kernel_table_keys();

// `base` with the rows of `over` put in place of base's rows of the same dtype (GEMM), backend
// (attention) and op (memory-bound); the rest of base kept. The name is over's.
KernelTable merge_kernel_tables(const KernelTable& base, const KernelTable& over);

// One lookup's result: 0 when the table has no row for the dtype / backend.
struct KernelLookup {
    double value = 0;       // TFLOP/s (GEMM, attention) or GB/s (memory-bound)
    double backward = 0;    // attention only: the backward's TFLOP/s
    std::string clamped;    // "" or which coordinates lay outside the measured range, e.g. "n 64 → 128"
};

KernelLookup gemm_tflops(const KernelTable& t, std::string_view dtype, double m, double n, double k);
// Attention of `heads` query heads over `kv_heads` KV heads: the rows of the backend and mask (the
// other mask's rows when the table has none of this one) at (seq, head_dim, heads ÷ kv_heads).
KernelLookup attention_tflops(const KernelTable& t, std::string_view backend, double seq, double head_dim, bool causal,
                              double gqa_ratio);
// The bandwidth of memory-bound op `op` at a tensor of `bytes`: linear in log2(bytes) between the
// op's rows (0: no rows of the op).
KernelLookup memory_gbps(const KernelTable& t, std::string_view op, double bytes);

}  // namespace llmplan
