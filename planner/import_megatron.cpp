// import_megatron.cpp — a Megatron-LM (or NeMo's Megatron) argument list as llmplan flags and a
// model shape (job_import.h). Names and defaults are Megatron-LM's at d98e8a64:
// megatron/training/arguments.py, megatron/core/transformer/transformer_config.py,
// megatron/core/model_parallel_config.py, megatron/training/config/training_config.py
// (docs/REFERENCES.md §11; every argument in docs/IMPORTS.md).
#include "planner/job_import.h"
#include "planner/job_import_detail.h"

#include "core/error.h"
#include "core/presets.h"
#include "core/quantity.h"
#include "core/text.h"
#include "planner/framework.h"

#include <algorithm>
#include <map>
#include <set>

namespace llmplan {

namespace {

using import_detail::Recorder;

// Megatron's store_true arguments that this import reads or names (the others take a value; an
// unknown argument followed by a word that is not an argument takes that word as its value).
const std::set<std::string>& switches() {
    static const std::set<std::string> s{
        "--group-query-attention", "--sequence-parallel", "--use-distributed-optimizer", "--bf16", "--fp16", "--swiglu", "--squared-relu",
        "--untie-embeddings-and-output-weights", "--disable-bias-linear", "--add-qkv-bias",
        "--use-rotary-position-embeddings", "--qk-layernorm", "--use-flash-attn", "--account-for-embedding-in-pipeline-split",
        "--account-for-loss-in-pipeline-split", "--grad-reduce-in-bf16", "--accumulate-allreduce-grads-in-fp32",
        "--fp8-param-gather", "--fp4-param-gather", "--overlap-grad-reduce", "--overlap-param-gather", "--use-mcore-models", "--no-masked-softmax-fusion",
        "--no-bias-gelu-fusion", "--no-bias-dropout-fusion", "--no-gradient-accumulation-fusion", "--mock-data",
        "--use-checkpoint-args", "--no-load-optim", "--no-load-rng", "--log-throughput",
        "--tp-comm-overlap", "--moe-grouped-gemm", "--use-legacy-models", "--no-async-tensor-model-parallel-allreduce",
        "--use-precision-aware-optimizer", "--first-last-layers-bf16", "--mtp-use-repeated-layer"};
    return s;
}

}  // namespace

JobImport import_megatron(const std::string& args, const std::string& source, JobText& job, const FlagGiven& given) {
    return import_detail::import_megatron_words(split_argument_words(args, "--megatron-args " + source), "--megatron-args", source, job, given);
}

JobImport import_detail::import_megatron_words(const std::vector<std::string>& words, const std::string& flag, const std::string& source,
                                               JobText& job, const FlagGiven& given) {
    JobImport result;
    result.flag = flag;
    result.source = source;
    Recorder rec(result, given);
    // Megatron's arguments as NAME → value ("" for a switch); the last one given wins, as in argparse.
    const import_detail::ArgumentList list = import_detail::read_argument_list(
        words, {switches()}, [&](const std::string& w) { rec.ignore(w, "not a Megatron argument (a launcher or script word)"); });
    const std::map<std::string, std::string>& a = list.values;
    const std::vector<std::string>& order = list.order;
    std::set<std::string> used;
    auto has = [&](const std::string& n) {
        if (!a.count(n)) return false;
        used.insert(n);
        return true;
    };
    auto value = [&](const std::string& n) -> std::string {
        used.insert(n);
        if (a.at(n).empty()) rec.fail(n, "needs a value");
        return a.at(n);
    };
    auto integer = [&](const std::string& n, std::int64_t lo, std::int64_t hi) { return rec.integer(n, value(n), lo, hi); };
    auto text_int = [&](const std::string& n, std::int64_t lo, std::int64_t hi) { return std::to_string(integer(n, lo, hi)); };

    rec.derive("--framework", job.framework, "megatron", "a Megatron-LM argument list: Megatron-Core's memory and time");

    // torchrun's --nproc-per-node × --nnodes (either spelling), when the launch line is there.
    {
        const char* per[] = {"--nproc_per_node", "--nproc-per-node"};
        const char* nodes[] = {"--nnodes", "--nnodes"};
        for (int k = 0; k < 2; ++k) {
            if (!a.count(per[k])) continue;
            const std::string n = a.count(nodes[k]) ? a.at(nodes[k]) : "1";
            if (n.find_first_not_of("0123456789") != std::string::npos) break;  // elastic "1:4": no fixed count
            const std::int64_t gpus = integer(per[k], 1, 1 << 20) * (a.count(nodes[k]) ? integer(nodes[k], 1, 1 << 20) : 1);
            rec.derive("--gpus", job.gpus, std::to_string(gpus), "torchrun --nproc-per-node × --nnodes");
            used.insert(per[k]);
            used.insert(nodes[k]);
            break;
        }
    }
    // Parallelism (model_parallel_config.py; default 1 each).
    if (has("--tensor-model-parallel-size")) rec.take("--tp", job.tp, text_int("--tensor-model-parallel-size", 1, 1 << 20), "--tensor-model-parallel-size");
    if (has("--pipeline-model-parallel-size")) rec.take("--pp", job.pp, text_int("--pipeline-model-parallel-size", 1, 1 << 20), "--pipeline-model-parallel-size");
    if (has("--context-parallel-size")) rec.take("--cp", job.cp, text_int("--context-parallel-size", 1, 1 << 20), "--context-parallel-size");
    if (has("--expert-model-parallel-size")) rec.take("--ep", job.ep, text_int("--expert-model-parallel-size", 1, 1 << 20), "--expert-model-parallel-size");
    if (has("--expert-tensor-parallel-size"))
        rec.take("--etp", job.etp, text_int("--expert-tensor-parallel-size", 1, 1 << 20), "--expert-tensor-parallel-size");
    if (has("--sequence-parallel")) rec.take_flag("--sp", job.sp, true, "--sequence-parallel");
    if (has("--num-virtual-stages-per-pipeline-rank"))
        rec.take("--virtual-stages", job.virtual_stages, text_int("--num-virtual-stages-per-pipeline-rank", 1, 1024),
                 "--num-virtual-stages-per-pipeline-rank");
    if (has("--num-layers-per-virtual-pipeline-stage")) {
        const std::int64_t per = integer("--num-layers-per-virtual-pipeline-stage", 1, 1 << 20);
        if (!has("--num-layers")) rec.fail("--num-layers-per-virtual-pipeline-stage", "needs --num-layers");
        const std::int64_t layers = integer("--num-layers", 1, 1 << 20), pp = rec.value_of(job.pp, "--pp");
        if (layers % (per * pp) != 0)
            rec.fail("--num-layers-per-virtual-pipeline-stage", std::to_string(layers) + " layers are not a multiple of " +
                                                                     std::to_string(per) + " × pipeline size " + std::to_string(pp));
        rec.derive("--virtual-stages", job.virtual_stages, std::to_string(layers / (per * pp)),
                   "--num-layers ÷ (--num-layers-per-virtual-pipeline-stage × --pipeline-model-parallel-size)");
    }
    if (has("--decoder-first-pipeline-num-layers") || has("--decoder-last-pipeline-num-layers")) {
        const std::string f = a.count("--decoder-first-pipeline-num-layers") ? text_int("--decoder-first-pipeline-num-layers", 1, 1 << 20) : "";
        const std::string l = a.count("--decoder-last-pipeline-num-layers") ? text_int("--decoder-last-pipeline-num-layers", 1, 1 << 20) : "";
        rec.take("--pp-first-last", job.pp_first_last, f + "," + l, "--decoder-first/last-pipeline-num-layers");
    }
    if (has("--account-for-embedding-in-pipeline-split"))
        rec.take_flag("--account-for-embedding-in-pipeline-split", job.embedding_in_pipeline_split, true, "--account-for-embedding-in-pipeline-split");
    if (has("--account-for-loss-in-pipeline-split"))
        rec.take_flag("--account-for-loss-in-pipeline-split", job.loss_in_pipeline_split, true, "--account-for-loss-in-pipeline-split");
    if (has("--use-distributed-optimizer")) rec.take("--zero", job.zero, "1", "--use-distributed-optimizer (ZeRO-1 over data-parallel ranks)");
    else rec.derive("--zero", job.zero, "0", "no --use-distributed-optimizer: each data-parallel rank keeps the whole optimizer");

    // Precision (model_parallel_config.py bf16/fp16, transformer_config.py fp8 as --fp8-format and
    // fp4 as --fp4-format with --fp4-recipe, default nvfp4).
    if (has("--fp4-format")) {
        const std::string f = value("--fp4-format");
        if (f != "e2m1") rec.fail("--fp4-format", "\"" + f + "\" is not e2m1");
        if (has("--fp8-format")) rec.fail("--fp4-format", "Megatron-LM refuses --fp4-format with --fp8-format");
        const std::string recipe = a.count("--fp4-recipe") ? value("--fp4-recipe") : "nvfp4";
        if (recipe != "nvfp4") rec.fail("--fp4-recipe", "\"" + recipe + "\" is not modelled (nvfp4 is)");
        rec.take("--precision", job.precision, "nvfp4", "--fp4-format " + f + " --fp4-recipe " + recipe);
        has("--bf16");  // NVFP4 runs on top of --bf16
    } else if (has("--fp8-format")) {
        const std::string f = value("--fp8-format");
        if (f != "e4m3" && f != "hybrid") rec.fail("--fp8-format", "\"" + f + "\" is not e4m3 or hybrid");
        // --fp8-recipe (transformer_config.py fp8_recipe): mxfp8 is its own precision; the per-tensor
        // recipes (delayed, the default; tensorwise) and blockwise plan as fp8.
        const std::string recipe = a.count("--fp8-recipe") ? value("--fp8-recipe") : "delayed";
        if (recipe != "delayed" && recipe != "tensorwise" && recipe != "blockwise" && recipe != "mxfp8")
            rec.fail("--fp8-recipe", "\"" + recipe + "\" is not delayed, tensorwise, blockwise or mxfp8");
        if (recipe == "mxfp8") rec.take("--precision", job.precision, "mxfp8", "--fp8-format " + f + " --fp8-recipe mxfp8");
        else rec.take("--precision", job.precision, "fp8", "--fp8-format " + f + (a.count("--fp8-recipe") ? " --fp8-recipe " + recipe : ""));
        has("--bf16");  // Transformer Engine's fp8 runs on top of --bf16
    } else if (has("--bf16")) {
        rec.take("--precision", job.precision, "mixed-bf16", "--bf16");
    } else if (has("--fp16")) {
        rec.take("--precision", job.precision, "mixed-fp16", "--fp16");
    } else {
        rec.derive("--precision", job.precision, "fp32", "neither --bf16 nor --fp16: Megatron-LM trains in fp32");
    }
    // The Megatron profile's settings, under their argument names (recompute_method → --recompute-method).
    for (const FrameworkOption& fo : framework_profile(Framework::megatron).option_list()) {
        const std::string arg = import_detail::argument_name(fo.key);
        if (has(arg)) {
            rec.option(job.framework_options, fo.key, a.at(arg).empty() ? "true" : a.at(arg), arg);
        } else if (!fo.argument_default.empty()) {
            // The profile named alone plans Megatron-LM's performance settings; arguments that
            // omit one run without it (the argument default; a setting the job does not use, such
            // as the dispatcher of a dense model, changes nothing).
            rec.option(job.framework_options, fo.key, fo.argument_default,
                       "no " + arg + ": Megatron-LM's argument default " + fo.argument_default, true);
        }
    }
    // Activation offloading: --cpu-offloading-num-layers N > 0 turns cpu_offloading on (arguments.py).
    if (has("--cpu-offloading-num-layers") && value("--cpu-offloading-num-layers") != "0")
        rec.take("--offload-activations", job.offload_activations, value("--cpu-offloading-num-layers"),
                 "--cpu-offloading-num-layers (Transformer Engine's CPU offloading of the first N layers' activations)");
    if (has("--recompute-granularity")) {
        const std::string g = value("--recompute-granularity");
        if (g != "full" && g != "selective") rec.fail("--recompute-granularity", "\"" + g + "\" is not full or selective");
        rec.take("--recompute", job.recompute, g, "--recompute-granularity");
    }
    if (has("--optimizer")) {
        const std::string o = value("--optimizer");
        if (o == "adam") rec.take("--optimizer", job.optimizer, "adamw", "--optimizer adam (decoupled weight decay)");
        else if (o == "sgd") {
            const double momentum = has("--sgd-momentum") ? rec.real("--sgd-momentum", value("--sgd-momentum"), 0, 1) : 0.9;
            rec.take("--optimizer", job.optimizer, momentum > 0 ? "sgd-momentum" : "sgd",
                     "--optimizer sgd, --sgd-momentum " + format_fixed(momentum, 2));
        } else if (o == "lion") rec.take("--optimizer", job.optimizer, "lion", "--optimizer lion");
        else rec.ignore("--optimizer", "\"" + o + "\" is not modelled: --optimizer decides");
    } else {
        rec.derive("--optimizer", job.optimizer, "adamw", "Megatron-LM's default --optimizer adam (decoupled weight decay)");
    }
    // Dropout: hidden_dropout (transformer_config.py, default 0.1) stores masks after attention and MLP.
    if (has("--hidden-dropout")) {
        rec.real("--hidden-dropout", value("--hidden-dropout"), 0, 0.999);
        rec.take("--dropout", job.dropout, value("--hidden-dropout"), "--hidden-dropout");
    } else {
        rec.derive("--dropout", job.dropout, "0.1", "Megatron-LM's default --hidden-dropout 0.1");
    }
    if (has("--attention-dropout")) rec.ignore("--attention-dropout", "inside the fused attention kernel: no stored mask under --attention flash");
    if (has("--attention-backend")) {
        const std::string b = value("--attention-backend");
        if (b == "unfused" || b == "local") rec.take("--attention", job.attention, "eager", "--attention-backend " + b);
        else rec.take("--attention", job.attention, "flash", "--attention-backend " + b);
    }

    // Batch and sequence (training_config.py; Megatron's default global batch is micro × data-parallel).
    if (has("--micro-batch-size")) rec.take("--micro-batch", job.micro_batch, text_int("--micro-batch-size", 1, 1 << 20), "--micro-batch-size");
    if (has("--seq-length")) rec.take("--seq", job.seq, text_int("--seq-length", 1, 1 << 24), "--seq-length");
    if (has("--global-batch-size")) {
        rec.take("--global-batch", job.global_batch, text_int("--global-batch-size", 1, std::int64_t{1} << 40), "--global-batch-size");
    } else {
        const std::int64_t dp = rec.data_parallel(job), m = rec.value_of(job.micro_batch, "--micro-batch");
        rec.derive("--global-batch", job.global_batch, std::to_string(m * dp),
                   "no --global-batch-size: Megatron-LM's default micro-batch × data-parallel size " + std::to_string(dp));
    }
    if (has("--train-iters") || has("--train-samples")) {
        const std::int64_t seq = job.seq.empty() ? 0 : rec.value_of(job.seq, "--seq");
        const std::int64_t gbs = job.global_batch.empty() ? 0 : rec.value_of(job.global_batch, "--global-batch");
        if (seq > 0 && gbs > 0) {
            const bool iters = a.count("--train-iters") > 0;
            const std::int64_t n = iters ? integer("--train-iters", 1, std::int64_t{1} << 40) : integer("--train-samples", 1, std::int64_t{1} << 50);
            result.tokens = std::to_string(iters ? n * gbs * seq : n * seq);
            rec.r.derived.push_back({"--tokens", result.tokens, iters ? "--train-iters" : "--train-samples",
                                     iters ? "--train-iters × global batch × sequence" : "--train-samples × sequence",
                                     given("--tokens")});
            if (given("--tokens")) result.tokens.clear();
        }
    }

    // The model, when the arguments spell it out (transformer_config.py; arguments.py "network size").
    if (has("--num-layers") || has("--hidden-size")) {
        for (const char* required : {"--num-layers", "--hidden-size", "--num-attention-heads"})
            if (!has(required)) rec.fail(required, "missing: the model's shape needs --num-layers, --hidden-size and --num-attention-heads");
        ModelSpec m;
        m.name = "megatron";
        m.n_layers = static_cast<int>(integer("--num-layers", 1, 1 << 20));
        m.d_model = static_cast<int>(integer("--hidden-size", 1, 1 << 24));
        m.n_heads = static_cast<int>(integer("--num-attention-heads", 1, 1 << 20));
        m.n_kv_heads = has("--group-query-attention") && has("--num-query-groups") ? static_cast<int>(integer("--num-query-groups", 1, 1 << 20)) : m.n_heads;
        if (!has("--group-query-attention") && has("--num-query-groups"))
            rec.ignore("--num-query-groups", "without --group-query-attention Megatron-LM uses multi-head attention");
        if (m.n_heads % m.n_kv_heads != 0)  // each group serves the same number of query heads
            rec.fail("--num-query-groups", std::to_string(m.n_kv_heads) + " does not divide --num-attention-heads " + std::to_string(m.n_heads));
        // kv_channels defaults to hidden_size // num_attention_heads (transformer_config.py __post_init__).
        m.head_dim = has("--kv-channels") ? static_cast<int>(integer("--kv-channels", 1, 1 << 20)) : m.d_model / m.n_heads;
        m.d_ff = has("--ffn-hidden-size") ? static_cast<int>(integer("--ffn-hidden-size", 1, 1 << 26)) : 4 * m.d_model;
        // --squared-relu: relu(x)² in a two-matrix MLP, refused beside --swiglu
        // (arguments.py core_transformer_config_from_args: `if args.squared_relu: assert not args.swiglu`).
        if (has("--squared-relu") && has("--swiglu")) rec.fail("--squared-relu", "Megatron-LM refuses it with --swiglu");
        m.activation = has("--swiglu") ? Activation::swiglu : has("--squared-relu") ? Activation::relu2 : Activation::gelu;
        const std::string norm = has("--normalization") ? value("--normalization") : "LayerNorm";
        if (norm != "LayerNorm" && norm != "RMSNorm") rec.fail("--normalization", "\"" + norm + "\" is not LayerNorm or RMSNorm");
        m.norm = norm == "RMSNorm" ? Norm::rmsnorm : Norm::layernorm;
        m.family = m.activation == Activation::relu2                                  ? "nemotron"
                   : m.activation == Activation::swiglu && m.norm == Norm::rmsnorm ? "llama"
                                                                                   : "gpt2";
        std::string position = has("--position-embedding-type") ? value("--position-embedding-type") : "learned_absolute";
        if (has("--use-rotary-position-embeddings")) position = "rope";
        if (position == "rope" || position == "yarn" || position == "mrope") m.position = PositionEmbedding::rotary;
        else if (position == "learned_absolute") m.position = PositionEmbedding::learned;
        else if (position == "none") m.position = PositionEmbedding::none;
        else rec.fail("--position-embedding-type", "\"" + position + "\" is not modelled (rope, yarn, mrope, learned_absolute or none)");
        if (has("--rotary-percent")) m.rotary_pct = rec.real("--rotary-percent", value("--rotary-percent"), 0.01, 1);
        const bool bias = !has("--disable-bias-linear");
        m.qkv_bias = bias || has("--add-qkv-bias");
        m.out_bias = m.mlp_bias = bias;
        m.tied_embeddings = !has("--untie-embeddings-and-output-weights");
        if (has("--qk-layernorm")) m.qk_norm = QkNorm::per_head;
        const std::int64_t seq = has("--seq-length") ? integer("--seq-length", 1, 1 << 24) : 0;
        m.max_positions = has("--max-position-embeddings") ? integer("--max-position-embeddings", 1, std::int64_t{1} << 30) : seq;
        if (m.max_positions == 0) rec.fail("--max-position-embeddings", "missing, and no --seq-length to take it from");
        if (has("--padded-vocab-size")) {
            m.vocab_size = integer("--padded-vocab-size", 1, std::int64_t{1} << 30);
        } else if (has("--vocab-size")) {
            // Megatron pads the tokenizer's vocabulary to a multiple of --make-vocab-size-divisible-by × tp
            // (training/tokenizer _vocab_size_with_padding).
            const std::int64_t v = integer("--vocab-size", 1, std::int64_t{1} << 30);
            const std::int64_t by = (has("--make-vocab-size-divisible-by") ? integer("--make-vocab-size-divisible-by", 1, 1 << 20) : 128) *
                                    rec.value_of(job.tp, "--tp");
            m.vocab_size = (v + by - 1) / by * by;
            rec.r.derived.push_back({"(model) vocabulary", std::to_string(m.vocab_size), "--vocab-size",
                                     "--vocab-size " + std::to_string(v) + " padded to a multiple of --make-vocab-size-divisible-by × tp = " +
                                         std::to_string(by),
                                     false});
        } else {
            rec.fail("--vocab-size", "missing: the model's shape needs --vocab-size or --padded-vocab-size");
        }
        if (has("--num-experts")) {
            m.n_experts = static_cast<int>(integer("--num-experts", 1, 1 << 20));
            m.top_k = has("--moe-router-topk") ? static_cast<int>(integer("--moe-router-topk", 1, m.n_experts)) : 2;
            if (has("--moe-ffn-hidden-size")) m.moe_d_ff = static_cast<int>(integer("--moe-ffn-hidden-size", 1, 1 << 26));
            if (has("--moe-shared-expert-intermediate-size"))
                m.shared_d_ff = integer("--moe-shared-expert-intermediate-size", 1, 1 << 26);
        }
        // Hybrid models (pretrain_mamba.py / Megatron-Core's hybrid model: Nemotron-H, Nemotron 3):
        // --hybrid-override-pattern (or --hybrid-layer-pattern) spells every layer, M Mamba-2, *
        // attention, - MLP, E MoE; "/" starts the MTP modules' pattern (one segment per depth).
        for (const char* arg : {"--hybrid-override-pattern", "--hybrid-layer-pattern"}) {
            if (!has(arg)) continue;
            std::string pattern = value(arg), mtp;
            if (const auto slash = pattern.find('/'); slash != std::string::npos) {
                mtp = pattern.substr(slash + 1);
                pattern = pattern.substr(0, slash);
            }
            m.layer_kinds = hybrid_layer_kinds(pattern, flag + " " + source + " " + arg);
            if (static_cast<int>(m.layer_kinds.size()) != m.n_layers)
                rec.fail(arg, "spells " + std::to_string(m.layer_kinds.size()) + " layers but --num-layers is " + std::to_string(m.n_layers));
            if (!mtp.empty()) {
                const std::string first = mtp.substr(0, mtp.find('/'));
                m.mtp_kinds = hybrid_layer_kinds(first, flag + " " + source + " " + arg + " (MTP)");
                m.mtp_layers = static_cast<int>(std::count(mtp.begin(), mtp.end(), '/')) + 1;
            }
            m.mamba.heads = has("--mamba-num-heads") ? static_cast<int>(integer("--mamba-num-heads", 1, 1 << 20)) : 0;
            m.mamba.head_dim = has("--mamba-head-dim") ? static_cast<int>(integer("--mamba-head-dim", 1, 1 << 20)) : 64;
            m.mamba.state = has("--mamba-state-dim") ? static_cast<int>(integer("--mamba-state-dim", 1, 1 << 20)) : 128;
            m.mamba.groups = has("--mamba-num-groups") ? static_cast<int>(integer("--mamba-num-groups", 1, 1 << 20)) : 8;
            // mamba_num_heads None: d_inner = 2·hidden, heads = d_inner / head_dim (MambaMixer, expand 2).
            if (m.mamba.heads == 0) m.mamba.heads = 2 * m.d_model / m.mamba.head_dim;
            break;
        }
        if (has("--moe-latent-size")) m.moe_latent = static_cast<int>(integer("--moe-latent-size", 1, 1 << 20));
        if (has("--mtp-num-layers")) m.mtp_layers = static_cast<int>(integer("--mtp-num-layers", 0, 1000));
        if (has("--mtp-hybrid-override-pattern"))
            m.mtp_kinds = hybrid_layer_kinds(value("--mtp-hybrid-override-pattern"), flag + " " + source + " --mtp-hybrid-override-pattern");
        if (has("--mtp-use-repeated-layer")) m.mtp_repeated = true;
        validate_model(m, flag + " " + source);
        // A shape that is a preset's (apart from the name) is named after it.
        for (const Preset& p : model_presets()) {
            ModelSpec named = m;
            named.name = p.spec.name;
            named.family = p.spec.family;
            if (named == p.spec) {
                m = named;
                rec.r.derived.push_back({"(model) name", p.name, "the model arguments", "the shape of preset " + p.name, false});
                break;
            }
        }
        const bool over = given("--model") || given("--hf-config") || given("--params");
        rec.r.taken.push_back({"(model) shape", m.name, "--num-layers, --hidden-size, --num-attention-heads, ...", "", over});
        if (!over) result.model = m;
    }
    for (const std::string& n : order)
        if (!used.count(n)) rec.ignore(n, "not used by the plan");
    return result;
}

}  // namespace llmplan
