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

namespace {
// The backward's allocations (+bytes) and frees (-bytes) in order.
std::vector<double> backward_events(const Sim& s, std::size_t from) {
    std::vector<double> out;
    for (std::size_t i = from; i < s.events().size(); ++i) {
        const Sim::Event& e = s.events()[i];
        double bytes = e.bytes;
        if (bytes == 0)  // a free: the size of the storage's allocation
            for (std::size_t j = 0; j < i; ++j)
                if (s.events()[j].storage == e.storage && s.events()[j].bytes > 0) bytes = -s.events()[j].bytes;
        out.push_back(bytes);
    }
    return out;
}
}  // namespace

TEST_CASE("torch_sim: an add hands its gradient on, a matmul view gradient is added out of place",
          "[torch_sim]") {
    // y = x + x·w (a residual add), loss = sum(y). With pass_gradient the add allocates nothing:
    // x and x·w share y's gradient; the mul's gradient for x (4 KiB) is then added in place into
    // the shared one (x·w's reference is gone by then).
    const auto run = [](bool pass) {
        Sim s;
        const V w = s.param(1024, TensorType::f32, 4, "w");
        const V x = s.op("leaf", {w}, 1024, TensorType::f32);  // 4 KiB, needs a gradient
        const V h = s.op("mul", {x, w}, 1024, TensorType::f32, {x});
        const V y = s.op("add", {x, h}, 1024, TensorType::f32);
        if (pass) s.pass_gradient(y);
        s.drop({x, h});
        const V loss = s.op("sum", {y}, 1, TensorType::f32);
        s.drop(y);
        const std::size_t from = s.events().size();
        s.backward(loss);
        return backward_events(s, from);
    };
    // ones, grad y, ones freed; add: nothing; mul: w.grad first (the last input), then x's
    // gradient, x freed (saved only), x's new gradient added in place into the shared one and
    // freed; leaf: w's second gradient, the shared gradient freed, the second gradient added in
    // place into w.grad and freed; the loss.
    const std::vector<double> shared = run(true);
    const std::vector<double> copied = run(false);
    CHECK(shared == std::vector<double>{512, 4096, -512, 4096, 4096, -4096, -4096, 4096, -4096, -4096, -512});
    // Without it the add makes two 4 KiB gradients (x's and x·w's), each freed later.
    CHECK(copied.size() == shared.size() + 4);

    // x feeds two matmuls: the first gradient to reach x is a view of a matmul's result, so the
    // second is added out of place: a new 4 KiB tensor, then both addends freed.
    Sim s;
    const V w1 = s.param(1024, TensorType::f32, 4, "w1");
    const V w2 = s.param(1024, TensorType::f32, 4, "w2");
    const V x = s.op("leaf", {w1}, 1024, TensorType::f32);
    const V a = s.op("mm", {x, w1}, 1024, TensorType::f32, {x});
    const V b = s.op("mm", {x, w2}, 1024, TensorType::f32, {x});
    s.drop(x);
    const V y = s.op("add", {a, b}, 1024, TensorType::f32);
    s.pass_gradient(y);
    s.drop({a, b});
    const V loss = s.op("sum", {y}, 1, TensorType::f32);
    s.drop(y);
    const std::size_t from = s.events().size();
    s.backward(loss);
    const std::vector<double> ev = backward_events(s, from);
    // ones, grad y, ones freed; b's mm: w2.grad, x's gradient (a view); a's mm: w1.grad, x's
    // second gradient, x freed (both mm saved it), the shared grad y freed, the sum (new), the
    // view and the second gradient freed; leaf: w1's second gradient, x's gradient freed, and
    // since w1.grad came from a matmul (a view, like a tied embedding's) a new .grad, the old one
    // and the addend freed; loss.
    CHECK(ev == std::vector<double>{512, 4096, -512, 4096, 4096, 4096, 4096, -4096, -4096, 4096, -4096, -4096, 4096,
                                    -4096, 4096, -4096, -4096, -512});
}

TEST_CASE("torch_sim: checkpoint recomputation stops after the last saved tensor", "[torch_sim]") {
    Sim s;
    const V w = s.param(1024, TensorType::f32, 4, "w");
    const V x = s.op("leaf", {w}, 1024, TensorType::f32);
    s.begin_checkpoint({x});
    const V y = s.op("gelu", {x}, 1024, TensorType::f32, {x});   // saves x (the region input)
    const V z = s.op("mul", {y, w}, 1024, TensorType::f32, {y});  // saves y: the last saved tensor
    s.drop(y);
    const V o = s.op("scale", {z}, 1024, TensorType::f32);        // saves nothing: not recomputed
    s.drop(z);
    s.end_checkpoint();
    s.drop(x);
    const V loss = s.op("sum", {o}, 1, TensorType::f32);
    s.drop(o);
    const std::size_t from = s.events().size();
    s.backward(loss);
    const std::vector<double> ev = backward_events(s, from);
    // ones, grad o, ones freed; scale: grad z, grad o freed; mul needs y: the recomputation makes
    // y (4 KiB) and stops (z is not made again); mul: w.grad, grad y, y and grad z freed; gelu:
    // grad x, x and grad y freed; leaf: w's second gradient in place, grad x freed; loss.
    CHECK(ev == std::vector<double>{512, 4096, -512, 4096, -4096, 4096, 4096, 4096, -4096, -4096, 4096, -4096, -4096,
                                    4096, -4096, -4096, -512});
}
