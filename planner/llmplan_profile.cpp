// llmplan_profile.cpp — the engine's arena bytes, term by term; see llmplan_profile.h.
#include "planner/llmplan_profile.h"

#include "core/error.h"
#include "core/quantity.h"
#include "core/text.h"
#include "engine/program.h"


namespace llmplan {

void validate_llmplan_profile(const ModelSpec& m, const TrainConfig& c) {
    if (const std::string why = engine_supports(m, c); !why.empty()) throw InputError(why);
}

// One GPU: the step's program (engine/program.h) replayed; the terms name each book's buffers.
StageMemory plan_llmplan_stage(const ModelSpec& m, const TrainConfig& c) {
    validate_llmplan_profile(m, c);
    if (c.parallel.gpus > 1) return plan_llmplan_dist_stage(m, c);  // llmplan_books.cpp
    const EngineProgram prog = build_engine_program(m, engine_step_options(c));
    const EngineBooksReplay books = replay_engine_books(prog);
    const auto at = [&](MemoryCategory k) { return books.at_peak[static_cast<std::size_t>(k)]; };
    const bool fp16 = c.precision == Precision::mixed_fp16;
    const bool mixed = c.precision == Precision::mixed_bf16 || fp16;
    // What the terms explain, summed from the program's buffers: one layer's kept fields (model.h
    // lists them per recompute mode), one layer's recomputed fields, the backward's gradient buffers.
    const double kept = prog.bytes_of(BufferRole::layer_field, 0), scratch = prog.bytes_of(BufferRole::layer_scratch),
                 work = prog.bytes_of(BufferRole::grad), logits = prog.bytes_of(BufferRole::logits);
    StageMemory s;
    s.stage = 0;
    s.layers = m.n_layers;
    s.placement = "whole model";
    s.params_on_gpu = count_params(m).total();
    s.parameters = at(MemoryCategory::parameters);
    s.gradients = at(MemoryCategory::gradients);
    s.optimizer_states = at(MemoryCategory::optimizer);
    s.activations = at(MemoryCategory::activations);
    s.activations_per_layer = kept;
    s.layer_microbatches = m.n_layers;
    s.microbatches_in_flight = 1;
    s.logits = at(MemoryCategory::logits);
    s.temporary = at(MemoryCategory::workspace);
    // The step peaks in the backward: during the output layer's backward (the forward's state and
    // one [T, d] gradient) or once the gradient buffers exist (the logits, the final-norm output
    // and statistics freed); the peak stays with the first when they tie.
    s.phases = {{"forward_end", books.at_mark(StepMark::forward_end)},
                {"backward_head", books.at_mark(StepMark::head_backward)},
                {"backward_workspace", books.at_mark(StepMark::backward_workspace)},
                {"optimizer_step", books.at_mark(StepMark::optimizer_step)}};
    const bool head = s.logits > 0;
    s.peak_phase = to_string(books.total_peak_phase);
    s.peak_allocated = books.total_peak;
    s.reserved_estimate = s.peak_allocated;  // one allocation per buffer: no allocator cache
    s.overhead = 0;
    s.device_total = s.reserved_estimate;
    const std::string src = mixed ? std::string("engine/program.h (the GPU engine's arenas, ") + to_string(c.precision) + ")"
                                  : "engine/program.h (the engine's arenas)";
    auto gib = [](double b) { return format_bytes(b, ByteUnit::gib); };
    const std::string half = fp16 ? "2 B (fp16)" : "2 B (bf16)";
    const std::string eb = mixed ? " × " + half : " × 4 B (fp32)";
    s.terms.push_back({"parameters", "parameters", s.parameters, format_int(s.params_on_gpu) + eb, src});
    s.terms.push_back({"gradients", "gradients", s.gradients, format_int(s.params_on_gpu) + eb + ", allocated once", src});
    s.terms.push_back({"optimizer", "optimizer state", s.optimizer_states,
                       std::string(mixed ? "fp32 master, AdamW m and v: 3 × " : "AdamW m and v: 2 × ") +
                           format_int(s.params_on_gpu) + " × 4 B",
                       src});
    s.terms.push_back({"activations", "activations", s.activations,
                       "(L + 1) residual tensors + final-norm stats and output + " + std::to_string(m.n_layers) + " layers × " +
                           gib(kept) + " (recompute " + to_string(c.recompute) + ", " + to_string(c.attention) + ")" +
                           (head ? "" : "; the final-norm output and stats already freed"),
                       src});
    s.terms.push_back({"logits", "logits (gradient in place)", s.logits,
                       std::string(mixed ? "T × " + format_int(prog.logits_row) + " (V padded to 64) × " + half
                                         : "T × V × 4 B") +
                           " = " + gib(logits),
                       src});
    s.terms.push_back({"temporary", "workspace", s.temporary,
                       (scratch > 0 ? "one layer's recomputed fields " + gib(scratch) + " + " : std::string()) +
                           (head ? "the output layer's input gradient [T, d]" : "backward gradient buffers " + gib(work)),
                       src});
    return s;
}

}  // namespace llmplan
