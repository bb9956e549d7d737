#include "file_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

#include "../core/owned.hpp"

namespace espcn {

namespace {

constexpr size_t kSniffBytes = size_t{64} << 10;

// Reads until `want` bytes are in `bytes` or the file ends; false on an error
// (errno set). EINTR is an error: a Ctrl-C must be able to stop a read from
// a pipe whose writer never writes.
bool read_up_to(int fd, std::vector<uint8_t> &bytes, size_t want, bool &at_eof) {
    at_eof = false;
    while (bytes.size() < want) {
        const size_t old = bytes.size();
        bytes.resize(std::min(want, old + kSniffBytes));
        const ssize_t n = ::read(fd, bytes.data() + old, bytes.size() - old);
        if (n <= 0) {
            bytes.resize(old);
            if (n == 0) at_eof = true;
            return n == 0;
        }
        bytes.resize(old + static_cast<size_t>(n));
    }
    return true;
}

}  // namespace

Result<std::vector<uint8_t>> read_file(const std::string &path, size_t max_bytes,
                                       const FileSniffer &sniff) {
    const UniqueFd owned = own_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    const int fd = fd_of(owned);
    ESPCN_RETURN_IF(fd < 0, ESPCN_ERROR_IO, path, ": cannot open: ", std::strerror(errno));
    struct stat st {};
    ESPCN_RETURN_IF(::fstat(fd, &st) != 0, ESPCN_ERROR_IO, path, ": cannot stat: ",
                    std::strerror(errno));
    ESPCN_RETURN_IF(S_ISDIR(st.st_mode), ESPCN_ERROR_IO, path, ": is a directory, not a file");
    const bool regular = S_ISREG(st.st_mode);
    ESPCN_RETURN_IF(regular && static_cast<uint64_t>(st.st_size) > max_bytes, ESPCN_ERROR_IO, path,
                    ": ", static_cast<uint64_t>(st.st_size), " bytes, larger than ", max_bytes,
                    " bytes");
    std::vector<uint8_t> bytes;
    try {
        if (regular) bytes.reserve(static_cast<size_t>(st.st_size));
        bool at_eof = false;
        auto read_error = [&] {
            return Status(ESPCN_ERROR_IO, concat(path, ": read error: ", std::strerror(errno)));
        };
        if (!read_up_to(fd, bytes, std::min(max_bytes, kSniffBytes), at_eof)) return read_error();
        if (sniff) ESPCN_RETURN_IF_ERROR(sniff(bytes.data(), bytes.size(), at_eof, max_bytes));
        // One byte beyond the limit tells "exactly max_bytes" from "more".
        const size_t want = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
        if (!at_eof && !read_up_to(fd, bytes, want, at_eof)) return read_error();
        ESPCN_RETURN_IF(bytes.size() > max_bytes, ESPCN_ERROR_IO, path, ": larger than ",
                        max_bytes, " bytes");
    } catch (const std::bad_alloc &) {
        return Status(ESPCN_ERROR_OUT_OF_MEMORY,
                      concat(path, ": out of memory after ", bytes.size(), " bytes"));
    }
    return bytes;
}

// --- OutputFile ----------------------------------------------------------------

Result<OutputFile> OutputFile::create(const std::string &path) {
    // Next to the output, so that rename() stays within one file system.
    static std::atomic<unsigned> counter{0};
    const size_t slash = path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
    ESPCN_RETURN_IF(base.empty(), ESPCN_ERROR_IO, path, ": names a folder, not a file");
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    ESPCN_RETURN_IF(exists && S_ISDIR(st.st_mode), ESPCN_ERROR_IO, path, ": is a directory");
    OutputFile f;
    f.path_ = path;
    if (exists && !S_ISREG(st.st_mode)) {
        // A pipe or a device (/dev/stdout): written in place, as it cannot
        // be replaced (and must not be: renaming over /dev/null as root
        // would remove the device).
        f.fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
        ESPCN_RETURN_IF(f.fd_ < 0, ESPCN_ERROR_IO, path, ": cannot open: ", std::strerror(errno));
        return f;
    }
    f.temp_path_ = concat(dir, ".", base, ".espcn-", ::getpid(), "-", counter++, ".tmp");
    // 0666 & ~umask, as a plain fopen() would create it.
    f.fd_ = ::open(f.temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    ESPCN_RETURN_IF(f.fd_ < 0, ESPCN_ERROR_IO, path, ": cannot create: ", std::strerror(errno));
    return f;
}

Status OutputFile::commit(const std::vector<uint8_t> &bytes) {
    ESPCN_RETURN_IF(fd_ < 0, ESPCN_ERROR_INTERNAL, path_, ": committed twice");
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const Status s(ESPCN_ERROR_IO, concat(path_, ": write error after ", done, " of ",
                                                  bytes.size(), " bytes: ",
                                                  std::strerror(n < 0 ? errno : ENOSPC)));
            discard();
            return s;
        }
        done += static_cast<size_t>(n);
    }
    // close() can report a deferred write error (NFS, quotas).
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        const Status s(ESPCN_ERROR_IO, concat(path_, ": write error: ", std::strerror(errno)));
        if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
        temp_path_.clear();
        return s;
    }
    if (temp_path_.empty()) return Status::ok();  // written in place
    if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
        const Status s(ESPCN_ERROR_IO, concat(path_, ": cannot replace: ", std::strerror(errno)));
        ::unlink(temp_path_.c_str());
        return s;
    }
    temp_path_.clear();
    return Status::ok();
}

void OutputFile::discard() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
    temp_path_.clear();
}

OutputFile::OutputFile(OutputFile &&other) noexcept
    : path_(std::move(other.path_)), temp_path_(std::exchange(other.temp_path_, std::string())),
      fd_(std::exchange(other.fd_, -1)) {}

OutputFile &OutputFile::operator=(OutputFile &&other) noexcept {
    if (this != &other) {
        discard();
        path_ = std::move(other.path_);
        temp_path_ = std::exchange(other.temp_path_, std::string());
        fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
}

OutputFile::~OutputFile() { discard(); }

Status write_file(const std::string &path, const std::vector<uint8_t> &bytes) {
    Result<OutputFile> f = OutputFile::create(path);
    ESPCN_RETURN_IF_ERROR(f.status());
    return f.value().commit(bytes);
}

}  // namespace espcn
