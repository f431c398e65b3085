// test_torch_sim.cpp — the autograd / caching-allocator simulator on cases worked out by hand.
#include "planner/torch_sim.h"

#include <catch2/catch.hpp>

using namespace llmplan::torchsim;

TEST_CASE("torch_sim: allocations round up to 512 bytes", "[torch_sim]") {
    CHECK(round_alloc(1) == 512);
    CHECK(round_alloc(512) == 512);
    CHECK(round_alloc(513) == 1024);
    CHECK(round_alloc(0) == 0);
    Sim s;
    const V a = s.tensor(3, TensorType::f32, Cat::activation, "a");  // 12 B -> 512 B
    CHECK(s.allocated() == 512);
    s.drop(a);
    CHECK(s.allocated() == 0);
    CHECK(s.peak() == 512);
}

TEST_CASE("torch_sim: saved tensors outlive Python, and backward frees them", "[torch_sim]") {
    Sim s;
    const V w = s.param(1024, TensorType::f32, 4, "w");               // static: not counted
    const V x = s.tensor(1024, TensorType::f32, Cat::activation, "x");  // 4 KiB
    // y = x·w saves x; z = tanh(y) saves its output; loss = sum(z).
    const V y = s.op("mul", {x, w}, 1024, TensorType::f32, {x});
    s.drop(x);                                 // Python forgets x: saved, stays
    CHECK(s.allocated() == 8192);
    const V z = s.op("tanh", {y}, 1024, TensorType::f32);
    s.save_output(z);
    s.drop(y);                                 // not saved by anyone: freed
    CHECK(s.allocated() == 8192);
    const V loss = s.op("sum", {z}, 1, TensorType::f32);
    s.drop(z);                                 // saved by tanh
    CHECK(s.allocated() == 8192 + 512);
    s.start_phase("backward");
    s.backward(loss);
    // Backward: sum's node makes grad z (4 KiB) from ones (512 B, then freed); tanh's node makes
    // grad y (4 KiB) while grad z, z and x are alive → peak x + z + loss + grad z + grad y.
    CHECK(s.peak() == 4096 * 4 + 512);
    // After backward only w.grad (4 KiB) stays.
    CHECK(s.allocated() == 4096);
}

TEST_CASE("torch_sim: a checkpointed region keeps nothing and recomputes in backward", "[torch_sim]") {
    Sim s;
    const V w = s.param(1024, TensorType::f32, 4, "w");
    const V x = s.op("leaf_op", {w}, 1024, TensorType::f32);  // 4 KiB, requires grad
    s.begin_checkpoint({x});
    const V y = s.op("mul", {x, w}, 1024, TensorType::f32, {x});
    const V z = s.op("gelu", {y}, 1024, TensorType::f32, {y});
    s.drop(y);  // would be saved by gelu without checkpointing
    s.end_checkpoint();
    s.drop(x);  // held by the checkpoint
    CHECK(s.allocated() == 8192);  // x and z only
    const V loss = s.op("sum", {z}, 1, TensorType::f32);
    s.drop(z);
    s.backward(loss);
    CHECK(s.allocated() == 4096);  // w.grad
    // The recompute rebuilt y (4 KiB) next to x, z's gradient and loss scalars.
    CHECK(s.peak() >= 4096 * 3);
}

TEST_CASE("torch_sim: saved_by_nodes lists each storage a range of nodes keeps, once", "[torch_sim]") {
    Sim s;
    const V w = s.param(1024, TensorType::f32, 4, "w");
    const V x = s.tensor(1024, TensorType::f32, Cat::activation, "x");  // 4 KiB
    const int first = s.next_node();
    const V y = s.op("mul", {x, w}, 1024, TensorType::bf16, {x, w});  // saves x (w is a parameter: static)
    const V z = s.op("mul2", {y, x}, 1024, TensorType::f32, {y, x});  // saves y (2 KiB) and x again
    const int last = s.next_node() - 1;
    const std::vector<Sim::Saved> saved = s.saved_by_nodes(first, last);
    REQUIRE(saved.size() == 2);
    CHECK(saved[0].name == "x");
    CHECK(saved[0].bytes == 4096);
    CHECK(saved[1].name == "mul");
    CHECK(saved[1].bytes == 2048);
    CHECK(s.saved_by_nodes(last, last).size() == 2);
    CHECK(s.saved_by_nodes(first, first).size() == 1);
    s.drop({x, y, z});
}
