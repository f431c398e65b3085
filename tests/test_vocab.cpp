// test_vocab.cpp — the shared vocabulary of core/vocab.h: storage types, the job's precision,
// recompute and attention modes, collectives, memory books.
#include "core/vocab.h"

#include <catch2/catch.hpp>

#include <string>

using namespace llmplan;

TEST_CASE("storage types: one table of names, sizes and nccl-tests' names", "[vocab]") {
    CHECK(dtype_bytes(DType::fp32) == 4);
    CHECK(dtype_bytes(DType::bf16) == 2);
    CHECK(dtype_bytes(DType::fp16) == 2);
    CHECK(std::string(to_string(DType::bf16)) == "bf16");
    CHECK(std::string(traits(DType::fp32).nccl_name) == "float");
    CHECK(std::string(traits(DType::bf16).nccl_name) == "bfloat16");
    CHECK(std::string(traits(DType::fp16).nccl_name) == "half");
    for (const DTypeTraits& t : kDTypes) CHECK(parse_dtype(t.name) == t.type);
    CHECK_FALSE(parse_dtype("fp8").has_value());
    CHECK_FALSE(parse_dtype("FP32").has_value());  // calibration files spell them exactly
    CHECK_FALSE(parse_dtype("float").has_value());
}

TEST_CASE("the job's words: precision, recompute and attention spelled as their flags", "[vocab]") {
    const char* precisions[] = {"fp32", "amp-bf16", "amp-fp16", "mixed-bf16", "mixed-fp16", "bf16", "fp8"};
    for (int i = 0; i < 7; ++i) CHECK(std::string(to_string(static_cast<Precision>(i))) == precisions[i]);
    CHECK(std::string(to_string(Precision::mixed_bf16)) == "mixed-bf16");
    CHECK(std::string(to_string(Recompute::none)) == "none");
    CHECK(std::string(to_string(Recompute::selective)) == "selective");
    CHECK(std::string(to_string(Recompute::full)) == "full");
    CHECK(std::string(to_string(Attention::flash)) == "flash");
    CHECK(std::string(to_string(Attention::eager)) == "eager");
}

TEST_CASE("collectives: one table of report and nccl-tests names, and the bus-bandwidth factor", "[vocab]") {
    for (std::size_t i = 0; i < kCollectives.size(); ++i) CHECK(static_cast<std::size_t>(kCollectives[i].kind) == i);
    CHECK(std::string(to_string(Collective::all_reduce)) == "all-reduce");
    CHECK(std::string(nccl_name(Collective::all_reduce)) == "all_reduce");
    CHECK(std::string(to_string(Collective::reduce_scatter)) == "reduce-scatter");
    CHECK(std::string(nccl_name(Collective::reduce_scatter)) == "reduce_scatter");
    CHECK(std::string(to_string(Collective::send_recv)) == "send/recv");
    // nccl-tests doc/PERFORMANCE.md: 2(n−1)/n, (n−1)/n, 1; nothing crosses a link for n = 1.
    static_assert(busbw_factor(Collective::all_reduce, 8) == 1.75);
    CHECK(busbw_factor(Collective::all_reduce, 1) == 0);
    CHECK(busbw_factor(Collective::all_gather, 4) == 0.75);
    CHECK(busbw_factor(Collective::reduce_scatter, 2) == 0.5);
    CHECK(busbw_factor(Collective::all_to_all, 8) == 0.875);
    CHECK(busbw_factor(Collective::broadcast, 64) == 1);
    CHECK(busbw_factor(Collective::send_recv, 2) == 1);
}

TEST_CASE("memory books: six categories in report order, four phases", "[vocab]") {
    const char* names[] = {"parameters", "gradients", "optimizer", "activations", "logits", "workspace"};
    REQUIRE(kMemoryCategories == 6);
    for (int i = 0; i < kMemoryCategories; ++i) CHECK(std::string(to_string(static_cast<MemoryCategory>(i))) == names[i]);
    CHECK(std::string(to_string(MemoryCategory::logits)) == "logits");
    CHECK(std::string(to_string(MemoryPhase::idle)) == "idle");
    CHECK(std::string(to_string(MemoryPhase::optimizer)) == "optimizer");
}
