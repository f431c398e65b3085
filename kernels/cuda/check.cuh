// check.cuh — every CUDA runtime, cuBLAS and cuBLASLt call of the kernels goes through one of
// these macros: a failure throws std::runtime_error naming the file:line, the call and the
// library's error string (kernel launches are checked with LLMPLAN_CHECK_LAUNCH()).
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace llmplan::kernels::cuda::detail {

[[noreturn]] inline void throw_error(const char* file, int line, const char* call, const std::string& what) {
    throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " + what);
}

inline std::string cublas_status_text(cublasStatus_t s) {
    return std::string(cublasGetStatusName(s)) + " (" + cublasGetStatusString(s) + ")";
}

}  // namespace llmplan::kernels::cuda::detail

#define LLMPLAN_CUDA_CHECK(call)                                                                                     \
    do {                                                                                                             \
        const cudaError_t llmplan_err_ = (call);                                                                     \
        if (llmplan_err_ != cudaSuccess)                                                                             \
            ::llmplan::kernels::cuda::detail::throw_error(                                                           \
                __FILE__, __LINE__, #call,                                                                           \
                std::string(cudaGetErrorName(llmplan_err_)) + ": " + cudaGetErrorString(llmplan_err_));             \
    } while (0)

#define LLMPLAN_CUBLAS_CHECK(call)                                                                                   \
    do {                                                                                                             \
        const cublasStatus_t llmplan_st_ = (call);                                                                   \
        if (llmplan_st_ != CUBLAS_STATUS_SUCCESS)                                                                    \
            ::llmplan::kernels::cuda::detail::throw_error(__FILE__, __LINE__, #call,                                 \
                                                          ::llmplan::kernels::cuda::detail::cublas_status_text(llmplan_st_)); \
    } while (0)

// After a <<<...>>> launch: catches bad launch configurations (and earlier asynchronous errors).
#define LLMPLAN_CHECK_LAUNCH() LLMPLAN_CUDA_CHECK(cudaGetLastError())
