// test_derive.cpp — `--params N` without a model: the documented shape rule.
#include "core/derive.h"

#include "core/error.h"

#include <catch2/catch.hpp>

#include <cmath>

using namespace llmplan;

TEST_CASE("7B derives Llama-2-7B's shape", "[derive][golden]") {
    const ModelSpec m = derive_shape(7'000'000'000);
    CHECK(m.n_layers == 32);
    CHECK(m.d_model == 4096);
    CHECK(m.n_heads == 32);
    CHECK(m.head_dim == 128);
    CHECK(m.d_ff == 11008);
    CHECK(m.vocab_size == 32000);
    CHECK_FALSE(m.tied_embeddings);
    CHECK(count_params(m).total() == 6738415616);  // Llama-2-7B exactly
}

TEST_CASE("derived shapes stay within 10% and follow the constraints", "[derive]") {
    for (double n : {1e7, 5e7, 1.24e8, 3.5e8, 1e9, 3e9, 1.3e10, 3.4e10, 7e10, 1.75e11, 4.05e11, 1e12, 1e13}) {
        const ModelSpec m = derive_shape(static_cast<std::int64_t>(n));
        INFO(n);
        const double got = static_cast<double>(count_params(m).total());
        CHECK(std::abs(got / n - 1) <= 0.10);
        CHECK(m.d_model == m.n_heads * m.head_dim);
        CHECK(m.d_ff % 256 == 0);
        CHECK(m.d_ff >= 8 * m.d_model / 3);
        CHECK_NOTHROW(validate_model(m, "derived"));
    }
    // 70B: 68 layers of 9216 (72 heads), 69.9B.
    const ModelSpec big = derive_shape(70'000'000'000);
    CHECK(big.d_model == 9216);
    CHECK(big.n_layers == 68);
}

TEST_CASE("derive_shape refuses counts it cannot shape", "[derive][errors]") {
    CHECK_THROWS_WITH(derive_shape(1000), Catch::Contains("--params: 1,000 parameters is outside the range"));
    CHECK_THROWS_AS(derive_shape(50'000'000'000'000), InputError);
}
