// test_model_states.cpp — weights, gradients, master copies and optimizer state per parameter,
// against the ZeRO paper's Fig. 1 and a hand-computed table for every precision × optimizer ×
// ZeRO stage (values in the table were computed by hand from docs/REFERENCES.md §1, not by the code).
#include "planner/model_states.h"

#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <map>
#include <string>

using namespace llmplan;

TEST_CASE("ZeRO paper Fig. 1: 7.5B parameters on 64 GPUs, mixed precision Adam", "[model_states][golden]") {
    // Rajbhandari et al. 2020, Fig. 1: baseline 120 GB, P_os 31.4 GB, P_os+g 16.6 GB, P_os+g+p 1.9 GB.
    const double psi = 7.5e9;
    const double expected[4] = {120e9, 31.40625e9, 16.640625e9, 1.875e9};
    for (int stage = 0; stage <= 3; ++stage) {
        const ModelStateBytes m = model_state_bytes(psi, Precision::mixed_fp16, Optimizer::adam, stage, 64);
        CHECK(m.total() == expected[stage]);
    }
    // The published rounding.
    CHECK(std::round(model_state_bytes(psi, Precision::mixed_fp16, Optimizer::adam, 1, 64).total() / 1e8) / 10 == 31.4);
    CHECK(std::round(model_state_bytes(psi, Precision::mixed_fp16, Optimizer::adam, 2, 64).total() / 1e8) / 10 == 16.6);
    CHECK(std::round(model_state_bytes(psi, Precision::mixed_fp16, Optimizer::adam, 3, 64).total() / 1e8) / 10 == 1.9);
}

TEST_CASE("the 16-byte split: 2 weights + 2 grads + 12 optimizer (master + m + v)", "[model_states][golden]") {
    const ModelStateBytes m = model_state_bytes(1.0, Precision::mixed_bf16, Optimizer::adamw, 0, 1);
    CHECK(m.parameters == 2);
    CHECK(m.gradients == 2);
    CHECK(m.master == 4);
    CHECK(m.optimizer_states == 8);
    CHECK(m.optimizer() == 12);
    // AMP: 4 + 4 + 8, no master (docs/REFERENCES.md §1); pure bf16: 2 + 2 + 4.
    const ModelStateBytes amp = model_state_bytes(1.0, Precision::amp_bf16, Optimizer::adamw, 0, 1);
    CHECK((amp.parameters == 4 && amp.gradients == 4 && amp.master == 0 && amp.optimizer_states == 8));
    const ModelStateBytes pure = model_state_bytes(1.0, Precision::bf16, Optimizer::adamw, 0, 1);
    CHECK((pure.parameters == 2 && pure.gradients == 2 && pure.master == 0 && pure.optimizer_states == 4));
}

TEST_CASE("bytes per parameter for every precision x optimizer x ZeRO stage (dp = 8)", "[model_states][golden]") {
    // {zero0, zero1, zero2, zero3} bytes per parameter per GPU with 8 data-parallel ranks.
    using Row = std::array<double, 4>;
    const std::map<std::string, std::map<std::string, Row>> table = {
        {"fp32", {{"adamw", {16, 9.0, 5.5, 2.0}}, {"adam", {16, 9.0, 5.5, 2.0}}, {"sgd", {8, 8.0, 4.5, 1.0}},
                  {"sgd-momentum", {12, 8.5, 5.0, 1.5}}, {"lion", {12, 8.5, 5.0, 1.5}},
                  {"adamw-8bit", {10.03125, 8.25390625, 4.75390625, 1.25390625}}}},
        {"amp-bf16", {{"adamw", {16, 9.0, 5.5, 2.0}}, {"adam", {16, 9.0, 5.5, 2.0}}, {"sgd", {8, 8.0, 4.5, 1.0}},
                      {"sgd-momentum", {12, 8.5, 5.0, 1.5}}, {"lion", {12, 8.5, 5.0, 1.5}},
                      {"adamw-8bit", {10.03125, 8.25390625, 4.75390625, 1.25390625}}}},
        {"amp-fp16", {{"adamw", {16, 9.0, 5.5, 2.0}}, {"adam", {16, 9.0, 5.5, 2.0}}, {"sgd", {8, 8.0, 4.5, 1.0}},
                      {"sgd-momentum", {12, 8.5, 5.0, 1.5}}, {"lion", {12, 8.5, 5.0, 1.5}},
                      {"adamw-8bit", {10.03125, 8.25390625, 4.75390625, 1.25390625}}}},
        {"mixed-bf16", {{"adamw", {16, 5.5, 3.75, 2.0}}, {"adam", {16, 5.5, 3.75, 2.0}}, {"sgd", {8, 4.5, 2.75, 1.0}},
                        {"sgd-momentum", {12, 5.0, 3.25, 1.5}}, {"lion", {12, 5.0, 3.25, 1.5}},
                        {"adamw-8bit", {10.03125, 4.75390625, 3.00390625, 1.25390625}}}},
        {"mixed-fp16", {{"adamw", {16, 5.5, 3.75, 2.0}}, {"adam", {16, 5.5, 3.75, 2.0}}, {"sgd", {8, 4.5, 2.75, 1.0}},
                        {"sgd-momentum", {12, 5.0, 3.25, 1.5}}, {"lion", {12, 5.0, 3.25, 1.5}},
                        {"adamw-8bit", {10.03125, 4.75390625, 3.00390625, 1.25390625}}}},
        {"bf16", {{"adamw", {8, 4.5, 2.75, 1.0}}, {"adam", {8, 4.5, 2.75, 1.0}}, {"sgd", {4, 4.0, 2.25, 0.5}},
                  {"sgd-momentum", {6, 4.25, 2.5, 0.75}}, {"lion", {6, 4.25, 2.5, 0.75}},
                  {"adamw-8bit", {6.03125, 4.25390625, 2.50390625, 0.75390625}}}},
        {"fp8", {{"adamw", {16, 5.5, 3.75, 2.0}}, {"adam", {16, 5.5, 3.75, 2.0}}, {"sgd", {8, 4.5, 2.75, 1.0}},
                 {"sgd-momentum", {12, 5.0, 3.25, 1.5}}, {"lion", {12, 5.0, 3.25, 1.5}},
                 {"adamw-8bit", {10.03125, 4.75390625, 3.00390625, 1.25390625}}}},
        {"mxfp8", {{"adamw", {16, 5.5, 3.75, 2.0}}, {"adam", {16, 5.5, 3.75, 2.0}}, {"sgd", {8, 4.5, 2.75, 1.0}},
                   {"sgd-momentum", {12, 5.0, 3.25, 1.5}}, {"lion", {12, 5.0, 3.25, 1.5}},
                   {"adamw-8bit", {10.03125, 4.75390625, 3.00390625, 1.25390625}}}},
        // nvfp4: the model states of mixed-bf16 (bf16 weights and grads, fp32 master; the NVFP4
        // copies are step-time buffers, not model states).
        {"nvfp4", {{"adamw", {16, 5.5, 3.75, 2.0}}, {"adam", {16, 5.5, 3.75, 2.0}}, {"sgd", {8, 4.5, 2.75, 1.0}},
                   {"sgd-momentum", {12, 5.0, 3.25, 1.5}}, {"lion", {12, 5.0, 3.25, 1.5}},
                   {"adamw-8bit", {10.03125, 4.75390625, 3.00390625, 1.25390625}}}},
    };
    for (const auto& [precision, rows] : table)
        for (const auto& [optimizer, expected] : rows)
            for (int stage = 0; stage <= 3; ++stage) {
                INFO(precision << " " << optimizer << " ZeRO-" << stage);
                const ModelStateBytes m = model_state_bytes(1 << 20, parse_precision(precision, "p"),
                                                            parse_optimizer(optimizer, "o"), stage, 8);
                CHECK(m.total() / (1 << 20) == Approx(expected[static_cast<std::size_t>(stage)]).epsilon(1e-12));
            }
}

TEST_CASE("shape-dependent optimizer states: Adafactor and 8-bit Adam", "[model_states][golden]") {
    // Adafactor (beta1 = None): a 4096 x 4096 matrix keeps 4096 + 4096 fp32 factors; a vector keeps all.
    CHECK(optimizer_state_bytes(Optimizer::adafactor, 4096, 4096, 4) == (4096 + 4096) * 4);
    CHECK(optimizer_state_bytes(Optimizer::adafactor, 1, 4096, 4) == 4096 * 4);
    CHECK(optimizer_state_bytes(Optimizer::adafactor, 11008, 4096, 2) == (11008 + 4096) * 2);
    // bitsandbytes: 2 bytes + one fp32 absmax per 256-element block per state for >= 4096 elements.
    CHECK(optimizer_state_bytes(Optimizer::adamw_8bit, 4096, 4096, 4) == 2.0 * 16777216 + 8.0 * 65536);
    CHECK(optimizer_state_bytes(Optimizer::adamw_8bit, 1, 4097, 4) == 2.0 * 4097 + 8.0 * 17);
    CHECK(optimizer_state_bytes(Optimizer::adamw_8bit, 1, 4095, 4) == 8.0 * 4095);  // below min_8bit_size
    CHECK(optimizer_state_bytes(Optimizer::sgd, 4096, 4096, 4) == 0);
    CHECK_THROWS(model_state_bytes(1e9, Precision::fp32, Optimizer::adafactor, 0, 1));
}
