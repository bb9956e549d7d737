#include "file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "allocation.hpp"
#include "owned.hpp"

namespace espcn {

const char *file_kind_name(unsigned mode) {
    switch (mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO (named pipe)";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFREG: return "a regular file";
    default: return "not a regular file";
    }
}

Result<std::vector<uint8_t>> read_regular_file(const std::string &path, size_t max_bytes,
                                               const char *what, espcn_status too_large) {
    // O_NONBLOCK: opening a FIFO without a writer (or a device) must not hang;
    // such files are refused below, and regular files ignore the flag.
    const UniqueFd owned = own_fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
    const int fd = fd_of(owned);
    ESPCN_RETURN_IF(fd < 0, ESPCN_ERROR_IO, "cannot open ", what, " '", path, "': ",
                    std::strerror(errno));
    struct stat st {};
    ESPCN_RETURN_IF(::fstat(fd, &st) != 0, ESPCN_ERROR_IO, "cannot stat ", what, " '", path,
                    "': ", std::strerror(errno));
    ESPCN_RETURN_IF(!S_ISREG(st.st_mode), ESPCN_ERROR_IO, what, " '", path, "' is ",
                    file_kind_name(st.st_mode), ", not a regular file");
    const auto size = static_cast<uint64_t>(st.st_size);
    ESPCN_RETURN_IF(size > max_bytes, too_large, what, " '", path, "' is ", size,
                    " bytes, over the limit of ", max_bytes, " bytes");

    std::vector<uint8_t> bytes;
    ESPCN_RETURN_IF_ERROR(try_resize(bytes, static_cast<size_t>(size), what));
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        ESPCN_RETURN_IF(n < 0, ESPCN_ERROR_IO, "cannot read ", what, " '", path, "': ",
                        std::strerror(errno));
        ESPCN_RETURN_IF(n == 0, ESPCN_ERROR_IO, what, " '", path, "' shrank while being read (",
                        done, " of ", size, " bytes)");
        done += static_cast<size_t>(n);
    }
    // One more byte would mean the file grew after fstat: what we hold is not
    // the whole file.
    uint8_t extra = 0;
    ssize_t more;
    do {
        more = ::read(fd, &extra, 1);
    } while (more < 0 && (errno == EINTR || errno == EAGAIN));
    ESPCN_RETURN_IF(more > 0, ESPCN_ERROR_IO, what, " '", path,
                    "' grew while being read (beyond ", size, " bytes)");
    return bytes;
}

}  // namespace espcn
