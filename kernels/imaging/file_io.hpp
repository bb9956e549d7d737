// Whole files for the tools: reading with a size limit that a hostile input
// cannot get around (a device or a pipe is read in chunks and sniffed after
// the first one), and writing all or nothing (a temporary file renamed into
// place, so an error or a Ctrl-C never leaves a partial output).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "../core/status.hpp"

namespace espcn {

// Sees the first bytes of a file (up to 64 KiB; fewer when the file ends
// there, at_eof) and may refuse it or lower max_bytes (e.g. to the size a
// header announces).
using FileSniffer =
    std::function<Status(const uint8_t *data, size_t size, bool at_eof, size_t &max_bytes)>;

// The bytes of `path`, at most max_bytes. Regular files are sized before
// anything is read; FIFOs and devices are read in chunks (opening a FIFO
// waits for its writer, as cat does; a signal interrupts it). Directories
// are refused. Errors are ESPCN_ERROR_IO with the path and strerror text.
[[nodiscard]] Result<std::vector<uint8_t>> read_file(const std::string &path, size_t max_bytes,
                                                     const FileSniffer &sniff = nullptr);

// A file written whole or not at all. create() opens a temporary file next to
// `path` (so a missing or read-only folder fails before any work is done);
// commit() writes the bytes, flushes and renames it over `path`. Destroyed
// without a successful commit, the temporary file is removed. An existing
// path that is not a regular file (a pipe, /dev/stdout) is written in place.
class OutputFile {
public:
    [[nodiscard]] static Result<OutputFile> create(const std::string &path);
    [[nodiscard]] Status commit(const std::vector<uint8_t> &bytes);

    OutputFile(OutputFile &&other) noexcept;
    OutputFile &operator=(OutputFile &&other) noexcept;
    OutputFile(const OutputFile &) = delete;
    OutputFile &operator=(const OutputFile &) = delete;
    ~OutputFile();

    const std::string &path() const { return path_; }

private:
    OutputFile() = default;
    void discard();

    std::string path_;
    std::string temp_path_;
    int fd_ = -1;
};

// OutputFile::create + commit.
[[nodiscard]] Status write_file(const std::string &path, const std::vector<uint8_t> &bytes);

}  // namespace espcn
