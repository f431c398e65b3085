// torch_sim.h — a small simulator of PyTorch's eager autograd and caching allocator.
//
// The `pytorch` framework profile (pytorch_profile.cpp) describes a Hugging Face model's training
// step as the sequence of tensor operations PyTorch runs (as logged op by op on an H100 by
// validation/pytorch_memory/trace_ops.py): every tensor an op allocates, which tensors autograd
// saves for backward, when Python drops its last reference. This simulator replays that sequence
// with PyTorch's rules and reports the allocated bytes at every moment, so the peak of
// torch.cuda.max_memory_allocated() and what is alive at that moment follow term by term:
//
//  * a storage lives while Python holds it, an autograd node has saved it, or it is a gradient
//    buffer (PyTorch's reference counting; views share their base's storage);
//  * backward runs nodes in reverse creation order (the engine's sequence-number priority);
//    a node computes the gradients of its inputs, the last input's first (the generated
//    MmBackward0 / MulBackward0 / BmmBackward0: in the allocator histories a projection's weight
//    gradient precedes its input gradient, w·x's x gradient precedes w's), while the gradient of
//    its output and its saved tensors are alive, then releases both (Node::release_variables,
//    retain_graph=False);
//  * a gradient reaching a tensor that already has one is added to it (the engine's InputBuffer,
//    torch/csrc/autograd/input_buffer.cpp accumulate): in place when the buffered one is a plain
//    tensor held only there, else out of place into a new tensor (a view: what a linear's matmul
//    hands back through its reshape or transpose; a gradient an add shares with another input);
//    a parameter's first gradient becomes its .grad (AccumulateGrad steals it);
//  * non-reentrant activation checkpointing (torch.utils.checkpoint, use_reentrant=False, what
//    transformers' gradient_checkpointing_enable() uses) keeps no saved tensors in forward and
//    recomputes a checkpointed region when backward first unpacks one of its saved tensors (the
//    unpack hook; a node that saved nothing, e.g. a residual add, runs before): its forward's allocations
//    and frees are made again in order up to the last saved tensor (checkpoint's early stop),
//    the saved tensors kept, the others freed as in forward (and what is still alive when the
//    recomputation stops freed then);
//  * selective activation checkpointing (checkpoint with context_fn =
//    create_selective_checkpoint_contexts(policy), torch/utils/checkpoint.py): the outputs of the
//    ops the policy marks MUST_SAVE are cached in forward and handed to the recomputation instead
//    of being recomputed; the recomputation pops them from the cache, after which only the nodes
//    that saved them hold them;
//  * gradient accumulation: a parameter whose .grad already exists (a later micro-batch) gets
//    its new gradient computed into a temporary and added in place (AccumulateGrad);
//  * every allocation is rounded up to the allocator's 512-byte granularity
//    (c10/cuda/CUDACachingAllocator.cpp, kMinBlockSize).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace llmplan::torchsim {

// A tensor's element type in the simulated PyTorch step: llmplan::DType (core/vocab.h) is the engine's
// storage type; PyTorch's step also holds int64 indices and bool masks.
enum class TensorType { f32, bf16, i64, b8 };
double dtype_bytes(TensorType t);
const char* to_string(TensorType t);

// What a storage is, for the explanation of the peak.
enum class Cat {
    activation,   // saved for backward (or alive between ops) in the layers
    weight_cast,  // autocast's bf16 copies of fp32 weights (or FSDP's gathered parameters)
    logits,       // logits, their fp32 upcast, log-softmax output and loss gradients
    gradient,     // parameter gradients (.grad)
    grad_flow,    // gradients flowing through backward (not yet consumed)
    temporary,    // op temporaries and workspaces
    count
};
const char* to_string(Cat c);

using V = int;  // a tensor value (a view or a tensor); -1 = none

// One replayed training step's phases (what the pytorch profile reports, eager or compiled): the
// highest allocation of forward and of backward, what forward leaves allocated, and at each peak
// the bytes by category and where it happened.
struct StepPeaks {
    double forward_peak = 0, forward_end = 0, backward_peak = 0;
    std::vector<double> forward_cats, backward_cats;
    std::string forward_where, backward_where;
};

class Sim {
public:
    // A parameter: static memory (counted outside the simulator), receives a .grad in backward
    // unless frozen (trainable = false: requires_grad False, as LoRA leaves the base).
    // grad_exists: its .grad is already allocated (a later micro-batch of gradient accumulation:
    // counted outside, like the parameter).
    V param(double elements, TensorType dtype, double grad_bytes_per_element, std::string name, bool trainable = true,
            bool grad_exists = false);
    bool requires_grad(V x) const { return values_[static_cast<std::size_t>(x)].requires_grad; }
    // A new tensor (allocated now), held by Python.
    V tensor(double elements, TensorType dtype, Cat cat, std::string name);
    // The result of an op on `inputs`: allocated now, held by Python. With gradient mode on and an
    // input that needs a gradient, an autograd node is created saving `saved` (values of this op's
    // inputs or of its output). `backward_temp` bytes are allocated transiently by its backward.
    V op(const std::string& name, const std::vector<V>& inputs, double elements, TensorType dtype,
         const std::vector<V>& saved = {}, Cat cat = Cat::activation, double backward_temp = 0);
    // Several views of x sharing one node (split): their gradients are gathered into one
    // gradient of x's size.
    std::vector<V> split(V x, const std::vector<double>& elements);
    // Also saves the op's own output in its node (ops whose backward uses their result:
    // softmax, log_softmax, tanh, rsqrt).
    void save_output(V out);
    // The op's backward hands the gradient of its output to its inputs unchanged (AddBackward0
    // returns grad itself for both operands): an input of the output's dtype and size receives
    // that very tensor, nothing is allocated; another (promoted or broadcast) gets its own.
    // Allocator histories of alloc-l1b128k-bf16-eager-b2-s2048-ckpt and
    // alloc-g124-fp32-eager-b4-s1024-ckpt: the residual adds, rotary's add and the attention
    // mask's add allocate nothing in backward.
    // views = true: every input receives a view of the output's gradient whatever its size
    // (CatBackward0 hands each input its slice of the gradient).
    void pass_gradient(V out, bool views = false);
    // One more transient block of the node's backward (allocated after `backward_temp` and the
    // ones added before, all freed in reverse order before the node returns).
    void backward_temp(V out, double bytes);
    // The node's backward temporaries belong to the first gradient it computes (its last input's):
    // allocated before any input gradient, freed after them.
    void backward_temp_first(V out);
    // A matmul outside the tracked ops ran now (rotary_emb's): the forward's first, if none before.
    void note_first_matmul() {
        if (!in_backward_ && first_mm_event_[0] < 0) first_mm_event_[0] = static_cast<int>(events_.size());
    }
    // Index the next autograd node will get (to mark where a module's nodes begin and end).
    int next_node() const { return static_cast<int>(nodes_.size()); }
    // Keeps x alive until node `node` has run in backward (FSDP keeps a layer's gathered
    // parameters until that layer's backward is done).
    void hold_until_node(V x, int node);
    // Allocates `bytes` when backward reaches node `last` and frees them after node `first` has
    // run (FSDP re-gathers a resharded layer and its unsharded gradients for its backward).
    void alloc_during_backward(int first, int last, double bytes, Cat cat);
    // Python drops its reference.
    void drop(V x);
    void drop(const std::vector<V>& xs) { for (V x : xs) drop(x); }
    // Marks x as alive until backward ends (e.g. the model output holding the logits).
    void keep(V x) { kept_.push_back(x); }

    bool grad_enabled = true;

    // Checkpointed region: nodes created between begin and end keep no saved tensors; backward
    // recomputes them (allocating them again) when it reaches the first of them that saved a tensor.
    void begin_checkpoint(const std::vector<V>& inputs);
    void end_checkpoint();
    // Selective checkpointing: inside an open region, x (an op's output) is cached for the
    // recomputation (the policy's MUST_SAVE) rather than recomputed; no-op outside a region.
    void sac_save(V x);
    bool in_checkpoint() const { return open_region_ >= 0; }

    // Runs backward from `loss` (a scalar); drops the kept values and Python's loss reference
    // at the end, like `del out`.
    void backward(V loss);

    // Bytes allocated now / at the highest point, and what was alive by category at that point.
    double allocated() const { return allocated_; }
    double peak() const { return peak_; }
    std::string peak_where() const { return peak_where_; }
    const std::vector<double>& peak_by_cat() const { return peak_by_cat_; }
    // Resets the peak to the current allocation, labelling the phase (forward, backward).
    void start_phase(const std::string& phase);
    void set_where(const std::string& where) { where_ = where; }
    const std::string& where() const { return where_; }
    double dtype_elements(V x) const { return values_[static_cast<std::size_t>(x)].elements; }
    TensorType dtype(V x) const { return values_[static_cast<std::size_t>(x)].dtype; }

    // The distinct storages that nodes [first, last] hold for backward now (before backward, no
    // checkpointing): what a module keeps alive, each with the name of the op that allocated it.
    struct Saved {
        std::string name;
        double bytes = 0;
        Cat cat = Cat::activation;
    };
    std::vector<Saved> saved_by_nodes(int first, int last) const;

    // Every allocation and free of the replay, in order (storage ids; bytes already 512-rounded),
    // for the caching allocator's replay (torch_alloc.h). Parameter .grad storages are never
    // freed here (they outlive backward): grad_storages() lists them.
    struct Event {
        int storage = -1;
        double bytes = 0;  // > 0: allocated; 0: freed
    };
    const std::vector<Event>& events() const { return events_; }
    // The number of events before the first matmul ("mm") of the forward and of the backward ran
    // (its output is allocated, then cuBLAS creates the thread's workspace on first use; -1:
    // none). The replay creates the forward and autograd threads' workspaces there in step 1.
    int first_forward_matmul_event() const { return first_mm_event_[0]; }
    int first_backward_matmul_event() const { return first_mm_event_[1]; }
    std::vector<int> grad_storages() const;

private:
    struct Storage {
        std::string name;  // the op (or tensor) that allocated it
        double bytes = 0;
        Cat cat = Cat::activation;
        int py = 0;        // Python references (through any view)
        int saved = 0;     // autograd nodes holding it
        int grad_refs = 0; // gradient-buffer references
        bool alive = false;
        bool is_param = false;
    };
    struct Value {
        int storage = -1;
        double elements = 0;
        TensorType dtype = TensorType::f32;
        bool requires_grad = false;
        bool is_param = false;
        bool grad_exists = false;
        bool grad_view = false;  // its buffered gradient is a view (see grad_into)
        double param_grad_bytes = 0;
        int producer = -1;  // node index
        int grad = -1;      // storage of its gradient during backward
        int param_grad = -1;  // storage of .grad for parameters
        std::string name;
    };
    struct Node {
        std::string name;
        std::vector<V> inputs;   // those needing a gradient
        std::vector<V> outputs;
        std::vector<int> saved;  // storages (after recompute for checkpointed nodes)
        std::vector<int> slots;  // checkpointed: indices into its region's slots
        int region = -1;
        std::vector<double> backward_temps;  // op() and backward_temp()
        bool temps_first = false;            // backward_temp_first
        bool pass_through = false;           // pass_gradient
        bool pass_views = false;             // pass_gradient(views)
        std::string where;
        std::vector<std::pair<double, Cat>> alloc_before;  // backward: allocated before it runs
        std::vector<int> free_after;                        // backward: storages freed after it
    };
    struct Slot {
        double bytes = 0;
        Cat cat = Cat::activation;
        int existing = -1;  // a region input: its storage, not recomputed
        int storage = -1;   // after recompute
    };
    struct Region {
        std::vector<Slot> slots;
        std::map<int, int> slot_of;  // forward storage -> slot
        std::vector<int> inputs;     // storages of the region's inputs (held until its backward)
        std::vector<int> cached;     // selective checkpointing: op outputs cached until the recompute
        std::vector<std::pair<int, bool>> forward;  // the region's allocations (true) and frees in forward
        int first_node = -1, last_node = -1;
        bool recomputed = false;
    };

    int new_storage(double bytes, Cat cat, const std::string& name = "");
    void ref_py(int s) { ++storages_[static_cast<std::size_t>(s)].py; }
    void maybe_free(int s);
    void note();
    V new_value(int storage, double elements, TensorType dtype, bool requires_grad, const std::string& name);
    void save(Node& n, V x);
    int grad_into(V x, double bytes, bool view, int shared);
    void accumulate(V x, int incoming);
    void recompute(Region& r);

    std::vector<Storage> storages_;
    std::vector<Value> values_;
    std::vector<Node> nodes_;
    std::vector<Region> regions_;
    std::vector<V> kept_;
    std::vector<int> pending_;  // alloc_during_backward storages not yet released
    std::vector<Event> events_;
    int open_region_ = -1;
    int first_mm_event_[2] = {-1, -1};
    bool in_backward_ = false;
    double allocated_ = 0, peak_ = 0;
    std::vector<double> by_cat_ = std::vector<double>(static_cast<std::size_t>(Cat::count), 0.0);
    std::vector<double> peak_by_cat_ = by_cat_;
    std::string where_, peak_where_;
};

// Rounds an allocation the way the caching allocator does (multiples of 512 bytes).
double round_alloc(double bytes);

}  // namespace llmplan::torchsim
