// logreg/io/detail/byte_source.hpp - the bytes of a file, raw or gzip-compressed, in order.
//
// The readers of text and binary data files (IDX, CSV, NumPy) take their input from here, so that
// each accepts a .gz file the same way: gzip is detected by its magic bytes (not the file name),
// concatenated members are read in turn, a truncated or corrupt stream and trailing bytes that are
// not gzip are FormatErrors naming the file. Only regular files are opened (input_file.hpp). Gzip
// needs zlib: define LOGREG_HAVE_ZLIB and link zlib, as the CMake target logreg::io does.
// Not for users: include the reader headers instead.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/input_file.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#ifdef LOGREG_HAVE_ZLIB
#include <zlib.h>
#endif

namespace logreg::io::detail {

/// Byte source over a raw or gzip-compressed file; read() returns fewer bytes only at the end of the data.
class ByteSource {
public:
    explicit ByteSource(const std::string& path) : path_(path), file_(path) {
        file_size_ = file_.size();
        unsigned char sig[2] = {0, 0};
        const std::size_t got = file_.read(sig, 2);
        file_.seek(0);
        gzip_ = got == 2 && sig[0] == 0x1f && sig[1] == 0x8b;
        if (gzip_) {
#ifdef LOGREG_HAVE_ZLIB
            zs_.zalloc = Z_NULL;
            zs_.zfree = Z_NULL;
            zs_.opaque = Z_NULL;
            zs_.next_in = Z_NULL;
            zs_.avail_in = 0;
            // 15 + 16: a gzip wrapper only (no zlib or raw deflate), full 32 KiB window.
            inbuf_.resize(std::size_t{1} << 16);
            if (inflateInit2(&zs_, 15 + 16) != Z_OK)
                throw IoError(logreg::detail::cat(path, ": cannot initialise zlib"));
            zs_open_ = true;
#else
            throw FormatError(
                logreg::detail::cat(path,
                                    ": the file is gzip-compressed, but gzip support was not compiled in "
                                    "(build with zlib: define LOGREG_HAVE_ZLIB and link zlib, e.g. via the "
                                    "CMake target logreg::io), or decompress it first with gunzip"));
#endif
        }
    }

    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    ~ByteSource() {
#ifdef LOGREG_HAVE_ZLIB
        if (zs_open_) inflateEnd(&zs_);
#endif
    }

    bool gzip() const {
        return gzip_;
    }
    std::uint64_t file_size() const {
        return file_size_;
    }
    /// Bytes of (decompressed) content returned by read() so far: how far into the data the reader went.
    std::uint64_t content_read() const {
        return content_read_;
    }

    /// Reads up to n bytes of (decompressed) content; fewer only at its end.
    std::size_t read(std::uint8_t* out, std::size_t n) {
#ifdef LOGREG_HAVE_ZLIB
        const std::size_t got = gzip_ ? inflate_some(out, n) : file_.read(out, n);
#else
        const std::size_t got = gzip_ ? 0 : file_.read(out, n);  // the constructor rejects gzip without zlib
#endif
        content_read_ += got;
        return got;
    }

    /// Raw files only: reads up to n bytes at byte `offset` of the file.
    std::size_t read_raw_at(std::uint64_t offset, std::uint8_t* out, std::size_t n) {
        file_.seek(offset);
        const std::size_t got = file_.read(out, n);
        content_read_ += got;
        return got;
    }

private:
#ifdef LOGREG_HAVE_ZLIB
    /// Refills the compressed input buffer; false at the end of the file.
    bool refill() {
        if (file_eof_) return false;
        const std::size_t got = file_.read(inbuf_.data(), inbuf_.size());
        if (got < inbuf_.size()) file_eof_ = true;
        zs_.next_in = inbuf_.data();
        zs_.avail_in = static_cast<uInt>(got);
        return got > 0;
    }

    std::size_t inflate_some(std::uint8_t* out, std::size_t n) {
        std::size_t done = 0;
        while (done < n && !finished_) {
            if (zs_.avail_in == 0) refill();
            if (member_ended_) {
                // After one gzip member: the end of the file, or another member (concatenated gzip is legal).
                if (zs_.avail_in == 0) {
                    finished_ = true;
                    break;
                }
                if (zs_.avail_in == 1 && !file_eof_) {
                    // The next member's signature straddles the buffer boundary: keep its first byte.
                    const Bytef first = zs_.next_in[0];
                    const std::size_t got = file_.read(inbuf_.data() + 1, inbuf_.size() - 1);
                    if (got < inbuf_.size() - 1) file_eof_ = true;
                    inbuf_[0] = first;
                    zs_.next_in = inbuf_.data();
                    zs_.avail_in = static_cast<uInt>(got + 1);
                }
                if (zs_.avail_in < 2 || zs_.next_in[0] != 0x1f || zs_.next_in[1] != 0x8b)
                    throw FormatError(logreg::detail::cat(path_, ": trailing data after the end of the gzip stream (",
                                                          remaining_compressed(), " bytes that are not gzip)"));
                inflateReset(&zs_);
                member_ended_ = false;
            }
            const std::size_t want = std::min<std::size_t>(n - done, std::numeric_limits<uInt>::max());
            zs_.next_out = out + done;
            zs_.avail_out = static_cast<uInt>(want);
            const int rc = inflate(&zs_, Z_NO_FLUSH);
            const std::size_t produced = want - zs_.avail_out;
            done += produced;
            decompressed_ += produced;
            if (rc == Z_STREAM_END) {
                member_ended_ = true;  // zlib has checked the member's CRC-32 and length
            } else if (rc == Z_BUF_ERROR || (rc == Z_OK && produced == 0 && zs_.avail_in == 0)) {
                // No progress possible: the input ran out in the middle of a member.
                if (zs_.avail_in == 0 && file_eof_)
                    throw FormatError(
                        logreg::detail::cat(path_, ": the gzip stream is truncated (it ends after ", decompressed_,
                                            " decompressed bytes; the file may be an incomplete download)"));
                if (zs_.avail_in != 0)  // cannot happen with room for output; never spin on it
                    throw FormatError(logreg::detail::cat(path_, ": corrupt gzip data after ", decompressed_,
                                                          " decompressed bytes: zlib made no progress"));
            } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
                throw FormatError(
                    logreg::detail::cat(path_, ": corrupt gzip data after ", decompressed_,
                                        " decompressed bytes: ", zs_.msg ? zs_.msg : "invalid deflate stream"));
            } else if (rc == Z_MEM_ERROR) {
                throw IoError(logreg::detail::cat(path_, ": zlib is out of memory"));
            } else if (rc != Z_OK) {
                throw FormatError(logreg::detail::cat(path_, ": gzip decompression failed (zlib error ", rc, ")"));
            }
        }
        return done;
    }

    std::uint64_t remaining_compressed() {
        const std::uint64_t unread = file_eof_ ? 0 : file_size_ - std::min(file_size_, file_.tell());
        return unread + zs_.avail_in;
    }

    z_stream zs_{};
    bool zs_open_ = false;
    bool file_eof_ = false;
    bool member_ended_ = false;
    bool finished_ = false;
    std::uint64_t decompressed_ = 0;
    std::vector<Bytef> inbuf_;  // compressed input, refilled in 64 KiB chunks
#endif
    std::string path_;
    InputFile file_;  // regular files only: a FIFO or device is refused, never waited on
    std::uint64_t file_size_ = 0;
    std::uint64_t content_read_ = 0;
    bool gzip_ = false;
};

}  // namespace logreg::io::detail
