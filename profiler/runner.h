// runner.h — runs real training steps for `llmplan profile` and measures them: on the GPU through
// the CUDA engine (kernels/engine.h, in the GPU backend module that backend/loader.h opens at run
// time) or on the CPU through the reference (reference/model.h). Plain C++ (no CUDA type): the CLI
// builds it the same way everywhere; without the module, a driver or a GPU the cuda device is
// refused in one line (cuda_device_available says why).
#pragma once

#include "core/config.h"
#include "core/model.h"
#include "core/vocab.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace llmplan::profiler {

enum class ProfileDevice { cpu, cuda };

struct ProfileRequest {
    ModelSpec model;
    Recompute recompute = Recompute::none;
    Attention attention = Attention::flash;
    // The engine's storage type: fp32; bf16 or fp16 in mixed precision (fp32 master weights and AdamW
    // moments; fp16 with dynamic loss scaling, kernels/engine.h). The CPU reference runs fp32 only.
    DType storage = DType::fp32;
    bool bf16 = false;  // the older spelling of storage = bf16, still honoured when storage is fp32
    int batch = 1, seq = 1, steps = 10, warmup = 2;
    // Micro-batches of `batch` sequences per optimizer step (gradient accumulation): the CPU
    // reference and the CUDA engine on one GPU (several ranks: engine/program.h cuda_engine_supports).
    int accumulation = 1;
    std::uint64_t seed = 0;
    ProfileDevice device = ProfileDevice::cuda;
    // Data parallelism (`llmplan profile --gpus N`, one process per GPU): this process is rank
    // `rank` of `world` on GPU `rank`, with ZeRO stage `zero`; `batch` is per rank. Every rank draws
    // the same seeded global batch of world × batch sequences and trains on its own rows
    // [rank·batch, (rank+1)·batch), so that n ranks of B equal one GPU of n·B. The NCCL unique id
    // travels through `id_file`; one NCCL wait longer than `op_timeout` seconds fails the rank.
    int world = 1, rank = 0, zero = 0;
    std::string id_file;
    double op_timeout = 120;
    // Under mpirun (dist/mpi_session.h): the GPU is the node-local rank (-1: the rank), and the
    // unique id travels through this broadcast instead of id_file (kernels/comm.h CommConfig).
    int gpu = -1;
    std::function<void(void*, std::size_t)> broadcast_id;
};

// One collective of a step (world > 1): kind (nccl-tests' names, dist/collective.h), the shard plan's purpose,
// nccl-tests' S in bytes, milliseconds on the communication stream.
struct CommRecord {
    std::string kind, purpose;
    std::uint64_t bytes = 0;
    double ms = 0;
};
// A wait of the compute stream for the communication stream (its purpose), milliseconds.
struct CommWait {
    std::string purpose;
    double ms = 0;
};

struct StepTiming {
    float loss = 0;
    double total_ms = 0, forward_ms = 0, backward_ms = 0, optimizer_ms = 0;
    float loss_scale = 1;  // fp16: the loss scale of this step's gradients (1 otherwise)
    bool skipped = false;  // fp16: inf/NaN gradients, the optimizer step was skipped
    // world > 1: the collectives (comm_ms their sum on the communication stream) and the compute
    // stream's waits for them (exposed_ms their sum; kernels/engine.h EngineStepStats).
    std::vector<CommRecord> comm;
    std::vector<CommWait> waits;
    double comm_ms = 0, exposed_ms = 0;
};

struct ProfileMeasurement {
    std::string device_name;
    std::array<double, kMemoryCategories> peak_bytes{};  // MemoryCategory order (core/vocab.h)
    std::array<std::string, kMemoryCategories> peak_phase{};
    double total_peak_bytes = 0;
    std::string total_peak_phase;
    double library_bytes = 0;       // outside the books (cuBLASLt workspace, kernel scratch, ids)
    std::vector<StepTiming> steps;  // the measured steps, after the warm-up
    // fp16's dynamic loss scaling (0, 0 and 1 otherwise): steps skipped for inf/NaN gradients
    // among the measured steps and during the warm-up, and the scale after the last step.
    int skipped_steps = 0, warmup_skipped_steps = 0;
    double final_loss_scale = 1;
    int rank = 0, world = 1;
};

// The storage type a request asks for (storage, or bf16 when only the older flag is set).
DType storage_of(const ProfileRequest& request);

// Whether --device cuda can run here (the GPU backend module loads and sees a usable GPU); when
// not, `why` says why in one line: the module file looked for and the dlopen error, or the
// backend's "no driver"/"no device" reason.
bool cuda_device_available(std::string* why);

// progress(step, total, timing, warmup) after each step (warm-up steps included, counted first).
ProfileMeasurement run_profile(const ProfileRequest& request,
                               const std::function<void(int, int, const StepTiming&, bool)>& progress);

}  // namespace llmplan::profiler
