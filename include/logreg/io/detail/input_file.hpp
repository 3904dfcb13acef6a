// logreg/io/detail/input_file.hpp - opens a file the library is asked to read, regular files only.
//
// Every reader (IDX raw and gzip, the memory-mapped IDX data set, safetensors models and
// checkpoints, images) opens its input here, so that all of them refuse the same things with the
// same words:
//   - a directory, FIFO, socket or device is refused before anything is read ("... is a FIFO
//     (named pipe), not a regular file"): reading a FIFO blocks until some writer appears, a
//     device may never end, and a directory is not data;
//   - "No such file or directory" only when the path does not exist; a permission problem says
//     "Permission denied" (the system's own words for errno).
// On POSIX the path is stat()ed first, so that a FIFO or device is never even opened (opening some
// devices has side effects), then opened with O_NONBLOCK, so that a path swapped for a FIFO between
// the two calls cannot block the open, then fstat()ed again: the descriptor itself is checked, so
// there is no window in which another file can slip in. O_NONBLOCK is cleared afterwards.
// Not for users: include the reader headers (idx.hpp, safetensors.hpp, ...) instead.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#define LOGREG_INPUT_FILE_POSIX 1
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace logreg::io::detail {

#ifdef LOGREG_INPUT_FILE_POSIX
/// "a FIFO (named pipe)", "a directory", ... for a file type that is not a regular file.
inline const char* file_type_text(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "a special file";
}
#endif

/// The same for std::filesystem's file types (a regular file too: "a regular file").
inline const char* file_type_text(std::filesystem::file_type type) {
    using std::filesystem::file_type;
    switch (type) {
        case file_type::regular:
            return "a regular file";
        case file_type::directory:
            return "a directory";
        case file_type::fifo:
            return "a FIFO (named pipe)";
        case file_type::socket:
            return "a socket";
        case file_type::character:
            return "a character device";
        case file_type::block:
            return "a block device";
        default:
            return "a special file";
    }
}

/// A regular file opened for reading (see the file comment), closed on destruction.
class InputFile {
public:
    /// Opens `path`; IoError "PATH: cannot open: ..." if it does not exist, may not be read or is
    /// not a regular file.
    explicit InputFile(const std::string& path) : path_(path) {
#ifdef LOGREG_INPUT_FILE_POSIX
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) throw_errno(errno);
        if (!S_ISREG(st.st_mode)) throw_not_regular(file_type_text(st.st_mode));
        int fd = -1;
        do {
            fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        } while (fd < 0 && errno == EINTR);
        if (fd < 0) throw_errno(errno);
        if (::fstat(fd, &st) != 0) {
            const int err = errno;
            ::close(fd);
            throw_errno(err);
        }
        if (!S_ISREG(st.st_mode)) {  // the path was replaced after the stat() above
            ::close(fd);
            throw_not_regular(file_type_text(st.st_mode));
        }
        const int flags = ::fcntl(fd, F_GETFL);
        if (flags != -1) (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        file_ = ::fdopen(fd, "rb");
        if (!file_) {
            const int err = errno;
            ::close(fd);
            throw_errno(err);
        }
        size_ = static_cast<std::uint64_t>(st.st_size);
#else
        namespace fs = std::filesystem;
        std::error_code ec;
        const fs::file_status status = fs::status(path, ec);
        if (!fs::exists(status)) throw_errno(ec ? ec.value() : ENOENT);
        if (!fs::is_regular_file(status)) throw_not_regular(file_type_text(status.type()));
        file_ = std::fopen(path.c_str(), "rb");
        if (!file_) throw_errno(errno);
        size_ = static_cast<std::uint64_t>(fs::file_size(path, ec));
        if (ec) {
            std::fclose(file_);
            throw IoError(logreg::detail::cat(path, ": cannot determine the file size: ", ec.message()));
        }
#endif
    }

    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;
    ~InputFile() {
        if (file_) std::fclose(file_);
    }

    const std::string& path() const {
        return path_;
    }
    /// The size when the file was opened.
    std::uint64_t size() const {
        return size_;
    }
    /// The open stream (owned by this object), e.g. for a decoder that reads a FILE*.
    std::FILE* get() const {
        return file_;
    }
#ifdef LOGREG_INPUT_FILE_POSIX
    /// The descriptor (owned by this object), e.g. for mmap or fstat.
    int fd() const {
        return ::fileno(file_);
    }
#endif

    /// Reads up to n bytes; fewer only at the end of the file. IoError on a read error.
    std::size_t read(void* out, std::size_t n) {
        if (n == 0) return 0;
        const std::size_t got = std::fread(out, 1, n, file_);
        if (got < n && std::ferror(file_))
            throw IoError(logreg::detail::cat(path_, ": read error: ", std::generic_category().message(errno)));
        return got;
    }

    /// Moves to byte `offset` from the start.
    void seek(std::uint64_t offset) {
#ifdef LOGREG_INPUT_FILE_POSIX
        const bool ok = ::fseeko(file_, static_cast<off_t>(offset), SEEK_SET) == 0;
#elif defined(_WIN32)
        const bool ok = ::_fseeki64(file_, static_cast<long long>(offset), SEEK_SET) == 0;
#else
        const bool ok = std::fseek(file_, static_cast<long>(offset), SEEK_SET) == 0;
#endif
        if (!ok) throw IoError(logreg::detail::cat(path_, ": cannot seek to byte ", offset));
    }

    /// The current position (bytes from the start).
    std::uint64_t tell() const {
#ifdef LOGREG_INPUT_FILE_POSIX
        const auto pos = ::ftello(file_);
#elif defined(_WIN32)
        const auto pos = ::_ftelli64(file_);
#else
        const auto pos = std::ftell(file_);
#endif
        if (pos < 0) throw IoError(logreg::detail::cat(path_, ": cannot determine the read position"));
        return static_cast<std::uint64_t>(pos);
    }

private:
    [[noreturn]] void throw_errno(int err) const {
        throw IoError(logreg::detail::cat(path_, ": cannot open: ", std::generic_category().message(err)));
    }
    [[noreturn]] void throw_not_regular(const char* type) const {
        throw IoError(logreg::detail::cat(path_, ": cannot open: it is ", type, ", not a regular file"));
    }

    std::string path_;
    std::FILE* file_ = nullptr;
    std::uint64_t size_ = 0;
};

}  // namespace logreg::io::detail
