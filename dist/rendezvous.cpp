// rendezvous.cpp — atomic publish and bounded wait of a small file (rendezvous.h).
#include "dist/rendezvous.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace llmplan::dist {

void publish_file(const std::string& path, const std::vector<unsigned char>& bytes) {
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t w = write(fd, bytes.data() + done, bytes.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            const std::string why = std::strerror(errno);
            close(fd);
            std::remove(tmp.c_str());
            throw std::runtime_error("cannot write " + tmp + ": " + why);
        }
        done += static_cast<std::size_t>(w);
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        throw std::runtime_error("cannot write " + tmp + ": " + why);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        std::remove(tmp.c_str());
        throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + why);
    }
}

std::vector<unsigned char> wait_for_file(const std::string& path, std::size_t size, double timeout_seconds,
                                         double poll_seconds) {
    using Clock = std::chrono::steady_clock;
    const Clock::time_point t0 = Clock::now();
    const auto poll = std::chrono::duration<double>(poll_seconds > 0 ? poll_seconds : 0.005);
    for (;;) {
        struct stat st {};
        if (stat(path.c_str(), &st) == 0) {
            if (static_cast<std::size_t>(st.st_size) != size)
                throw std::runtime_error(path + " holds " + std::to_string(st.st_size) + " bytes, expected " +
                                         std::to_string(size));
            std::vector<unsigned char> out(size);
            const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
            std::size_t done = 0;
            while (done < size) {
                const ssize_t r = read(fd, out.data() + done, size - done);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) {
                    close(fd);
                    throw std::runtime_error("cannot read " + path + ": short read");
                }
                done += static_cast<std::size_t>(r);
            }
            close(fd);
            return out;
        }
        if (errno != ENOENT) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
        if (std::chrono::duration<double>(Clock::now() - t0).count() > timeout_seconds) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.0f", timeout_seconds);
            throw std::runtime_error("rank 0 did not publish " + path + " within " + buf + " s");
        }
        std::this_thread::sleep_for(poll);
    }
}

}  // namespace llmplan::dist
