// logreg/io/atomic_file.hpp - replace a file all at once or not at all.
//
// The content goes to a fresh temporary file in the target's directory, which is
// flushed, fsync'ed and closed before it is renamed over the target. rename()
// within one file system is atomic on POSIX, so a reader (or a crash) sees
// either the complete old file or the complete new one - never a truncated
// model, report or checkpoint. On any failure the temporary is removed and the
// old file is left as it was.
#pragma once

#include <logreg/error.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <ostream>
#include <streambuf>
#include <string>
#include <system_error>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#define LOGREG_ATOMIC_FILE_POSIX 1
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#endif
#include <filesystem>
#include <fstream>

namespace logreg::io {

namespace detail {

/// "No such file or directory" for an errno value (thread-safe, unlike strerror).
inline std::string errno_text(int err) {
    return std::generic_category().message(err);
}

/// A short suffix that differs between processes, threads and calls.
inline std::string temp_suffix(unsigned attempt) {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t h = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#ifdef LOGREG_ATOMIC_FILE_POSIX
    h ^= static_cast<std::uint64_t>(::getpid()) << 32;
#endif
    h ^= (counter.fetch_add(1) + attempt) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;  // splitmix-style finaliser so that nearby inputs give unrelated names
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    for (int i = 0; i < 8; ++i) {
        s += alphabet[h % 36];
        h /= 36;
    }
    return s;
}

#ifdef LOGREG_ATOMIC_FILE_POSIX
/// An output streambuf over a POSIX file descriptor that remembers the errno of a failed write,
/// so the error message can say "No space left on device" instead of just "failed".
class FdStreambuf : public std::streambuf {
public:
    explicit FdStreambuf(int fd) : fd_(fd), buffer_(1 << 16) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
    FdStreambuf(const FdStreambuf&) = delete;
    FdStreambuf& operator=(const FdStreambuf&) = delete;

    /// errno of the first failed write, 0 if none failed.
    int error() const { return error_; }

protected:
    int_type overflow(int_type ch) override {
        if (!drain()) return traits_type::eof();
        if (!traits_type::eq_int_type(ch, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(ch);
            pbump(1);
        }
        return traits_type::not_eof(ch);
    }
    int sync() override { return drain() ? 0 : -1; }

private:
    bool drain() {
        if (error_ != 0) return false;
        const char* p = pbase();
        std::size_t left = static_cast<std::size_t>(pptr() - pbase());
        while (left > 0) {
            const ssize_t n = ::write(fd_, p, left);
            if (n < 0) {
                if (errno == EINTR) continue;
                error_ = errno;
                return false;
            }
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        setp(buffer_.data(), buffer_.data() + buffer_.size());
        return true;
    }

    int fd_;
    std::vector<char> buffer_;
    int error_ = 0;
};
#endif

#ifdef LOGREG_ATOMIC_FILE_POSIX
/// The folder part of `path` ("." for a bare name).
inline std::string parent_folder(const std::string& path) {
    const std::size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

/// What kind of file a non-regular `st` is, for messages.
inline const char* file_kind(const struct stat& st) {
    if (S_ISDIR(st.st_mode)) return "a directory";
    if (S_ISLNK(st.st_mode)) return "a symbolic link";
    if (S_ISFIFO(st.st_mode)) return "a FIFO";
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "a device";
    if (S_ISSOCK(st.st_mode)) return "a socket";
    return "not a regular file";
}

/// Refuses to replace anything but a regular file (or nothing). rename() would put a regular file
/// in place of a symlink, a FIFO, a device node or (if empty) a directory - never what the user meant
/// (as root, --metrics-json /dev/null would replace the system's /dev/null). A symlink is refused,
/// not followed: name its target to write there.
inline void check_replaceable(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;  // nothing there (or unreadable: creating the temporary says why)
    if (S_ISREG(st.st_mode)) return;
    throw IoError("cannot write '" + path + "': it is " + file_kind(st) +
                  (S_ISLNK(st.st_mode) ? "; logreg replaces only regular files (name the link's target instead)"
                                       : "; logreg replaces only regular files"));
}

/// path + ".tmp-" + suffix, with the file name shortened when the whole name would exceed the
/// folder's NAME_MAX (a 250-character target name must still be writable).
inline std::string temp_name(const std::string& path, unsigned attempt) {
    const std::string suffix = ".tmp-" + temp_suffix(attempt);
    const std::size_t slash = path.find_last_of('/');
    const std::size_t name_start = slash == std::string::npos ? 0 : slash + 1;
    long name_max = ::pathconf(parent_folder(path).c_str(), _PC_NAME_MAX);
    if (name_max <= 0) name_max = 255;
    const std::size_t keep =
        static_cast<std::size_t>(name_max) > suffix.size() + 1 ? static_cast<std::size_t>(name_max) - suffix.size() : 1;
    const std::size_t name_length = path.size() - name_start;
    return path.substr(0, name_start + std::min(name_length, keep)) + suffix;
}
#endif

}  // namespace detail

/// Checks, before any work is done, that write_file_atomically(path, ...) can succeed: `path` is not
/// a directory, symlink, FIFO or device, its folder exists, and a file can be created there (a
/// temporary is created and removed). Throws IoError naming `path` and the reason. Programs call it
/// for every output before a long run, so that a typo costs seconds, not a training.
inline void check_output_path(const std::string& path) {
    if (path.empty()) throw IoError("the output path is empty");
#ifdef LOGREG_ATOMIC_FILE_POSIX
    detail::check_replaceable(path);
    const std::string folder = detail::parent_folder(path);
    struct stat st {};
    if (::stat(folder.c_str(), &st) != 0) {
        const int err = errno;
        throw IoError("cannot write '" + path + "': its folder '" + folder + "' " +
                      (err == ENOENT ? std::string("does not exist") : "cannot be used: " + detail::errno_text(err)));
    }
    if (!S_ISDIR(st.st_mode)) throw IoError("cannot write '" + path + "': '" + folder + "' is not a folder");
    for (unsigned attempt = 0;; ++attempt) {
        const std::string temp = detail::temp_name(path, attempt);
        const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ::close(fd);
            ::unlink(temp.c_str());
            return;
        }
        if (errno != EEXIST || attempt >= 100) {
            const int err = errno;
            throw IoError("cannot write '" + path + "': creating a file in '" + folder +
                          "' failed: " + detail::errno_text(err));
        }
    }
#else
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) throw IoError("cannot write '" + path + "': it is a directory");
#endif
}

/// Writes a file atomically: `write` fills a stream that goes to a temporary file beside `path`
/// (`path + ".tmp-XXXXXXXX"`), which replaces `path` only once it is complete and on disk.
///
/// If `write` throws, its exception propagates unchanged; if writing, syncing or renaming fails,
/// an IoError naming `path` and the system's reason is thrown. Either way the temporary is removed
/// and a previous file at `path` is untouched. A replaced file keeps its permission bits; a new
/// one gets the usual 0666 & ~umask. Only a regular file is replaced: a symlink, FIFO, device or
/// directory at `path` is refused with an IoError before anything is written.
inline void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
    if (path.empty()) throw IoError("write_file_atomically: the path is empty");
#ifdef LOGREG_ATOMIC_FILE_POSIX
    detail::check_replaceable(path);
    // O_EXCL with our own unique name rather than mkstemp(): mkstemp creates mode 0600, and
    // there is no thread-safe way to read the umask to widen it again.
    std::string temp;
    int fd = -1;
    for (unsigned attempt = 0; fd < 0; ++attempt) {
        temp = detail::temp_name(path, attempt);
        fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && (errno != EEXIST || attempt >= 100)) {
            const int err = errno;
            throw IoError("cannot write '" + path + "': creating the temporary file '" + temp +
                          "' failed: " + detail::errno_text(err));
        }
    }
    // Keep the permissions of a file we replace (a user's chmod should survive a re-save).
    struct stat old_stat {};
    if (::stat(path.c_str(), &old_stat) == 0 && S_ISREG(old_stat.st_mode)) (void)::fchmod(fd, old_stat.st_mode & 07777);

    auto fail = [&](const std::string& what, int err) {
        if (fd >= 0) ::close(fd);
        ::unlink(temp.c_str());
        throw IoError("cannot write '" + path + "': " + what + (err != 0 ? ": " + detail::errno_text(err) : ""));
    };
    {
        detail::FdStreambuf buf(fd);
        std::ostream out(&buf);
        try {
            write(out);
            out.flush();
        } catch (...) {
            ::close(fd);
            ::unlink(temp.c_str());
            throw;
        }
        if (!out) fail("writing the temporary file '" + temp + "' failed", buf.error());
    }
    // fsync before rename: otherwise a crash can leave the new name pointing at empty blocks.
    if (::fsync(fd) != 0) fail("fsync of '" + temp + "' failed", errno);
    const int fd_closed = fd;
    fd = -1;
    if (::close(fd_closed) != 0) fail("closing '" + temp + "' failed", errno);
    // Checked again just before the rename: the writing may have taken long.
    try {
        detail::check_replaceable(path);
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) fail("renaming '" + temp + "' to it failed", errno);
    // Make the rename itself durable; best effort, the file is already complete.
    const std::string dir = detail::parent_folder(path);
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC);
    if (dir_fd >= 0) {
        (void)::fsync(dir_fd);
        ::close(dir_fd);
    }
#else
    // Portable fallback: no fsync, but still a complete temporary renamed over the target.
    namespace fs = std::filesystem;
    std::string temp;
    for (unsigned attempt = 0;; ++attempt) {
        temp = path + ".tmp-" + detail::temp_suffix(attempt);
        std::error_code ec;
        if (!fs::exists(temp, ec)) break;
        if (attempt >= 100) throw IoError("cannot write '" + path + "': no unused temporary file name");
    }
    auto remove_temp = [&] {
        std::error_code ec;
        fs::remove(temp, ec);
    };
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out) throw IoError("cannot write '" + path + "': creating the temporary file '" + temp + "' failed");
        try {
            write(out);
            out.flush();
        } catch (...) {
            out.close();
            remove_temp();
            throw;
        }
        out.close();
        if (!out) {
            remove_temp();
            throw IoError("cannot write '" + path + "': writing the temporary file '" + temp + "' failed");
        }
    }
    std::error_code ec;
    fs::rename(temp, path, ec);
    if (ec) {
        remove_temp();
        throw IoError("cannot write '" + path + "': renaming '" + temp + "' to it failed: " + ec.message());
    }
#endif
}

}  // namespace logreg::io
