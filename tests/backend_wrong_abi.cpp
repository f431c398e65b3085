// backend_wrong_abi.cpp — a test-only module (target llmplan_test_wrong_abi) that exports
// llmplan_backend_entry with another interface version: the loader must refuse it in one line
// without calling anything else in it (tests/test_backend_loader.cpp).
#include "backend/backend.h"

namespace {
constexpr llmplan::backend::BackendEntry kEntry{llmplan::backend::kAbiVersion + 1000, "0.0.0-test", nullptr};
}  // namespace

extern "C" const llmplan::backend::BackendEntry* llmplan_backend_entry() { return &kEntry; }
