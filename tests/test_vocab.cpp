// test_vocab.cpp — the shared vocabulary of core/vocab.h: storage types and memory books.
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

TEST_CASE("memory books: six categories in report order, four phases", "[vocab]") {
    const char* names[] = {"parameters", "gradients", "optimizer", "activations", "logits", "workspace"};
    REQUIRE(kMemoryCategories == 6);
    for (int i = 0; i < kMemoryCategories; ++i) CHECK(std::string(to_string(static_cast<MemoryCategory>(i))) == names[i]);
    CHECK(std::string(to_string(MemoryCategory::logits)) == "logits");
    CHECK(std::string(to_string(MemoryPhase::idle)) == "idle");
    CHECK(std::string(to_string(MemoryPhase::optimizer)) == "optimizer");
}
