// test_launcher.cpp — the one-process-per-GPU launcher (dist/launcher.h) and the unique-id
// file (dist/rendezvous.h), with /bin/sh ranks: no GPU needed. A failing rank stops the
// others and is named; a hung run is stopped at its timeout; nothing waits forever.
#include "dist/launcher.h"
#include "dist/rendezvous.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <unistd.h>

using namespace llmplan::dist;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir() {
        std::string templ = (fs::temp_directory_path() / "llmplan_launcher_XXXXXX").string();
        REQUIRE(mkdtemp(templ.data()) != nullptr);
        path = templ;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

LaunchOptions sh_ranks(const TempDir& dir, const std::vector<std::string>& scripts, double timeout = 30) {
    LaunchOptions o;
    o.program = "/bin/sh";
    for (const std::string& s : scripts) o.args.push_back({"-c", s});
    o.log_dir = dir.path.string();
    o.timeout_seconds = timeout;
    o.grace_seconds = 1;
    return o;
}

}  // namespace

TEST_CASE("launcher: every rank runs with its arguments and the extra environment", "[dist][launcher]") {
    TempDir dir;
    const std::string out = (dir.path / "r").string();
    LaunchOptions o = sh_ranks(dir, {"echo rank0 $LLMPLAN_TEST_X > " + out + "0", "echo rank1 $LLMPLAN_TEST_X > " + out + "1"});
    o.env = {"LLMPLAN_TEST_X=hello"};
    const LaunchResult r = launch_ranks(o);
    CHECK(r.ok);
    CHECK(r.first_failure == -1);
    REQUIRE(r.ranks.size() == 2);
    CHECK(r.ranks[1].state == RankState::ok);
    CHECK(r.ranks[1].exit_code == 0);
    std::ifstream f(out + "1");
    std::string a, b;
    f >> a >> b;
    CHECK(a == "rank1");
    CHECK(b == "hello");
    CHECK(r.summary().find("all 2 ranks finished") == 0);
}

TEST_CASE("launcher: a failing rank stops the others and is named with its last log line", "[dist][launcher]") {
    TempDir dir;
    const auto t0 = std::chrono::steady_clock::now();
    const LaunchResult r = launch_ranks(sh_ranks(dir, {"sleep 30", "echo 'NCCL error: peer vanished' >&2; exit 3", "sleep 30"}));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(s < 10);  // not the 30 s of the sleeping ranks
    CHECK_FALSE(r.ok);
    CHECK(r.first_failure == 1);
    CHECK(r.ranks[1].state == RankState::failed);
    CHECK(r.ranks[1].exit_code == 3);
    CHECK(r.ranks[0].state == RankState::stopped);
    CHECK(r.ranks[2].state == RankState::stopped);
    const std::string line = r.summary();
    CHECK(line.find("rank 1 failed (exit code 3)") == 0);
    CHECK(line.find("NCCL error: peer vanished") != std::string::npos);
    CHECK(line.find("stopped ranks 0, 2") != std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("launcher: a rank killed by a signal is reported as such", "[dist][launcher]") {
    TempDir dir;
    const LaunchResult r = launch_ranks(sh_ranks(dir, {"kill -SEGV $$", "sleep 30"}));
    CHECK_FALSE(r.ok);
    CHECK(r.first_failure == 0);
    CHECK(r.ranks[0].state == RankState::signaled);
    CHECK(r.ranks[0].signal == 11);
    CHECK(r.summary().find("killed by signal 11") != std::string::npos);
}

TEST_CASE("launcher: a hung run is stopped at the timeout and the running ranks are named", "[dist][launcher]") {
    TempDir dir;
    const auto t0 = std::chrono::steady_clock::now();
    const LaunchResult r = launch_ranks(sh_ranks(dir, {"exit 0", "echo waiting for rank 0 >&2; sleep 30", "sleep 30"}, 0.5));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(s < 10);
    CHECK_FALSE(r.ok);
    CHECK(r.first_failure == -1);
    CHECK(r.ranks[0].state == RankState::ok);
    CHECK(r.ranks[1].state == RankState::timed_out);
    CHECK(r.ranks[2].state == RankState::timed_out);
    const std::string line = r.summary();
    CHECK(line.find("timed out after") == 0);
    CHECK(line.find("ranks 1, 2 still running (hung?)") != std::string::npos);
    CHECK(line.find("waiting for rank 0") != std::string::npos);
}

TEST_CASE("launcher: a rank whose program cannot start fails with exit code 127", "[dist][launcher]") {
    TempDir dir;
    LaunchOptions o = sh_ranks(dir, {"true"});
    o.program = (dir.path / "no-such-program").string();
    const LaunchResult r = launch_ranks(o);
    CHECK_FALSE(r.ok);
    CHECK(r.ranks[0].exit_code == 127);
    CHECK(r.summary().find("could not start the program") != std::string::npos);
}

TEST_CASE("rendezvous: the id file is published whole and read back: a missing one times out", "[dist][launcher]") {
    TempDir dir;
    const std::string path = (dir.path / "nccl_id").string();
    std::vector<unsigned char> id(128);
    for (std::size_t i = 0; i < id.size(); ++i) id[i] = static_cast<unsigned char>(i * 7 + 1);
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        publish_file(path, id);
    });
    const std::vector<unsigned char> got = wait_for_file(path, id.size(), 10);
    writer.join();
    CHECK(got == id);
    CHECK_FALSE(fs::exists(path + ".tmp." + std::to_string(getpid())));
    CHECK_THROWS_WITH(wait_for_file((dir.path / "never").string(), 128, 0.05),
                      Catch::Contains("did not publish") && Catch::Contains("within"));
    CHECK_THROWS_WITH(wait_for_file(path, 64, 1), Catch::Contains("holds 128 bytes, expected 64"));
    CHECK(file_tail((dir.path / "missing.log").string()).empty());
}
