// launcher.cpp — fork/exec of one process per rank, and the watch over them (launcher.h).
#include "dist/launcher.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace llmplan::dist {

const char* to_string(RankState s) {
    switch (s) {
        case RankState::ok: return "ok";
        case RankState::failed: return "failed";
        case RankState::signaled: return "signaled";
        case RankState::timed_out: return "timed_out";
        case RankState::stopped: return "stopped";
    }
    return "?";
}

std::string self_executable() {
    std::vector<char> buf(4096);
    const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    if (n <= 0) throw std::runtime_error(std::string("cannot find the running executable (/proc/self/exe): ") + std::strerror(errno));
    return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::string make_private_dir(const std::string& prefix) {
    const std::filesystem::path root = std::filesystem::temp_directory_path();
    std::string name = (root / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(name.data())) throw std::runtime_error("cannot create a folder under " + root.string());
    return name;
}

std::string file_tail(const std::string& path, int lines) {
    // Not read_text_file (core/file.h): a log may outgrow its size cap, and "" is the answer here.
    std::ifstream in(path, std::ios::binary);
    if (!in) return "";
    std::vector<std::string> all;
    std::string line;
    while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) all.push_back(line);
    }
    std::string out;
    const std::size_t from = all.size() > static_cast<std::size_t>(lines) ? all.size() - static_cast<std::size_t>(lines) : 0;
    for (std::size_t i = from; i < all.size(); ++i) out += (out.empty() ? "" : " | ") + all[i];
    return out;
}

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string seconds_text(double s) {
    std::ostringstream o;
    o.setf(std::ios::fixed);
    o.precision(s < 10 ? 1 : 0);
    o << s << " s";
    return o.str();
}

std::string how(const RankOutcome& r) {
    if (r.state == RankState::signaled) return "killed by signal " + std::to_string(r.signal) + " (" + strsignal(r.signal) + ")";
    if (r.exit_code == 127) return "exit code 127: could not start the program";
    return "exit code " + std::to_string(r.exit_code);
}

}  // namespace

std::string LaunchResult::summary() const {
    if (ok) return "all " + std::to_string(ranks.size()) + " ranks finished in " + seconds_text(seconds);
    std::string out;
    std::vector<int> stopped, hung;
    for (const RankOutcome& r : ranks) {
        if (r.state == RankState::stopped) stopped.push_back(r.rank);
        if (r.state == RankState::timed_out) hung.push_back(r.rank);
    }
    auto list = [](const std::vector<int>& v) {
        std::string s;
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
        return s;
    };
    if (first_failure >= 0) {
        const RankOutcome& r = ranks[static_cast<std::size_t>(first_failure)];
        out = "rank " + std::to_string(r.rank) + " " + to_string(r.state) + " (" + how(r) + ") after " + seconds_text(r.seconds);
        out += r.log_tail.empty() ? " with nothing in its log" : ": " + r.log_tail;
        // Other ranks that failed on their own (before the launcher stopped them).
        for (const RankOutcome& o : ranks)
            if (o.rank != r.rank && (o.state == RankState::failed || o.state == RankState::signaled))
                out += "; rank " + std::to_string(o.rank) + " " + to_string(o.state) + " too (" + how(o) + ")" +
                       (o.log_tail.empty() ? "" : ": " + o.log_tail);
        if (!stopped.empty()) out += "; stopped rank" + std::string(stopped.size() > 1 ? "s " : " ") + list(stopped);
    } else {
        out = "timed out after " + seconds_text(seconds) + ": rank" + std::string(hung.size() > 1 ? "s " : " ") + list(hung) +
              " still running (hung?), killed";
        for (const int h : hung) {
            const RankOutcome& r = ranks[static_cast<std::size_t>(h)];
            if (!r.log_tail.empty()) out += "; rank " + std::to_string(h) + ": " + r.log_tail;
        }
    }
    if (!ranks.empty()) {
        const std::string& log = ranks.front().log_path;
        const std::size_t slash = log.rfind('/');
        out += " (logs in " + (slash == std::string::npos ? std::string(".") : log.substr(0, slash)) + ")";
    }
    return out;
}

LaunchResult launch_ranks(const LaunchOptions& o) {
    const std::size_t n = o.args.size();
    if (n == 0) throw std::runtime_error("launcher: no ranks to start");
    if (o.program.empty()) throw std::runtime_error("launcher: no program");

    // Everything the children need is built before fork(): the child only calls async-signal-safe
    // functions (prctl, dup2, execve, write, _exit).
    std::vector<std::string> env_strings;
    for (char** e = environ; e && *e; ++e) {
        const std::string kv = *e;
        const std::string key = kv.substr(0, kv.find('='));
        const bool replaced = std::any_of(o.env.begin(), o.env.end(), [&](const std::string& x) {
            return x.substr(0, x.find('=')) == key;
        });
        if (!replaced) env_strings.push_back(kv);
    }
    for (const std::string& kv : o.env) env_strings.push_back(kv);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    std::vector<std::vector<std::string>> argv_strings(n);
    std::vector<std::vector<char*>> argv(n);
    for (std::size_t r = 0; r < n; ++r) {
        argv_strings[r].push_back(o.program);
        for (const std::string& a : o.args[r]) argv_strings[r].push_back(a);
        for (std::string& s : argv_strings[r]) argv[r].push_back(s.data());
        argv[r].push_back(nullptr);
    }

    LaunchResult result;
    result.ranks.resize(n);
    std::vector<pid_t> pids(n, -1);
    std::vector<bool> running(n, false);
    const pid_t parent = getpid();
    const Clock::time_point t0 = Clock::now();

    auto kill_running = [&](int sig) {
        for (std::size_t r = 0; r < n; ++r)
            if (running[r] && pids[r] > 0) kill(pids[r], sig);
    };
    auto reap_all = [&]() {  // after SIGKILL: waitpid returns promptly
        for (std::size_t r = 0; r < n; ++r)
            if (running[r] && pids[r] > 0) {
                int status = 0;
                while (waitpid(pids[r], &status, 0) < 0 && errno == EINTR) {
                }
                running[r] = false;
                result.ranks[r].seconds = since(t0);
            }
    };

    for (std::size_t r = 0; r < n; ++r) {
        RankOutcome& out = result.ranks[r];
        out.rank = static_cast<int>(r);
        out.log_path = (o.log_dir.empty() ? std::string(".") : o.log_dir) + "/rank" + std::to_string(r) + ".log";
        const int fd = open(out.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            const std::string why = std::strerror(errno);
            kill_running(SIGKILL);
            reap_all();
            throw std::runtime_error("launcher: cannot create " + out.log_path + ": " + why);
        }
        const pid_t pid = fork();
        if (pid < 0) {
            const std::string why = std::strerror(errno);
            close(fd);
            kill_running(SIGKILL);
            reap_all();
            throw std::runtime_error("launcher: cannot start rank " + std::to_string(r) + " (fork: " + why + ")");
        }
        if (pid == 0) {
            // The child: die with the launcher, write to the log, read nothing, become the program.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(126);
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            const int null_fd = open("/dev/null", O_RDONLY);
            if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
            execve(argv[r][0], argv[r].data(), envp.data());
            const char msg[] = "launcher: execve failed: the program could not be started\n";
            (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
            _exit(127);
        }
        close(fd);
        pids[r] = pid;
        running[r] = true;
    }

    bool stopping = false;
    bool timed_out = false;
    Clock::time_point kill_at{};
    const auto poll = std::chrono::duration<double>(std::max(0.001, o.poll_seconds));
    while (std::find(running.begin(), running.end(), true) != running.end()) {
        bool progressed = false;
        for (std::size_t r = 0; r < n; ++r) {
            if (!running[r]) continue;
            int status = 0;
            const pid_t w = waitpid(pids[r], &status, WNOHANG);
            if (w == 0 || (w < 0 && errno == EINTR)) continue;
            progressed = true;
            running[r] = false;
            RankOutcome& out = result.ranks[r];
            const RankState prior = out.state;  // timed_out when the deadline found it running
            out.seconds = since(t0);
            if (w < 0) {  // lost the child (should not happen): count it as failed
                out.state = RankState::failed;
            } else if (WIFEXITED(status)) {
                out.exit_code = WEXITSTATUS(status);
                out.state = out.exit_code == 0 ? RankState::ok : RankState::failed;
            } else if (WIFSIGNALED(status)) {
                out.signal = WTERMSIG(status);
                out.state = RankState::signaled;
            }
            if (stopping && out.state != RankState::ok) {
                // Killed by us (or failing while we stop the run): a consequence, not the cause.
                const bool ours = out.state == RankState::signaled && (out.signal == SIGTERM || out.signal == SIGKILL);
                if (ours) out.state = timed_out ? RankState::timed_out : RankState::stopped;
                if (prior == RankState::timed_out) out.state = RankState::timed_out;
            }
            if (!stopping && out.state != RankState::ok) {
                result.first_failure = static_cast<int>(r);
                stopping = true;
                kill_running(SIGTERM);
                kill_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.grace_seconds));
            }
        }
        if (!stopping && since(t0) > o.timeout_seconds) {
            stopping = timed_out = true;
            for (std::size_t r = 0; r < n; ++r)
                if (running[r]) result.ranks[r].state = RankState::timed_out;
            kill_running(SIGTERM);
            kill_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.grace_seconds));
        }
        if (stopping && Clock::now() >= kill_at) {
            kill_running(SIGKILL);
            for (std::size_t r = 0; r < n; ++r)
                if (running[r] && result.ranks[r].state == RankState::ok)
                    result.ranks[r].state = timed_out ? RankState::timed_out : RankState::stopped;
            reap_all();
            break;
        }
        if (o.on_poll) o.on_poll();
        if (!progressed) std::this_thread::sleep_for(poll);
    }
    result.seconds = since(t0);
    for (RankOutcome& r : result.ranks)
        if (r.state != RankState::ok) r.log_tail = file_tail(r.log_path);
    result.ok = std::all_of(result.ranks.begin(), result.ranks.end(), [](const RankOutcome& r) { return r.state == RankState::ok; });
    return result;
}

void LogFollower::forward(std::ostream& out, bool now) {
    const auto t = std::chrono::steady_clock::now();
    if (!now && t - last_ < std::chrono::milliseconds(200)) return;
    last_ = t;
    // Not read_text_file (core/file.h): this reads a growing log from an offset, and quietly waits.
    std::ifstream in(path_, std::ios::binary);
    if (!in) return;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::size_t end = chunk.rfind('\n');
    if (end == std::string::npos) return;
    std::istringstream lines(chunk.substr(0, end + 1));
    for (std::string line; std::getline(lines, line);) out << prefix_ << line << "\n";
    out.flush();
    offset_ += end + 1;
}

}  // namespace llmplan::dist
