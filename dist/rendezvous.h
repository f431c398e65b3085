// rendezvous.h — how the ranks of one node agree on the NCCL unique id without MPI: rank 0
// writes the id's bytes to a file atomically (a temporary file in the same folder, then
// rename(2), so a reader sees the whole id or nothing), the others poll for the file with a
// timeout. The launcher (launcher.h) gives every rank the same fresh path in a private folder,
// so no stale id from an earlier run can be read. Plain C++20 (target llmplan_dist), unit-tested
// on the CPU (tests/test_launcher.cpp); kernels/cuda/nccl_comm.cu uses it for ncclUniqueId.
#pragma once

#include <string>
#include <vector>

namespace llmplan::dist {

// Writes `bytes` to `path` atomically; throws std::runtime_error naming the path and the reason.
void publish_file(const std::string& path, const std::vector<unsigned char>& bytes);

// Waits until `path` holds exactly `size` bytes and returns them. Throws std::runtime_error after
// `timeout_seconds` ("rank 0 did not publish … within T s") or for a file of the wrong size.
std::vector<unsigned char> wait_for_file(const std::string& path, std::size_t size, double timeout_seconds,
                                         double poll_seconds = 0.005);

}  // namespace llmplan::dist
