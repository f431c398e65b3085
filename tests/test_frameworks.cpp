// test_frameworks.cpp — the megatron, deepspeed and torchtitan framework profiles: every memory
// term by hand from each framework's own code, the frameworks' own estimators where they have one
// (DeepSpeed's estimate_zero2/3_model_states_mem_needs, Megatron's theoretical_memory_usage.py),
// and what each refuses (docs/MEMORY_MODEL.md §9-§11).
#include "planner/framework.h"
#include "planner/memory.h"
#include "planner/perf.h"

#include "cli_run.h"
#include "core/error.h"
#include "core/gpu.h"
#include "core/job_text.h"
#include "core/presets.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>

#include <string>

using namespace llmplan;

namespace {

// llama-2-7b: 6,738,415,616 params; 32 layers of 202,383,360; embedding and lm_head 32000 × 4096 =
// 131,072,000 each; on 8 data-parallel ranks a shard is 842,301,952. At seq 4096, b 1, flash, no
// dropout: activations 17,330,864,128 B, fp32 logits 524,288,000 B (tests/test_memory.cpp).
constexpr double kPsi = 6738415616.0, kShard = 842301952.0, kLayer = 202383360.0, kEmbedding = 131072000.0;
constexpr double kActivations = 17330864128.0, kLogits = 524288000.0;

TrainConfig job(Framework f, int gpus, int zero) {
    TrainConfig c;
    c.framework = f;
    c.parallel.gpus = gpus;
    c.parallel.zero = zero;
    c.seq = 4096;
    c.micro_batch = 1;
    return c;  // mixed-bf16, AdamW, flash attention, no dropout, no recompute, one micro-batch per step
}

MemoryPlan plan(const char* model, const TrainConfig& c) {
    return plan_memory(preset_or_throw(model, "--model"), gpu_or_throw("h100-sxm", "--gpu"), c);
}

const MemoryTerm& term(const StageMemory& s, const std::string& key) {
    for (const MemoryTerm& t : s.terms)
        if (t.key == key) return t;
    FAIL("no term " << key);
    return s.terms.front();
}

double phase(const StageMemory& s, const std::string& name) {
    for (const PhaseTotal& p : s.phases)
        if (p.name == name) return p.bytes;
    FAIL("no phase " << name);
    return 0;
}

// The terms of a plan add up to its peak (the CLI table and the GUI's bar stack them).
double terms_sum(const StageMemory& s) {
    double sum = 0;
    for (const MemoryTerm& t : s.terms)
        if (t.key != "overhead") sum += t.bytes;
    return sum;
}

}  // namespace

TEST_CASE("deepspeed ZeRO-2: llama-2-7b on 8 GPUs, every term by hand, the step equals DeepSpeed's estimator",
          "[framework][deepspeed][golden]") {
    const StageMemory s = plan("llama-2-7b", job(Framework::deepspeed, 8, 2)).worst();
    CHECK(term(s, "parameters").bytes == 2 * kPsi);                 // bit16_groups_flat, whole
    CHECK(term(s, "gradients").bytes == 2 * kShard);                // grads_in_partition
    CHECK(term(s, "master").bytes == 4 * kShard);                   // single_partition_of_fp32_groups
    CHECK(term(s, "optimizer").bytes == 8 * kShard);                // Adam m, v
    CHECK(term(s, "reduce_bucket").bytes == 5e8 * 2);               // one ipg bucket (overlap_comm off for stage 2)
    CHECK(term(s, "gradient_in_flight").bytes == 2 * kEmbedding);   // the largest parameter's gradient
    CHECK(term(s, "gradient_fp32_partition").bytes == 0);           // not at the backward peak ...
    // ... but at the step: 2Ψ + (2 + 4 + 4 + 8)Ψ/N, DeepSpeed's estimate_zero2_model_states_mem_needs
    // (stage_1_and_2.py): gpu_mem = 2 × total_params + int(18 × total_params / total_gpus).
    const double estimator = 2 * kPsi + static_cast<double>(static_cast<long long>(18 * kPsi / 8));
    CHECK(estimator == 28638266368.0);
    CHECK(phase(s, "optimizer_step") == estimator);
    // Backward: model states + bucket + one gradient + activations + logits.
    CHECK(phase(s, "backward") == 2 * kPsi + 14 * kShard + 1e9 + 2 * kEmbedding + kActivations + kLogits);
    CHECK(phase(s, "backward") == 44386354688.0);
    CHECK(phase(s, "forward_end") == 44124210688.0);
    CHECK(s.peak_phase == "backward");
    CHECK(s.peak_allocated == 44386354688.0);
    CHECK(terms_sum(s) == s.peak_allocated);
    CHECK(s.reserved_estimate == Approx(44386354688.0 * 1.05));

    // overlap_comm doubles the bucket; a smaller reduce_bucket_size shrinks it.
    TrainConfig c = job(Framework::deepspeed, 8, 2);
    c.framework_options = {{"overlap_comm", "true"}, {"reduce_bucket_size", "2e8"}};
    CHECK(term(plan("llama-2-7b", c).worst(), "reduce_bucket").bytes == 2 * 2e8 * 2);
}

TEST_CASE("deepspeed ZeRO-3: partitions, persistence, prefetch and the sub-group step, against DeepSpeed's estimator",
          "[framework][deepspeed][golden]") {
    const StageMemory s = plan("llama-2-7b", job(Framework::deepspeed, 8, 3)).worst();
    // 65 RMSNorm weights of 4096 (< stage3_param_persistence_threshold 1e5) stay whole: 266,240
    // elements; the rest is partitioned: 842,301,952 − 266,240/8 = 842,268,672 per rank.
    CHECK(term(s, "parameters").bytes == 2 * (842268672.0 + 266240.0));
    CHECK(term(s, "gradients").bytes == 2 * kShard);               // grad_partitions_flat_buffer (bf16)
    CHECK(term(s, "reduce_bucket").bytes == 1e9);                  // allocated with the optimizer
    CHECK(term(s, "master").bytes == 4 * kShard);
    CHECK(term(s, "optimizer").bytes == 8 * kShard);
    // The largest module is the embedding (131,072,000) + stage3_prefetch_bucket_size 5e7 ahead.
    CHECK(term(s, "gathered").bytes == 2 * (kEmbedding + 5e7));
    CHECK(term(s, "gradient_in_flight").bytes == 2 * kEmbedding);
    // The step: + the fp32 gradient of one sub-group (the whole partition: < sub_group_size 1e9).
    const double step = 2 * (842268672.0 + 266240.0) + 2 * kShard + 1e9 + 4 * kShard + 8 * kShard + 4 * kShard;
    CHECK(phase(s, "optimizer_step") == step);
    CHECK(step == 17846504960.0);
    // DeepSpeed's estimate_zero3_model_states_mem_needs (stage3.py, no offload): 4 × largest layer +
    // int(18 × total / gpus) = 15,685,723,136; this plan's step holds 2Ψ/N more (the bf16 gradient
    // partition beside the fp32 sub-group gradient), the 1 GB bucket and the persistent norms, and
    // not the largest layer's parameters and gradients (gathered only in forward and backward).
    const double estimator = 4 * kEmbedding + static_cast<double>(static_cast<long long>(18 * kPsi / 8));
    CHECK(estimator == 15685723136.0);
    CHECK(step - estimator == 2 * kShard + 1e9 + 2 * 266240.0 * 7 / 8 - 4 * kEmbedding);
    CHECK(phase(s, "backward") == 32956737280.0);
    CHECK(s.peak_phase == "backward");
    CHECK(terms_sum(s) == s.peak_allocated);
}

TEST_CASE("deepspeed ZeRO-0 and 1, and offload: the optimizer wrappers as they allocate", "[framework][deepspeed]") {
    // bf16 without ZeRO is BF16_Optimizer: bf16 grads + a whole fp32 gradient buffer; master and
    // Adam sharded over data-parallel ranks.
    const StageMemory z0 = plan("llama-2-7b", job(Framework::deepspeed, 8, 0)).worst();
    CHECK(term(z0, "gradients").bytes == 2 * kPsi);
    CHECK(term(z0, "gradients_fp32").bytes == 4 * kPsi);
    CHECK(term(z0, "master").bytes == 4 * kShard);
    CHECK(phase(z0, "optimizer_step") == 2 * kPsi + 2 * kPsi + 4 * kPsi + 12 * kShard);
    // fp16 without ZeRO is FP16_Optimizer: 2 + 2 + 4 + 8 on every rank.
    TrainConfig fp16 = job(Framework::deepspeed, 8, 0);
    fp16.precision = Precision::mixed_fp16;
    CHECK(phase(plan("llama-2-7b", fp16).worst(), "optimizer_step") == 16 * kPsi);
    // ZeRO-1: whole 16-bit gradients; the fp32 gradient partition at the step.
    const StageMemory z1 = plan("llama-2-7b", job(Framework::deepspeed, 8, 1)).worst();
    CHECK(term(z1, "gradients").bytes == 2 * kPsi);
    CHECK(phase(z1, "optimizer_step") == 2 * kPsi + 2 * kPsi + 16 * kShard);
    // ZeRO-2 + offload_optimizer: estimate_zero2_model_states_mem_needs(cpu_offload=True) keeps
    // 2 × total_params on the GPU; so does the step here (the bucket is released by then).
    TrainConfig off = job(Framework::deepspeed, 8, 2);
    off.offload = Offload::optimizer;
    const StageMemory z2o = plan("llama-2-7b", off).worst();
    CHECK(phase(z2o, "optimizer_step") == 2 * kPsi);
    CHECK(z2o.cpu_offload == 16 * kShard);  // fp32 master, Adam and the fp32 gradient partition
    // ZeRO-3 + offload of parameters too: only the persistent norms, the bucket and the working set.
    TrainConfig inf = job(Framework::deepspeed, 8, 3);
    inf.offload = Offload::optimizer_params;
    const StageMemory z3o = plan("llama-2-7b", inf).worst();
    CHECK(phase(z3o, "optimizer_step") == 2 * 266240.0 + 1e9);
    CHECK(z3o.cpu_offload == 2 * 842268672.0 + 2 * kShard + 16 * kShard);
}

TEST_CASE("megatron: distributed optimizer and fp32 main grads equal Megatron's theoretical_memory_usage",
          "[framework][megatron][golden]") {
    // compute_weight_and_optimizer_memory: params on the most loaded shard × (6 + 12/dp) with the
    // distributed optimizer (bf16 params 2 + fp32 main grads 4 + fp32 main params and Adam 12/dp),
    // × 18 without it. llama-2-7b on tp 1, pp 1: every parameter (its padded vocabulary is 32000).
    const StageMemory d = plan("llama-2-7b", job(Framework::megatron, 8, 1)).worst();
    CHECK(term(d, "parameters").bytes == 2 * kPsi);
    CHECK(term(d, "gradients").bytes == 4 * kPsi);
    CHECK(term(d, "main_params").bytes == 4 * kShard);
    CHECK(term(d, "optimizer").bytes == 8 * kShard);
    CHECK(phase(d, "optimizer_step") == kPsi * (6 + 12.0 / 8));
    CHECK(phase(d, "optimizer_step") == 50538117120.0);
    const StageMemory n = plan("llama-2-7b", job(Framework::megatron, 8, 0)).worst();
    CHECK(phase(n, "optimizer_step") == 18 * kPsi);
    // --grad-reduce-in-bf16: a bf16 grad buffer.
    TrainConfig b = job(Framework::megatron, 8, 1);
    b.framework_options = {{"grad_reduce_in_bf16", "true"}};
    CHECK(term(plan("llama-2-7b", b).worst(), "gradients").bytes == 2 * kPsi);
    // Activations at the peak: the generic tensors + the int64 token ids (8 B per token).
    CHECK(term(d, "activations").bytes == kActivations);
    CHECK(term(d, "input_ids").bytes == 8.0 * 4096);
    CHECK(terms_sum(d) == d.peak_allocated);
}

TEST_CASE("megatron: LoRA keeps DDP, main grads and the optimizer for the adapters only, by hand",
          "[framework][megatron][golden]") {
    // Megatron Bridge's PEFT: the base frozen (no main grad, no optimizer), adapters in the model's
    // dtype; DDP collects only parameters that require a gradient (distributed_data_parallel.py).
    // llama-2-7b on 8 GPUs (dp 8), LoRA r 16 on q and v: per layer 2 × 16 × (4096 + 4096) = 262,144,
    // × 32 layers = 8,388,608 adapter parameters.
    TrainConfig c = job(Framework::megatron, 8, 1);
    c.lora.rank = 16;
    const double A = 8388608.0;
    const StageMemory s = plan("llama-2-7b", c).worst();
    CHECK(term(s, "parameters").bytes == 2 * kPsi + 2 * A);  // 13,493,608,448
    CHECK(term(s, "parameters").bytes == 13493608448.0);
    CHECK(term(s, "gradients").bytes == 4 * A);              // fp32 main_grad of the adapters
    CHECK(term(s, "main_params").bytes == 4 * A / 8);        // fp32 main params over dp 8
    CHECK(term(s, "optimizer").bytes == 8 * A / 8);          // Adam m, v over dp 8
    CHECK(terms_sum(s) == s.peak_allocated);
    // --grad-reduce-in-bf16: a bf16 main-grad buffer; fp8: the frozen linears' FP8 copies as without LoRA.
    c.framework_options = {{"grad_reduce_in_bf16", "true"}};
    CHECK(term(plan("llama-2-7b", c).worst(), "gradients").bytes == 2 * A);
    c.precision = Precision::fp8;
    c.framework_options = {{"grad_reduce_in_bf16", "true"}, {"fp8_param_gather", "false"}};  // (Megatron-LM's argument default)
    CHECK(term(plan("llama-2-7b", c).worst(), "fp8_weights").bytes == 2 * 32 * (kLayer - 2 * 4096));
    // Refused: a quantized base (QLoRA), bitsandbytes' paged optimizer, LoRA with Megatron FSDP.
    TrainConfig q = job(Framework::megatron, 8, 1);
    q.lora.rank = 16;
    q.lora.base_quant = BaseQuant::nf4;
    CHECK_THROWS_WITH(plan("llama-2-7b", q), Catch::Contains("--base-quant under --framework megatron"));
    q.lora.base_quant = BaseQuant::none;
    q.lora.paged_optimizer = true;
    CHECK_THROWS_WITH(plan("llama-2-7b", q), Catch::Contains("--paged-optimizer under --framework megatron"));
    TrainConfig z = job(Framework::megatron, 8, 3);
    z.lora.rank = 16;
    CHECK_THROWS_WITH(plan("llama-2-7b", z), Catch::Contains("LoRA with Megatron FSDP is not modelled"));
}

TEST_CASE("megatron FSDP (--zero 3 optim_grads_params, --zero 2 optim_grads): every model-state term by hand",
          "[framework][megatron][golden]") {
    // Megatron FSDP's buffers (mfsdp_design.md): bf16 model_weight sharded, bf16 main_grad sharded
    // (--megatron-fsdp-main-grads-dtype auto: the compute dtype), fp32 main_weight and Adam sharded;
    // the unit computed and the one prefetched unsharded, one unit's bf16 gradients before their
    // reduce-scatter. llama-2-7b on 8 ranks: a shard is 842,301,952 params.
    const StageMemory s = plan("llama-2-7b", job(Framework::megatron, 8, 3)).worst();
    CHECK(term(s, "parameters").bytes == 2 * kShard);
    CHECK(term(s, "gradients").bytes == 2 * kShard);
    CHECK(term(s, "main_params").bytes == 4 * kShard);
    CHECK(term(s, "optimizer").bytes == 8 * kShard);
    CHECK(term(s, "gathered").bytes == 2 * 2 * kLayer);  // 2 units × 202,383,360 × 2 B
    CHECK(term(s, "unit_gradients").bytes == 2 * kLayer);
    CHECK(phase(s, "optimizer_step") == 16 * kShard);
    CHECK(terms_sum(s) == s.peak_allocated);
    // optim_grads: parameters whole on every rank, nothing gathered.
    const StageMemory two = plan("llama-2-7b", job(Framework::megatron, 8, 2)).worst();
    CHECK(term(two, "parameters").bytes == 2 * kPsi);
    CHECK(term(two, "gradients").bytes == 2 * kShard);
    CHECK(std::none_of(two.terms.begin(), two.terms.end(), [](const MemoryTerm& t) { return t.key == "gathered"; }));
    // --fp8-param-gather: the layers' linear weights sharded in fp8 (1 B).
    TrainConfig f = job(Framework::megatron, 8, 3);
    f.precision = Precision::fp8;
    f.framework_options = {{"fp8_param_gather", "true"}};
    const double linears = 32 * (4096.0 * 4096 * 4 + 3 * 4096.0 * 11008);  // q, k, v, o and gate, up, down per layer
    CHECK(term(plan("llama-2-7b", f).worst(), "parameters").bytes == Approx((2 * kPsi - linears) / 8).epsilon(1e-12));
}

TEST_CASE("megatron: activations equal theoretical_memory_usage's formula on a GPT (GELU 4h, dropout, selective)",
          "[framework][megatron][golden]") {
    // compute_activation_memory (Korthikanti Table 2): per layer s·b·h(18 + 4·ffn/h) = 34sbh, × L;
    // + 8·s·b·p (input ids) + s·b·h·p (embedding dropout mask); with pp = 1 + 4sbh(1 + V/h) (final
    // norm and output-layer inputs, fp32 logits); ÷ tp. gpt2-124m, s 1024, b 4, tp = pp = 1 (its
    // vocabulary 50257 taken as Megatron's padded_vocab_size).
    TrainConfig c = job(Framework::megatron, 1, 0);
    c.seq = 1024;
    c.micro_batch = 4;
    c.dropout = 0.1;
    c.recompute = Recompute::selective;
    c.framework_options = {{"cross_entropy_loss_fusion", "false"}};  // the formula's fp32 logits (the argument default)
    const StageMemory s = plan("gpt2-124m", c).worst();
    const double sbh = 1024.0 * 4 * 768;
    const double megatron = 34 * sbh * 12 + 8.0 * 1024 * 4 + sbh + (4 * sbh + 4.0 * 1024 * 4 * 50257);
    CHECK(megatron == 2122629120.0);
    CHECK(term(s, "activations").bytes + term(s, "input_ids").bytes + term(s, "logits").bytes == megatron);
}

TEST_CASE("megatron: fp8 keeps the layers' linears in fp8, recompute methods, the allgather dispatcher",
          "[framework][megatron]") {
    // Transformer Engine fp8: fp8 copy + transpose of the 32 × 202,375,168 linear weights (the
    // layer's 202,383,360 less its two 4096 norms); embedding and lm_head stay bf16.
    TrainConfig f = job(Framework::megatron, 8, 1);
    f.precision = Precision::fp8;
    const double linears = 32 * (kLayer - 2 * 4096);
    f.framework_options = {{"fp8_param_gather", "false"}};  // Megatron-LM's argument default
    CHECK(term(plan("llama-2-7b", f).worst(), "fp8_weights").bytes == 2 * linears);
    f.framework_options = {{"fp8_param_gather", "true"}};
    const StageMemory p = plan("llama-2-7b", f).worst();
    CHECK(term(p, "parameters").bytes == 2 * kPsi - linears);  // the linears' parameters in fp8
    CHECK(term(p, "fp8_weights").bytes == linears);            // their transposes
    // NVFP4 (--fp4-format e2m1 --fp4-recipe nvfp4): rowwise + columnwise NVFP4 copies, 0.5625 B each
    // (4-bit values + one E4M3 scale per 16); --fp4-param-gather keeps the linears' parameters in NVFP4.
    TrainConfig q = job(Framework::megatron, 8, 1);
    q.precision = Precision::nvfp4;
    CHECK(term(plan("llama-2-7b", q).worst(), "fp8_weights").bytes == 2 * 0.5625 * linears);
    q.framework_options = {{"fp4_param_gather", "true"}};
    const StageMemory q4 = plan("llama-2-7b", q).worst();
    CHECK(term(q4, "parameters").bytes == 2 * kPsi - (2 - 0.5625) * linears);
    CHECK(term(q4, "fp8_weights").bytes == 0.5625 * linears);
    // MXFP8: 1 + 1/32 bytes per copy (E8M0 scale per 32); fp8_param_gather applies to it too.
    TrainConfig mxj = job(Framework::megatron, 8, 1);
    mxj.precision = Precision::mxfp8;
    mxj.framework_options = {{"fp8_param_gather", "false"}};
    CHECK(term(plan("llama-2-7b", mxj).worst(), "fp8_weights").bytes == 2 * 1.03125 * linears);
    mxj.framework_options = {{"fp8_param_gather", "true"}};
    CHECK(term(plan("llama-2-7b", mxj).worst(), "parameters").bytes == 2 * kPsi - (2 - 1.03125) * linears);
    mxj.framework_options.clear();  // named alone: the fp8 parameter gather of Megatron-LM's FP8 examples
    CHECK(term(plan("llama-2-7b", mxj).worst(), "parameters").bytes == 2 * kPsi - (2 - 1.03125) * linears);
    f.framework_options = {{"fp4_param_gather", "true"}};  // fp8 with the fp4 option: refused
    CHECK_THROWS_WITH(plan("llama-2-7b", f), Catch::Contains("fp4_param_gather=true needs --precision nvfp4"));
    // --recompute full, method block, 8 layers: 8 layers keep their input (2sbh = 33,554,432), 24
    // keep everything (539,492,352); the backward rematerialises one layer.
    TrainConfig r = job(Framework::megatron, 8, 1);
    r.recompute = Recompute::full;
    r.framework_options = {{"recompute_method", "block"}, {"recompute_num_layers", "8"}};
    const StageMemory blk = plan("llama-2-7b", r).worst();
    CHECK(blk.activations_per_layer == (8 * 33554432.0 + 24 * 539492352.0) / 32);
    CHECK(term(blk, "recompute_working").bytes == 539492352.0);
    // uniform, units of 4 layers: 8 unit inputs, 4 layers rematerialised at a time.
    r.framework_options = {{"recompute_method", "uniform"}, {"recompute_num_layers", "4"}};
    const StageMemory uni = plan("llama-2-7b", r).worst();
    CHECK(uni.activations_per_layer == 8 * 33554432.0 / 32);
    CHECK(term(uni, "recompute_working").bytes == 4 * 539492352.0);
    // MoE with ep 8 and the allgather dispatcher (the argument default): ep × s·b tokens × (2h + 5E)
    // per MoE layer; none with the flex one the profile plans named alone.
    TrainConfig moe = job(Framework::megatron, 8, 1);
    moe.parallel.ep = 8;
    moe.framework_options = {{"moe_token_dispatcher_type", "allgather"}};
    const ModelSpec mixtral = preset_or_throw("mixtral-8x7b", "--model");
    const StageMemory mx = plan_memory(mixtral, gpu_or_throw("h100-sxm", "--gpu"), moe).worst();
    CHECK(term(mx, "moe_dispatcher").bytes == 8 * 4096.0 * (2 * 4096 + 5 * 8));
    moe.framework_options.clear();
    const StageMemory fx = plan_memory(mixtral, gpu_or_throw("h100-sxm", "--gpu"), moe).worst();
    CHECK(std::none_of(fx.terms.begin(), fx.terms.end(), [](const MemoryTerm& t) { return t.key == "moe_dispatcher"; }));
}

TEST_CASE("torchtitan FSDP2: fp32 shards, one prefetched block, fp32 reduce-scatter input, every term by hand",
          "[framework][torchtitan][golden]") {
    const StageMemory s = plan("llama-2-7b", job(Framework::torchtitan, 8, 3)).worst();
    CHECK(term(s, "parameters").bytes == 4 * kShard);   // fp32 sharded parameters: the only copy
    CHECK(term(s, "gradients").bytes == 4 * kShard);    // fp32 sharded gradients
    CHECK(term(s, "optimizer").bytes == 8 * kShard);
    CHECK(term(s, "gathered").bytes == 2 * 2 * kLayer);  // the block computed + the one prefetched, bf16
    CHECK(term(s, "gathered_head").bytes == 2 * (kEmbedding + 4096));  // norm + lm_head: not resharded
    CHECK(term(s, "unit_gradients").bytes == (2 + 4) * kLayer);  // bf16 grads + fp32 reduce-scatter input
    CHECK(phase(s, "optimizer_step") == 16 * kShard);
    CHECK(phase(s, "optimizer_step") == 13476831232.0);
    // The backward adds the loss's two fp32 temporaries (nll_loss's gradient and log_softmax's
    // input gradient, torchtitan's cross_entropy on pred.float()): 2 × 4 B × 4096 × 32000 logits
    // = 1,048,576,000 on top of 33,617,969,152.
    CHECK(term(s, "loss_backward").bytes == 2 * 4 * 4096.0 * 32000);
    CHECK(phase(s, "backward") == 33617969152.0 + 1048576000.0);
    CHECK(phase(s, "forward_end") == 29034461184.0);  // no sharded gradients before the first backward
    CHECK(terms_sum(s) == s.peak_allocated);
    // --zero 2: reshard_after_forward=False, the whole model unsharded in bf16.
    CHECK(term(plan("llama-2-7b", job(Framework::torchtitan, 8, 2)).worst(), "gathered").bytes == 2 * kPsi);
    // Pipeline parallel: every unit unsharded and fp32 gradients accumulated unsharded; one receive
    // buffer per micro-batch.
    TrainConfig pp = job(Framework::torchtitan, 8, 3);
    pp.parallel.pp = 2;
    pp.global_batch = 16;  // 4 data-parallel ranks × 4 micro-batches
    const MemoryPlan pl = plan("llama-2-7b", pp);
    const StageMemory& first = pl.stages[0];
    const double stage_params = 16 * kLayer + kEmbedding;
    CHECK(term(first, "gathered").bytes == 2 * stage_params);
    CHECK(term(first, "unsharded_gradients").bytes == 4 * stage_params);
    CHECK(term(first, "pipeline_buffers").bytes == 4 * 4096.0 * 4096 * 2);
}

TEST_CASE("torchtitan SAC: by op (every second matmul, SDPA) and by layer", "[framework][torchtitan][golden]") {
    // Per-op SAC on a llama-2-7b layer (s 4096, b 1, bf16): the block input, wq, wv, w1, w2 (the
    // odd matmuls: wq wk wv wo w1 w3 w2) and SDPA's output and fp32 log-sum-exp:
    // 5 × sbh·2 + sbf·2 + 32·s·4 = 258,473,984 (none: 539,492,352).
    TrainConfig c = job(Framework::torchtitan, 8, 3);
    c.recompute = Recompute::selective;
    const StageMemory op = plan("llama-2-7b", c).worst();
    CHECK(op.activations_per_layer == 258473984.0);
    CHECK(term(op, "recompute_working").bytes == 539492352.0 - 258473984.0);
    // float8 linears run _scaled_mm, not in the save list: none of their outputs kept, the block
    // input and SDPA's output and log-sum-exp only: 2 × sbh·2 + 32·s·4 = 67,633,152.
    c.precision = Precision::fp8;
    CHECK(plan("llama-2-7b", c).worst().activations_per_layer == 67633152.0);
    // torchtitan before 88247277c saved aten.abs: abs(x) of each distinct cast input (the two norm
    // outputs and the attention output, s·b·h each, and the gated product s·b·f), 2 B each:
    // 67,633,152 + 4096 × (3 × 4096 + 11008) × 2 = 258,473,984.
    c.framework_options = {{"sac_saves_abs", "true"}};
    CHECK(plan("llama-2-7b", c).worst().activations_per_layer == 67633152.0 + 4096.0 * (3 * 4096 + 11008) * 2);
    CHECK(plan("llama-2-7b", c).worst().activations_per_layer == 258473984.0);
    // Layer SAC every 4th block: 8 of 32 keep their input.
    c.precision = Precision::mixed_bf16;
    c.framework_options = {{"selective_ac_option", "4"}};
    CHECK(plan("llama-2-7b", c).worst().activations_per_layer == (8 * 33554432.0 + 24 * 539492352.0) / 32);
}

TEST_CASE("framework profiles refuse what the framework cannot run, in one line", "[framework][validation]") {
    auto refuses = [](TrainConfig c, const std::string& words) {
        try {
            plan("llama-2-7b", c);
            FAIL("accepted: " << words);
        } catch (const InputError& e) {
            const std::string what = e.what();
            CAPTURE(what);
            CHECK(what.find(words) != std::string::npos);
            CHECK(what.find('\n') == std::string::npos);
        }
    };
    {
        TrainConfig fsdp_pp = job(Framework::megatron, 8, 3);
        fsdp_pp.parallel.pp = 2;
        fsdp_pp.global_batch = 8;
        refuses(fsdp_pp, "--zero 3 with --pp 2 under --framework megatron: Megatron FSDP");
        TrainConfig lion = job(Framework::megatron, 8, 3);
        lion.optimizer = Optimizer::lion;
        refuses(lion, "--optimizer lion with --zero 3 under --framework megatron");
    }
    TrainConfig pp = job(Framework::deepspeed, 8, 2);
    pp.parallel.pp = 2;
    refuses(pp, "incompatible with pipeline parallelism");
    TrainConfig tp = job(Framework::torchtitan, 8, 3);
    tp.parallel.tp = 2;
    refuses(tp, "needs --sp");
    refuses(job(Framework::torchtitan, 8, 1), "--zero 1 under --framework torchtitan");
    TrainConfig amp = job(Framework::deepspeed, 8, 2);
    amp.precision = Precision::amp_bf16;
    refuses(amp, "--precision amp-bf16 under --framework deepspeed");
    TrainConfig off = job(Framework::deepspeed, 8, 2);
    off.offload = Offload::optimizer_params;
    refuses(off, "needs --zero 3");
    TrainConfig key = job(Framework::deepspeed, 8, 2);
    key.framework_options = {{"bucket", "1"}};
    refuses(key, "--framework-option bucket: --framework deepspeed takes reduce_bucket_size");
    TrainConfig none = job(Framework::generic, 8, 2);
    none.framework_options = {{"x", "1"}};
    refuses(none, "--framework-option x: --framework generic takes cross_entropy");
    TrainConfig value = job(Framework::deepspeed, 8, 2);
    value.framework_options = {{"reduce_bucket_size", "lots"}};
    refuses(value, "--framework-option reduce_bucket_size=lots");
    TrainConfig method = job(Framework::megatron, 8, 1);
    method.framework_options = {{"recompute_method", "block"}};
    refuses(method, "with --recompute full only");
    TrainConfig sac = job(Framework::torchtitan, 8, 3);
    sac.recompute = Recompute::selective;
    sac.parallel.ep = 8;
    CHECK_THROWS_AS(plan_memory(preset_or_throw("mixtral-8x7b", "m"), gpu_or_throw("h100-sxm", "g"), sac), InputError);
}

TEST_CASE("the CLI: --framework NAME prints the conventions, --framework-option is checked", "[framework][cli]") {
    const test::CliResult ds = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "2", "--framework",
                                              "deepspeed", "--framework-option", "reduce_bucket_size=2e8"});
    REQUIRE(ds.code == 0);
    CHECK(ds.out.find("  as      DeepSpeed v0.16.5 engine: bf16, ZeRO stage 2; reduce_bucket_size 2e8, "
                      "contiguous_gradients true, overlap_comm false\n") != std::string::npos);
    const test::CliResult mg = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "1", "--framework", "megatron"});
    REQUIRE(mg.code == 0);
    CHECK(mg.out.find("--use-distributed-optimizer") != std::string::npos);
    const test::CliResult tt = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "8", "--zero", "3", "--framework", "torchtitan"});
    REQUIRE(tt.code == 0);
    CHECK(tt.out.find("reshard_after_forward=True") != std::string::npos);
    const test::CliResult bad = test::run_cli({"plan", "--model", "llama-2-7b", "--framework-option", "nokey"});
    CHECK(bad.code != 0);
    CHECK(bad.err.find("--framework-option \"nokey\": expected KEY=VALUE") != std::string::npos);
}

TEST_CASE("framework options as typed: KEY=VALUE, keys in lower case, each once", "[framework][job_text]") {
    JobText t;
    t.framework = "deepspeed";
    t.framework_options = {" Reduce_Bucket_Size = 2e8", "overlap_comm=true"};
    const TrainConfig c = train_config_from_text(t, 8);
    REQUIRE(c.framework_options.size() == 2);
    CHECK(c.framework_options[0] == std::pair<std::string, std::string>{"reduce_bucket_size", "2e8"});
    CHECK(c.framework_options[1] == std::pair<std::string, std::string>{"overlap_comm", "true"});
    CHECK(framework_option(c, "reduce_bucket_size") == "2e8");
    CHECK(framework_option(c, "contiguous_gradients") == "true");  // DeepSpeed's default
    t.framework_options = {"overlap_comm=true", "overlap_comm=false"};
    CHECK_THROWS_WITH(train_config_from_text(t, 8), "--framework-option overlap_comm: given twice (\"true\" and \"false\")");
    t.framework_options = {"=1"};
    CHECK_THROWS_AS(train_config_from_text(t, 8), InputError);
}

TEST_CASE("megatron and torchtitan on an uneven pipeline split: recompute units per chunk, the stage's own layers",
          "[framework][megatron][torchtitan]") {
    // --pp-layers 15,17: Megatron's uniform recompute in units of 4 layers keeps ⌈17/4⌉ = 5 unit
    // inputs (2sbh = 33,554,432 each) on the 17-layer stage, the last unit 1 layer long.
    TrainConfig c = job(Framework::megatron, 8, 1);
    c.parallel.pp = 2;
    c.parallel.split.layers = {15, 17};
    c.global_batch = 8;
    c.recompute = Recompute::full;
    c.framework_options = {{"recompute_method", "uniform"}, {"recompute_num_layers", "4"}};
    const MemoryPlan mp = plan("llama-2-7b", c);
    CHECK(mp.stages[1].layers == 17);
    CHECK(mp.stages[1].activations_per_layer == 5 * 33554432.0 / 17);
    CHECK(mp.stages[0].activations_per_layer == 4 * 33554432.0 / 15);  // ⌈15/4⌉ = 4 units
    // torchtitan: the 17-layer stage's unsharded parameters and fp32 gradient accumulators.
    TrainConfig t = job(Framework::torchtitan, 8, 3);
    t.parallel.pp = 2;
    t.parallel.split.layers = {15, 17};
    t.global_batch = 8;
    const MemoryPlan tp = plan("llama-2-7b", t);
    const StageMemory& last = tp.stages[1];
    const double params = 17 * kLayer + 4096 + kEmbedding;  // 17 layers, final norm, lm_head
    CHECK(term(last, "gathered").bytes == 2 * params);
    CHECK(term(last, "unsharded_gradients").bytes == 4 * params);
}

TEST_CASE("megatron: --recompute-modules drop their tensors from the saved set, by hand", "[framework][megatron][golden]") {
    // Mixtral 8x7B (32 MoE layers, h 4096, top-2 of 8 experts of 14,336), ep 8, s 4096, b 1, bf16,
    // one micro-batch: layernorm drops pre_mlp_layernorm's output (its own module in an MoE model):
    // s·b·h × 2 B = 33,554,432 B per layer; moe_act the experts' activation output, the down
    // projections' input: 2 copies × s·b × 14,336 × 2 B = 234,881,024 B per layer.
    TrainConfig c = job(Framework::megatron, 8, 1);
    c.parallel.ep = 8;
    c.framework_options = {{"moe_token_dispatcher_type", "alltoall"}};
    const ModelSpec mixtral = preset_or_throw("mixtral-8x7b", "--model");
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "--gpu");
    const StageMemory none = plan_memory(mixtral, gpu, c).worst();
    c.recompute = Recompute::selective;
    c.framework_options.emplace_back("recompute_modules", "layernorm,moe_act");
    const StageMemory mods = plan_memory(mixtral, gpu, c).worst();
    CHECK(none.activations_per_layer - mods.activations_per_layer == 33554432.0 + 234881024.0);
    CHECK(none.activations - mods.activations == 32 * (33554432.0 + 234881024.0));
    CHECK(term(mods, "recompute_working").bytes == 33554432.0 + 234881024.0);  // one layer's, during its backward
    // core_attn alone is the generic selective recompute (flash: the fp32 log-sum-exp, a·s·b·4 B).
    c.framework_options = {{"moe_token_dispatcher_type", "alltoall"}, {"recompute_modules", "core_attn"}};
    CHECK(none.activations_per_layer - plan_memory(mixtral, gpu, c).worst().activations_per_layer == 32 * 4096 * 4.0);
    // DeepSeek-V3 (MLA): mla_up_proj drops the up-projected per-head Q, K (128 × 192) and V
    // (128 × 128): s·b × 65,536 × 2 B = 536,870,912 B in every layer.
    TrainConfig d = job(Framework::megatron, 8, 1);
    d.parallel.ep = 8;
    const ModelSpec v3 = preset_or_throw("deepseek-v3", "--model");
    d.framework_options = {{"moe_token_dispatcher_type", "alltoall"}};
    const StageMemory v3_none = plan_memory(v3, gpu, d).worst();
    d.recompute = Recompute::selective;
    d.framework_options.emplace_back("recompute_modules", "mla_up_proj");
    CHECK(v3_none.activations_per_layer - plan_memory(v3, gpu, d).worst().activations_per_layer == 536870912.0);
    // Nemotron-4 15B (dense, squared ReLU, f 24,576): mlp drops the MLP's input (the norm fused into
    // linear_fc1, s·b·h × 2 B = 50,331,648) and both inner tensors, relu's output and the down
    // projection's input (2 × s·b·f × 2 B = 402,653,184): 452,984,832 B per layer.
    TrainConfig n = job(Framework::megatron, 1, 1);
    const ModelSpec nemotron = preset_or_throw("nemotron-4-15b", "--model");
    const StageMemory n_none = plan_memory(nemotron, gpu, n).worst();
    n.recompute = Recompute::selective;
    n.framework_options = {{"recompute_modules", "mlp"}};
    CHECK(n_none.activations_per_layer - plan_memory(nemotron, gpu, n).worst().activations_per_layer == 452984832.0);
    // Refused: modules without --recompute selective, and the modules not modelled.
    c.recompute = Recompute::none;
    CHECK_THROWS_AS(plan_memory(mixtral, gpu, c), InputError);
    c.recompute = Recompute::selective;
    c.framework_options = {{"recompute_modules", "mhc"}};
    CHECK_THROWS_WITH(plan_memory(mixtral, gpu, c), Catch::Contains("'mhc' is not modelled"));
    c.framework_options = {{"recompute_modules", ","}};
    CHECK_THROWS_WITH(plan_memory(mixtral, gpu, c), Catch::Contains("name at least one module"));
}

TEST_CASE("megatron: --recompute-modules moe keeps the MoE block's input and runs it again", "[framework][megatron][golden]") {
    // Mixtral 8x7B (32 MoE layers, h 4096, top-2 of 8 experts of 14,336), ep 8, s 4096, b 1, bf16.
    // moe drops every tensor of the MoE block, keeping its input (the pre-MLP norm's output): the fp32
    // router logits s·b·8·4 = 131,072 B; the dispatched tokens and the expert outputs 2 copies ×
    // s·b·h × 2 B = 67,108,864 B each; the experts' gate and up outputs and down input 3 × 2 copies ×
    // s·b × 14,336 × 2 B = 704,643,072 B: 838,991,872 B per layer.
    TrainConfig c = job(Framework::megatron, 8, 1);
    c.parallel.ep = 8;
    c.framework_options = {{"moe_token_dispatcher_type", "alltoall"}};
    const ModelSpec mixtral = preset_or_throw("mixtral-8x7b", "--model");
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "--gpu");
    const MemoryPlan none = plan_memory(mixtral, gpu, c);
    c.recompute = Recompute::selective;
    c.framework_options.emplace_back("recompute_modules", "core_attn,moe");
    const MemoryPlan moe = plan_memory(mixtral, gpu, c);
    CHECK(none.worst().activations_per_layer - moe.worst().activations_per_layer == 32 * 4096 * 4.0 + 838991872.0);
    // Time: the MoE blocks' forward again — 4 + 2 all-to-alls per MoE layer and micro-batch, and the
    // host work once more: the layer's sync and its share per layer forward, and the per-expert
    // part's forward share (2 of 6 grouped GEMMs).
    const ComputeTime t0 = compute_time(none, PerfOptions{}), t1 = compute_time(moe, PerfOptions{});
    CHECK(t1.moe_recompute_share == 1);
    CHECK(t0.moe_recompute_share == 0);
    CHECK(t1.microbatch_backward_seconds > t0.microbatch_backward_seconds);
    auto a2a_calls = [&](const MemoryPlan& p, const ComputeTime& t) {
        for (const CollectiveUse& u : step_collectives(p, default_cluster(gpu, 8), PerfOptions{}, t))
            if (u.kind == Collective::all_to_all) return u.count;
        return -1.0;
    };
    CHECK(a2a_calls(none, t0) == 4 * 32);
    CHECK(a2a_calls(moe, t1) == 6 * 32);
    CHECK(t1.moe_host.layer_passes == Approx(32 * (1 + 2.0 / 6)).epsilon(1e-12));
    CHECK(t0.moe_host.layer_forwards == 32);
    CHECK(t1.moe_host.layer_forwards == 64);
}

TEST_CASE("megatron: the precision-aware optimizer's dtypes, main parameters and moments by hand", "[frameworks][megatron][golden]") {
    // llama-2-7b (6,738,415,616 params) on 8 GPUs, --zero 1 (the distributed optimizer, ÷ 8).
    const ModelSpec m = preset_or_throw("llama-2-7b", "t");
    const GpuSpec& gpu = gpu_or_throw("h100-sxm", "t");
    auto stage = [&](Precision prec, std::vector<std::pair<std::string, std::string>> options) {
        TrainConfig c;
        c.parallel.gpus = 8;
        c.parallel.zero = 1;
        c.precision = prec;
        c.seq = 4096;
        c.micro_batch = 1;
        c.framework = Framework::megatron;
        c.framework_options = std::move(options);
        return plan_memory(m, gpu, c).worst();
    };
    const double psi = 6738415616.0, shard = psi / 8;
    const StageMemory plain = stage(Precision::mixed_bf16, {});
    CHECK(plain.master == 4 * shard);             // fp32 main parameters
    CHECK(plain.optimizer_states == 8 * shard);   // fp32 exp_avg + exp_avg_sq
    // --use-precision-aware-optimizer with fp32 dtypes: Transformer Engine's FusedAdam holds the main
    // parameters of a --bf16 run as the 16-bit remainders beside the bf16 weights (store_param_remainders).
    const StageMemory aware = stage(Precision::mixed_bf16, {{"use_precision_aware_optimizer", "true"}});
    CHECK(aware.master == 2 * shard);
    CHECK(aware.optimizer_states == 8 * shard);
    // DeepSeek-V3's recipe: bf16 moments, 2 + 2 B.
    const StageMemory bf16 = stage(Precision::mixed_bf16, {{"use_precision_aware_optimizer", "true"}, {"exp_avg_dtype", "bf16"},
                                                           {"exp_avg_sq_dtype", "bf16"}});
    CHECK(bf16.optimizer_states == 4 * shard);
    CHECK(bf16.master == 2 * shard);
    // fp8 moments: 1 + 1 B; remainders off: fp32 main parameters again.
    CHECK(stage(Precision::mixed_bf16, {{"use_precision_aware_optimizer", "true"}, {"exp_avg_dtype", "fp8"}, {"exp_avg_sq_dtype", "fp8"}})
              .optimizer_states == 2 * shard);
    CHECK(stage(Precision::mixed_bf16, {{"use_precision_aware_optimizer", "true"}, {"store_param_remainders", "false"}}).master == 4 * shard);
    // Quantized linears (current-scaling FP8, MXFP8): Megatron-Core keeps fp32 main parameters itself.
    const StageMemory mx = stage(Precision::mxfp8, {{"use_precision_aware_optimizer", "true"}, {"exp_avg_dtype", "bf16"},
                                                    {"exp_avg_sq_dtype", "bf16"}});
    CHECK(mx.master == 4 * shard);
    CHECK(mx.optimizer_states == 4 * shard);
    // --main-params-dtype fp16: 2 B whatever the precision.
    CHECK(stage(Precision::mxfp8, {{"use_precision_aware_optimizer", "true"}, {"main_params_dtype", "fp16"}}).master == 2 * shard);
    // Refused as Megatron refuses them.
    CHECK_THROWS_WITH(stage(Precision::mixed_bf16, {{"exp_avg_dtype", "bf16"}}),
                      Catch::Contains("with --use-precision-aware-optimizer only"));
    CHECK_THROWS_WITH(stage(Precision::mixed_bf16, {{"use_precision_aware_optimizer", "true"}, {"exp_avg_dtype", "int4"}}),
                      Catch::Contains("exp_avg_dtype"));
    TrainConfig zero0;
    zero0.parallel.gpus = 8;
    zero0.framework = Framework::megatron;
    zero0.framework_options = {{"use_precision_aware_optimizer", "true"}};
    CHECK_THROWS_WITH(plan_memory(m, gpu, zero0), Catch::Contains("distributed optimizer only"));
    // Megatron's arguments give the same plan.
    const test::CliResult r = test::run_cli(
        {"plan", "--gpus", "8", "--framework", "megatron", "--json", "--megatron-args",
         "--num-layers 32 --hidden-size 4096 --ffn-hidden-size 11008 --num-attention-heads 32 --swiglu --normalization RMSNorm "
         "--position-embedding-type rope --disable-bias-linear --untie-embeddings-and-output-weights --seq-length 4096 "
         "--max-position-embeddings 4096 --padded-vocab-size 32000 --bf16 --use-distributed-optimizer --micro-batch-size 1 "
         "--use-precision-aware-optimizer --exp-avg-dtype bf16 --exp-avg-sq-dtype bf16"});
    INFO(r.err);
    REQUIRE(r.code == 0);
    const nlohmann::json j = nlohmann::json::parse(r.out);
    CHECK(j["memory"]["per_gpu"]["optimizer_states_bytes"] == static_cast<long long>(4 * shard));
    CHECK(j["memory"]["per_gpu"]["optimizer_master_bytes"] == static_cast<long long>(2 * shard));
}

TEST_CASE("megatron: --attention-backend flash times the attention core at FlashAttention-2's rows", "[framework][megatron]") {
    // Transformer Engine prefers cuDNN's fused attention on Hopper; --attention-backend flash (or a
    // recipe's NVTE_FUSED_ATTN=0) leaves FlashAttention-2: the H100 table's flash rows, the same
    // rows and shapes as the generic model's, so the two attention efficiencies are equal.
    TrainConfig c = job(Framework::megatron, 8, 1);
    const ComputeTime fused = compute_time(plan("llama-3-8b", c), PerfOptions{});
    c.framework_options = {{"attention_backend", "flash"}};
    const ComputeTime flash = compute_time(plan("llama-3-8b", c), PerfOptions{});
    TrainConfig g = job(Framework::generic, 8, 1);
    const ComputeTime generic = compute_time(plan("llama-3-8b", g), PerfOptions{});
    CHECK(fused.rate_sources.attention.find("cudnn_attention rows") != std::string::npos);
    CHECK(flash.rate_sources.attention.find("flash_attention rows") != std::string::npos);
    CHECK(flash.attention_efficiency == generic.attention_efficiency);
    CHECK(flash.attention_efficiency < fused.attention_efficiency);  // cuDNN's kernel is the faster on H100 at s 4096
    for (const char* v : {"auto", "fused", "unfused", "local"}) {
        c.framework_options = {{"attention_backend", v}};
        CHECK(compute_time(plan("llama-3-8b", c), PerfOptions{}).attention_efficiency == fused.attention_efficiency);
    }
    c.framework_options = {{"attention_backend", "triton"}};
    CHECK_THROWS_WITH(compute_time(plan("llama-3-8b", c), PerfOptions{}), Catch::Contains("attention_backend=triton"));
}

TEST_CASE("megatron-bridge: Megatron-Core under Megatron Bridge's performance-recipe defaults, each resolved by the job",
          "[framework][megatron][golden]") {
    // The defaults the profile resolves for a job (planner/framework_megatron.cpp, MegatronBridgeProfile).
    TrainConfig c = job(Framework::megatron_bridge, 64, 1);
    c.parallel.tp = 4;
    c.parallel.sp = true;
    c.precision = Precision::fp8;
    CHECK(framework_option(c, "overlap_param_gather") == "true");
    CHECK(framework_option(c, "cross_entropy_loss_fusion") == "true");
    CHECK(framework_option(c, "moe_token_dispatcher_type") == "flex");
    CHECK(framework_option(c, "grad_reduce_in_bf16") == "true");
    CHECK(framework_option(c, "fp8_param_gather") == "true");
    CHECK(framework_option(c, "tp_comm_overlap") == "true");
    CHECK(framework_option(c, "use_precision_aware_optimizer") == "false");  // fp8: not the bf16 recipe's
    CHECK(framework_option(c, "cuda_graph_impl") == "none");                 // per recipe: Megatron's default
    // Each conditional default follows the job: no TP overlap without sequence parallelism or below tp 2,
    // no bf16 gradient reduction under --fp16, no fp8 parameter gather under nvfp4, the precision-aware
    // optimizer under mixed-bf16 with adam and the distributed optimizer only.
    TrainConfig t = c;
    t.parallel.sp = false;
    CHECK(framework_option(t, "tp_comm_overlap") == "false");
    t.parallel.tp = 1;
    CHECK(framework_option(t, "tp_comm_overlap") == "false");
    TrainConfig f16 = c;
    f16.precision = Precision::mixed_fp16;
    CHECK(framework_option(f16, "grad_reduce_in_bf16") == "false");
    CHECK(framework_option(f16, "fp8_param_gather") == "false");
    TrainConfig fp4 = c;
    fp4.precision = Precision::nvfp4;
    CHECK(framework_option(fp4, "grad_reduce_in_bf16") == "true");
    CHECK(framework_option(fp4, "fp8_param_gather") == "false");
    TrainConfig bf = c;
    bf.precision = Precision::mixed_bf16;
    CHECK(framework_option(bf, "use_precision_aware_optimizer") == "true");
    for (int zero : {0, 2, 3}) {
        bf.parallel.zero = zero;
        CHECK(framework_option(bf, "use_precision_aware_optimizer") == "false");
    }
    bf.parallel.zero = 1;
    bf.optimizer = Optimizer::sgd;
    CHECK(framework_option(bf, "use_precision_aware_optimizer") == "false");
    // A setting given is taken as given.
    TrainConfig given = c;
    given.framework_options = {{"moe_token_dispatcher_type", "alltoall"}, {"tp_comm_overlap", "false"}};
    CHECK(framework_option(given, "moe_token_dispatcher_type") == "alltoall");
    CHECK(framework_option(given, "tp_comm_overlap") == "false");
    // Megatron's profile named alone plans the same performance settings (Megatron-LM's README and
    // examples), but not the two Megatron Bridge adds.
    TrainConfig lm = c;
    lm.framework = Framework::megatron;
    CHECK(framework_option(lm, "overlap_param_gather") == "true");
    CHECK(framework_option(lm, "moe_token_dispatcher_type") == "flex");
    CHECK(framework_option(lm, "tp_comm_overlap") == "true");
    CHECK(framework_option(lm, "cross_entropy_loss_fusion") == "true");
    CHECK(framework_option(lm, "fp8_param_gather") == "true");
    CHECK(framework_option(lm, "grad_reduce_in_bf16") == "false");
    lm.precision = Precision::mixed_bf16;
    CHECK(framework_option(lm, "use_precision_aware_optimizer") == "false");
    // Where the two differ, the options' listing keeps Megatron-LM's argument default beside it.
    for (const FrameworkOption& o : framework_profile(Framework::megatron).option_list())
        if (o.key == "overlap_param_gather" || o.key == "cross_entropy_loss_fusion" || o.key == "tp_comm_overlap")
            CHECK(o.argument_default == "false");
        else if (o.key == "moe_token_dispatcher_type")
            CHECK(o.argument_default == "allgather");

    // The plan under megatron-bridge is Megatron's with those settings written out, term for term.
    const GpuSpec& gpu = *find_gpu("h100-sxm");
    const ModelSpec dense = preset_or_throw("llama-3-70b", "--model");
    TrainConfig d = c;
    d.parallel.pp = 2;
    d.global_batch = 128;
    d.seq = 8192;
    TrainConfig written = d;
    written.framework = Framework::megatron;
    written.framework_options = {{"overlap_param_gather", "true"}, {"cross_entropy_loss_fusion", "true"}, {"grad_reduce_in_bf16", "true"},
                                 {"fp8_param_gather", "true"},     {"tp_comm_overlap", "true"},           {"moe_token_dispatcher_type", "flex"}};
    const MemoryPlan mb = plan_memory(dense, gpu, d), mw = plan_memory(dense, gpu, written);
    CHECK(mb.worst().device_total == mw.worst().device_total);
    const PerfPlan pb = plan_perf(mb, default_cluster(gpu, 8), {}), pw = plan_perf(mw, default_cluster(gpu, 8), {});
    CHECK(pb.step_seconds == pw.step_seconds);
    CHECK(pb.comm_exposed_seconds == pw.comm_exposed_seconds);
    // ... and not Megatron-LM's argument defaults: the TP overlap and the parameter all-gather under the forward hide communication.
    TrainConfig plain = d;
    plain.framework = Framework::megatron;
    plain.framework_options = {{"overlap_param_gather", "false"}, {"tp_comm_overlap", "false"}};
    CHECK(plan_perf(plan_memory(dense, gpu, plain), default_cluster(gpu, 8), {}).comm_exposed_seconds > pb.comm_exposed_seconds);
    // MoE: the flex dispatcher and the bf16 recipe's precision-aware optimizer (memory).
    const ModelSpec moe = preset_or_throw("qwen3-30b-a3b", "--model");
    TrainConfig e = job(Framework::megatron_bridge, 16, 1);
    e.parallel.ep = 16;
    e.global_batch = 64;
    TrainConfig ew = e;
    ew.framework = Framework::megatron;
    ew.framework_options = {{"overlap_param_gather", "true"}, {"cross_entropy_loss_fusion", "true"}, {"grad_reduce_in_bf16", "true"},
                            {"moe_token_dispatcher_type", "flex"}, {"use_precision_aware_optimizer", "true"}};
    const MemoryPlan eb = plan_memory(moe, gpu, e), em = plan_memory(moe, gpu, ew);
    CHECK(eb.worst().device_total == em.worst().device_total);
    CHECK(plan_perf(eb, default_cluster(gpu, 8), {}).step_seconds == plan_perf(em, default_cluster(gpu, 8), {}).step_seconds);

    // The CLI names the conventions; a key the profile does not take lists the job-dependent defaults.
    const test::CliResult r = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "16", "--tp", "2", "--sp", "--zero", "1",
                                             "--framework", "megatron-bridge"});
    REQUIRE(r.code == 0);
    CHECK(r.out.find("as      Megatron Bridge's performance-recipe defaults (067f987d) on Megatron-Core") != std::string::npos);
    CHECK(r.out.find("--tp-comm-overlap, --overlap-grad-reduce --overlap-param-gather, --cross-entropy-loss-fusion") !=
          std::string::npos);
    CHECK(r.out.find("naming --framework megatron-bridge and nothing else") != std::string::npos);
    CHECK(r.out.find("a NeMo / Megatron Bridge recipe is --framework megatron-bridge") == std::string::npos);
    // Megatron-LM's profile named alone plans Megatron-LM's performance settings (the same overlaps
    // and fusions), says so and points a NeMo run to megatron-bridge; its error band is its own (the
    // NeMo runs planned with it counted).
    const test::CliResult alone = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "16", "--tp", "2", "--sp", "--zero",
                                                 "1", "--framework", "megatron"});
    REQUIRE(alone.code == 0);
    CHECK(alone.out.find("--tp-comm-overlap, --overlap-grad-reduce --overlap-param-gather, --cross-entropy-loss-fusion; named "
                         "alone: Megatron-LM's performance settings") != std::string::npos);
    CHECK(alone.out.find("a NeMo / Megatron Bridge recipe is --framework megatron-bridge") != std::string::npos);
    CHECK(alone.out.find("naming --framework megatron and nothing else") != std::string::npos);
    // Each is one option away from Megatron-LM's argument default, and an option given drops the note.
    const test::CliResult set = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "16", "--tp", "2", "--sp", "--zero", "1",
                                               "--framework", "megatron", "--framework-option", "tp_comm_overlap=false",
                                               "--framework-option", "overlap_param_gather=false"});
    REQUIRE(set.code == 0);
    CHECK(set.out.find("named alone") == std::string::npos);
    CHECK(set.out.find("--tp-comm-overlap") == std::string::npos);
    CHECK(set.out.find("TP + sequence parallel, --overlap-grad-reduce, --cross-entropy-loss-fusion") != std::string::npos);
    // Without sequence parallelism Megatron cannot overlap TP: the default follows --sp.
    const test::CliResult nosp = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "16", "--tp", "2", "--zero", "1",
                                                "--framework", "megatron"});
    REQUIRE(nosp.code == 0);
    CHECK(nosp.out.find("--tp-comm-overlap") == std::string::npos);
    const test::CliResult bad = test::run_cli({"plan", "--model", "llama-2-7b", "--gpus", "8", "--framework", "megatron-bridge",
                                               "--framework-option", "overlap_grad_reduce=true"});
    CHECK(bad.code != 0);
    CHECK(bad.err.find("tp_comm_overlap (default true with --tp > 1 and --sp)") != std::string::npos);
}
