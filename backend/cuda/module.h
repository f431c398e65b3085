// module.h — inside the GPU backend module (libllmplan_cuda.so): the pieces of GpuBackend that
// live in their own files. Not seen by the CLI.
#pragma once

#include "backend/backend.h"

namespace llmplan::backend {

// `llmplan profile --device cuda`'s steps on the engine (profile_run.cpp).
profiler::ProfileMeasurement run_engine_profile(const profiler::ProfileRequest& request, const StepProgress& progress);

}  // namespace llmplan::backend
