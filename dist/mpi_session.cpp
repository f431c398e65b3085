// mpi_session.cpp — MpiSession of dist/mpi_session.h: the MPI calls behind `mpirun -np N
// llmplan profile …`. Built into the GPU backend module only, when MPI was found (backend/CMakeLists.txt).
// Every call's result is checked (MPI_ERRORS_RETURN on MPI_COMM_WORLD, MPI-3.1 §8.3); a failure
// throws std::runtime_error naming the call and MPI_Error_string's text.
#include "dist/mpi_session.h"

#include <mpi.h>

#include <climits>
#include <stdexcept>

namespace llmplan::kernels {

namespace {

void check(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING] = {0};
    int length = 0;
    std::string why = MPI_Error_string(code, text, &length) == MPI_SUCCESS ? std::string(text, static_cast<std::size_t>(length))
                                                                           : "error " + std::to_string(code);
    throw std::runtime_error(std::string(call) + " failed: " + why);
}

int int_size(std::size_t bytes, const char* what) {
    if (bytes > static_cast<std::size_t>(INT_MAX))
        throw std::runtime_error(std::string(what) + ": " + std::to_string(bytes) + " bytes is more than MPI's int count");
    return static_cast<int>(bytes);
}

class MpiSessionImpl final : public MpiSession {
public:
    MpiSessionImpl();
    ~MpiSessionImpl() override;
    MpiSessionImpl(const MpiSessionImpl&) = delete;
    MpiSessionImpl& operator=(const MpiSessionImpl&) = delete;

    int rank() const override { return rank_; }
    int world() const override { return world_; }
    int local_rank() const override { return local_rank_; }
    void broadcast(void* data, std::size_t bytes, int root) override;
    std::vector<std::string> gather(const std::string& text, int root) override;
    std::string first_error(const std::string& error) override;
    [[noreturn]] void abort(int code) override;

private:
    int rank_ = 0, world_ = 1, local_rank_ = 0;
    bool finalize_ = false;
};

MpiSessionImpl::MpiSessionImpl() {
    int initialized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    if (initialized) throw std::runtime_error("MPI_Init_thread: MPI is already initialized in this process");
    // FUNNELED: only the main thread calls MPI (MPI-3.1 §12.4.3); NCCL's own threads never do.
    int provided = 0;
    check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    finalize_ = true;
    try {
        check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
        check(MPI_Comm_size(MPI_COMM_WORLD, &world_), "MPI_Comm_size");
        // Open MPI exports the node-local rank (its docs: OMPI_COMM_WORLD_LOCAL_RANK); elsewhere
        // the rank among the processes that share memory with this one.
        if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_RANK"); local && *local) {
            char* end = nullptr;
            const long v = std::strtol(local, &end, 10);
            if (*end != '\0' || v < 0 || v >= world_)
                throw std::runtime_error(std::string("OMPI_COMM_WORLD_LOCAL_RANK: \"") + local + "\" is not a rank");
            local_rank_ = static_cast<int>(v);
        } else {
            MPI_Comm node = MPI_COMM_NULL;
            check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
                  "MPI_Comm_split_type");
            const int r = MPI_Comm_rank(node, &local_rank_);
            const int f = MPI_Comm_free(&node);
            check(r, "MPI_Comm_rank");
            check(f, "MPI_Comm_free");
        }
    } catch (...) {
        (void)MPI_Finalize();
        finalize_ = false;
        throw;
    }
}

MpiSessionImpl::~MpiSessionImpl() {
    if (finalize_) (void)MPI_Finalize();
}

void MpiSessionImpl::broadcast(void* data, std::size_t bytes, int root) {
    check(MPI_Bcast(data, int_size(bytes, "MPI_Bcast"), MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
}

std::vector<std::string> MpiSessionImpl::gather(const std::string& text, int root) {
    const int length = int_size(text.size(), "MPI_Gather");
    std::vector<int> lengths(rank_ == root ? static_cast<std::size_t>(world_) : 0);
    check(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, root, MPI_COMM_WORLD), "MPI_Gather");
    std::vector<int> displs(lengths.size());
    std::size_t total = 0;
    for (std::size_t r = 0; r < lengths.size(); ++r) {
        displs[r] = int_size(total, "MPI_Gatherv");
        total += static_cast<std::size_t>(lengths[r]);
    }
    (void)int_size(total, "MPI_Gatherv");
    std::string all(total, '\0');
    check(MPI_Gatherv(text.data(), length, MPI_CHAR, all.data(), lengths.data(), displs.data(), MPI_CHAR, root,
                      MPI_COMM_WORLD),
          "MPI_Gatherv");
    std::vector<std::string> out;
    for (std::size_t r = 0; r < lengths.size(); ++r)
        out.push_back(all.substr(static_cast<std::size_t>(displs[r]), static_cast<std::size_t>(lengths[r])));
    return out;
}

std::string MpiSessionImpl::first_error(const std::string& error) {
    std::string verdict;
    if (rank_ == 0) {
        const std::vector<std::string> all = gather(error, 0);
        for (std::size_t r = 0; r < all.size() && verdict.empty(); ++r)
            if (!all[r].empty()) verdict = r == 0 ? all[r] : "rank " + std::to_string(r) + ": " + all[r];
    } else {
        (void)gather(error, 0);
    }
    unsigned long long size = verdict.size();
    broadcast(&size, sizeof size, 0);
    verdict.resize(static_cast<std::size_t>(size));
    if (size > 0) broadcast(verdict.data(), verdict.size(), 0);
    return verdict;
}

void MpiSessionImpl::abort(int code) {
    (void)MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);  // MPI_Abort should not return (MPI-3.1 §8.7); if it does, leave anyway
}

}  // namespace

std::unique_ptr<MpiSession> start_mpi_session() { return std::make_unique<MpiSessionImpl>(); }

}  // namespace llmplan::kernels
