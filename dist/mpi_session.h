// mpi_session.h — `mpirun -np N llmplan profile …`: one process per GPU started by MPI, possibly on
// several nodes. Plain C++17 with no MPI type, so the CLI includes it in every build.
//
//  * launched_by_mpi(): whether an MPI launcher started this process, from the environment only
//    (works in every build, with or without MPI): Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE
//    (Open MPI docs, "mpirun(1) / Exported environment variables"), MPICH's Hydra and Slurm's PMI-2
//    set PMI_SIZE, PMIx launchers (Open MPI 5's prte, srun --mpi=pmix) set PMIX_RANK.
//  * MpiSession: MPI_Init_thread in the constructor, MPI_Finalize in the destructor;
//    the rank, the world size and the rank on this node (OMPI_COMM_WORLD_LOCAL_RANK, else the rank
//    in MPI_Comm_split_type(MPI_COMM_TYPE_SHARED), MPI-3.1 §6.4.2), a broadcast of raw bytes (for
//    the ncclUniqueId, kernels/comm.h CommConfig::broadcast_id), a gather of strings to a root
//    (lengths through MPI_Gather, then MPI_Gatherv: MPI-3.1 §5.5), and abort() (MPI_Abort: mpirun
//    then stops every rank, so a failed rank never leaves the others hanging). Every MPI call is
//    checked: a failure throws std::runtime_error naming the call (the session sets
//    MPI_ERRORS_RETURN on MPI_COMM_WORLD so errors come back as codes, MPI-3.1 §8.3).
// MpiSession is an interface: its MPI implementation (dist/mpi_session.cpp) is compiled into the GPU
// backend module where MPI is found (backend/CMakeLists.txt), so the CLI links no MPI library and
// gets a session from backend::GpuBackend::mpi_session() (nullptr and why when the module has no MPI).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace llmplan::kernels {

// Whether an MPI launcher (mpirun, mpiexec, srun) started this process: environment only.
inline bool launched_by_mpi() {
    for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
        if (std::getenv(name) != nullptr) return true;
    return false;
}

class MpiSession {
public:
    virtual ~MpiSession() = default;  // MPI_Finalize unless aborted; never throws

    virtual int rank() const = 0;
    virtual int world() const = 0;
    virtual int local_rank() const = 0;  // the rank among this node's processes: its GPU

    // MPI_Bcast of `bytes` raw bytes from `root` (every rank calls it).
    virtual void broadcast(void* data, std::size_t bytes, int root = 0) = 0;
    // Every rank's `text` on `root` in rank order (empty elsewhere).
    virtual std::vector<std::string> gather(const std::string& text, int root = 0) = 0;
    // A collective verdict: every rank passes its error ("" when fine); all get the first non-empty
    // one in rank order, as "rank r: …" when r ≠ 0, or "" when every rank is fine.
    virtual std::string first_error(const std::string& error) = 0;
    // MPI_Abort(MPI_COMM_WORLD, code): mpirun stops every rank. Does not return.
    [[noreturn]] virtual void abort(int code) = 0;
};

// MPI_Init_thread (MPI_THREAD_FUNNELED) and the session; throws std::runtime_error. Defined in
// dist/mpi_session.cpp, which only the GPU backend module compiles (with MPI).
std::unique_ptr<MpiSession> start_mpi_session();

}  // namespace llmplan::kernels
