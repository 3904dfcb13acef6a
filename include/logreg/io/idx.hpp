// logreg/io/idx.hpp - reader for IDX files (the MNIST format), raw or gzip-compressed.
//
// An IDX file is a 4-byte magic number (0x00, 0x00, type code, dimension count),
// one big-endian uint32 per dimension, then the elements in row-major order.
// The reader treats every file as untrusted: the whole header is validated - its
// own consistency, what the caller expects of it (IdxExpect: counts, 28x28, a byte
// limit) and the claimed size against what the file can hold - before any of the
// body is read, decompressed or allocated (gzip: the body buffer then grows only as
// decompressed data arrives). Only regular files are read (detail/input_file.hpp).
// Gzip is detected by its magic bytes (not the file name) and needs
// zlib: define LOGREG_HAVE_ZLIB and link zlib, as the CMake target logreg::io does.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/byte_source.hpp>
#include <logreg/io/detail/input_file.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace logreg::io {

/// An IDX array: its dimensions and its elements as raw bytes (big-endian for multi-byte types).
struct IdxArray {
    std::vector<std::uint32_t> dims;  ///< sizes, outermost first (as in the header)
    std::vector<std::uint8_t> data;   ///< product(dims) elements, row-major, as stored in the file
};

/// Largest element payload the reader accepts (4 GiB): far above MNIST (47 MB), far below a corrupt header.
inline constexpr std::uint64_t idx_max_bytes = std::uint64_t{1} << 32;

/// Largest decompressed/compressed size ratio accepted for gzip files; deflate cannot exceed about 1032:1.
inline constexpr std::uint64_t idx_max_gzip_ratio = 1100;

/// What the caller will accept from an IDX file. Checked right after the header is read, before
/// any of the body is read, decompressed or allocated: a file that cannot be what the caller wants
/// costs a few bytes of reading, whatever its header claims. The defaults expect nothing.
struct IdxExpect {
    std::uint32_t count = 0;  ///< the first dimension (images, labels); 0: any
    std::uint32_t rows = 0;   ///< the second dimension (image height); 0: any
    std::uint32_t cols = 0;   ///< the third dimension (image width); 0: any
    /// The largest body (decompressed bytes) accepted; it can only lower the reader's own limit, idx_max_bytes.
    std::uint64_t max_bytes = idx_max_bytes;
};

namespace detail {

using logreg::detail::cat;

/// What the caller expects, so that checks and messages can be specific.
enum class IdxKind { any, images, labels };

/// Size in bytes of one element of an IDX type code, or 0 for an unknown code.
inline std::size_t idx_element_size(std::uint8_t type) {
    switch (type) {
        case 0x08:
            return 1;  // unsigned byte
        case 0x09:
            return 1;  // signed byte
        case 0x0B:
            return 2;  // short
        case 0x0C:
            return 4;  // int
        case 0x0D:
            return 4;  // float
        case 0x0E:
            return 8;  // double
        default:
            return 0;
    }
}

inline std::string hex32(std::uint32_t v) {
    static const char digits[] = "0123456789abcdef";
    std::string s = "0x00000000";
    for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(9 - i)] = digits[(v >> (4 * i)) & 0xFu];
    return s;
}

inline std::string hex8(std::uint8_t v) {
    return hex32(v).replace(2, 6, "");
}

/// A validated IDX header.
struct IdxHeader {
    std::uint8_t type = 0;
    std::vector<std::uint32_t> dims;
    std::uint64_t header_bytes = 0;
    std::uint64_t data_bytes = 0;
};

inline const char* idx_kind_name(IdxKind kind) {
    switch (kind) {
        case IdxKind::images:
            return "IDX images";
        case IdxKind::labels:
            return "IDX labels";
        case IdxKind::any:
            break;
    }
    return "IDX";
}

/// "60000 images of 28x28", "60000 labels" or "an array of 3x4 (type 0x0d)", for messages.
inline std::string describe(IdxKind kind, const IdxHeader& h) {
    std::string shape;
    for (std::size_t i = 0; i < h.dims.size(); ++i) shape += (i ? "x" : "") + std::to_string(h.dims[i]);
    if (kind == IdxKind::images && h.dims.size() == 3)
        return cat(h.dims[0], h.dims[0] == 1 ? " image" : " images", " of ", h.dims[1], "x", h.dims[2]);
    if (kind == IdxKind::labels && h.dims.size() == 1) return cat(h.dims[0], h.dims[0] == 1 ? " label" : " labels");
    return cat("an array of ", shape, " (type ", hex8(h.type), ")");
}

/// The caller's expectations on the dimensions (IdxExpect); runs before any size is even computed.
inline void check_idx_expectation(const std::string& path, IdxKind kind, const IdxHeader& h, const IdxExpect& expect) {
    const char* noun = kind == IdxKind::images ? "images" : kind == IdxKind::labels ? "labels" : "entries";
    if (expect.count != 0 && h.dims[0] != expect.count)
        throw FormatError(
            cat(path, ": header claims ", describe(kind, h), ", but ", expect.count, " ", noun, " are expected"));
    const bool rows_wrong = expect.rows != 0 && (h.dims.size() < 2 || h.dims[1] != expect.rows);
    const bool cols_wrong = expect.cols != 0 && (h.dims.size() < 3 || h.dims[2] != expect.cols);
    if (rows_wrong || cols_wrong) {
        const auto side = [](std::uint32_t v) { return v ? std::to_string(v) : std::string("any"); };
        throw FormatError(cat(path, ": header claims ", describe(kind, h), ", but ",
                              kind == IdxKind::images ? "images" : "arrays", " of ", side(expect.rows), "x",
                              side(expect.cols), " are expected; the file is refused before its data is read"));
    }
}

/// Reads and validates the magic number and dimensions, and checks them against `expect`;
/// allocates nothing proportional to the data, and reads nothing past the header.
inline IdxHeader read_idx_header(ByteSource& src, const std::string& path, IdxKind kind, std::uint8_t expected_type,
                                 const IdxExpect& expect = {}) {
    const std::size_t expected_dims = kind == IdxKind::images ? 3 : kind == IdxKind::labels ? 1 : 0;
    std::uint8_t m[4] = {0, 0, 0, 0};
    const std::size_t got = src.read(m, 4);
    // A failed download often saves the server's HTML error page under the data file's name.
    std::size_t first = 0;
    while (first < got && (m[first] == ' ' || m[first] == '\t' || m[first] == '\r' || m[first] == '\n')) ++first;
    if (first < got && m[first] == '<')
        throw FormatError(cat(path,
                              ": the file starts with '<': it looks like an HTML page (e.g. the error "
                              "page of a failed download), not an IDX file"));
    if (got == 0) throw FormatError(cat(path, ": the file is empty; expected an ", idx_kind_name(kind), " file"));
    if (got < 4)
        throw FormatError(cat(path, ": truncated IDX header: the file holds only ", got,
                              " bytes, fewer than the 4-byte magic number"));
    const std::uint32_t magic =
        (std::uint32_t{m[0]} << 24) | (std::uint32_t{m[1]} << 16) | (std::uint32_t{m[2]} << 8) | std::uint32_t{m[3]};
    const std::uint32_t wanted_magic = (std::uint32_t{expected_type} << 8) | static_cast<std::uint32_t>(expected_dims);
    const std::string wanted =
        expected_dims ? cat(hex32(wanted_magic), " (", idx_kind_name(kind), ")")
                      : cat("0x0000", hex8(expected_type).substr(2), "nn (IDX, type ", hex8(expected_type), ")");
    if (m[0] != 0 || m[1] != 0) {
        // The little-endian form of a valid magic: written by a tool that ignored IDX's big-endian order.
        if (m[2] == 0 && m[3] == 0 && idx_element_size(m[1]) != 0 && m[0] != 0)
            throw FormatError(cat(path, ": byte-swapped magic number ", hex32(magic),
                                  " (little-endian); IDX headers are big-endian, expected ", wanted));
        throw FormatError(
            cat(path, ": bad magic number ", hex32(magic), ", expected ", wanted, ": this is not an IDX file"));
    }
    if (idx_element_size(m[2]) == 0)
        throw FormatError(cat(path, ": unknown IDX data type byte ", hex8(m[2]), " (magic ", hex32(magic),
                              "); expected ", hex8(expected_type)));
    if (m[2] != expected_type)
        throw FormatError(cat(path, ": IDX data type byte is ", hex8(m[2]), " but ", hex8(expected_type),
                              " was expected (magic ", hex32(magic), ", expected ", wanted, ")"));
    const std::size_t ndims = m[3];
    if (expected_dims != 0 && ndims != expected_dims) {
        const char* hint = ndims == 3 ? ": is this an image file?" : ndims == 1 ? ": is this a label file?" : "";
        throw FormatError(cat(path, ": IDX header has ", ndims, " dimensions but ", idx_kind_name(kind), " have ",
                              expected_dims, " (magic ", hex32(magic), ", expected ", wanted, ")", hint));
    }
    if (ndims == 0) throw FormatError(cat(path, ": IDX header has 0 dimensions (magic ", hex32(magic), ")"));

    IdxHeader h;
    h.type = m[2];
    h.header_bytes = 4 + 4 * std::uint64_t{ndims};
    std::array<std::uint8_t, 4 * 255> raw{};
    const std::size_t dim_bytes = 4 * ndims;
    const std::size_t got_dims = src.read(raw.data(), dim_bytes);
    if (got_dims < dim_bytes)
        throw FormatError(cat(path, ": truncated IDX header: ", ndims, " dimensions need ", h.header_bytes,
                              " header bytes but the ", src.gzip() ? "decompressed data holds" : "file holds", " only ",
                              4 + got_dims));
    h.dims.resize(ndims);
    for (std::size_t i = 0; i < ndims; ++i)
        h.dims[i] = (std::uint32_t{raw[4 * i]} << 24) | (std::uint32_t{raw[4 * i + 1]} << 16) |
                    (std::uint32_t{raw[4 * i + 2]} << 8) | std::uint32_t{raw[4 * i + 3]};

    // Images and labels need every dimension; a generic IDX array may be empty.
    if (kind != IdxKind::any)
        for (std::size_t i = 0; i < ndims; ++i)
            if (h.dims[i] == 0)
                throw FormatError(cat(path, ": IDX header claims ", describe(kind, h), ": dimension ", i, " is zero"));
    check_idx_expectation(path, kind, h, expect);

    // Product of the dimensions and the element size, with overflow checks.
    std::uint64_t bytes = idx_element_size(h.type);
    for (std::uint32_t d : h.dims) {
        if (d != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / d)
            throw FormatError(
                cat(path, ": IDX header claims ", describe(kind, h), ": the size overflows 64 bits (corrupt header?)"));
        bytes *= d;
    }
    if (bytes > idx_max_bytes)
        throw FormatError(cat(path, ": IDX header claims ", describe(kind, h), " (", bytes,
                              " bytes), more than the reader's limit of ", idx_max_bytes, " bytes (corrupt header?)"));
    if (bytes > expect.max_bytes)
        throw FormatError(cat(path, ": IDX header claims ", describe(kind, h), " (", bytes,
                              " bytes), more than the caller's limit of ", expect.max_bytes,
                              " bytes; the file is refused before its data is read"));
    h.data_bytes = bytes;

    // The file must be able to hold the claimed data: checked before anything is allocated.
    if (!src.gzip()) {
        const std::uint64_t avail = src.file_size() - h.header_bytes;  // >= 0: the header was read in full
        if (avail < bytes)
            throw FormatError(cat(path, ": header claims ", describe(kind, h), " (", bytes,
                                  " bytes) but the file holds ", avail, " bytes of data after the ", h.header_bytes,
                                  "-byte header: the file is truncated"));
        if (avail > bytes)
            throw FormatError(cat(path, ": ", avail - bytes, " bytes of trailing data after the ", bytes,
                                  " bytes that the header claims (", describe(kind, h), ")"));
    } else if (bytes / idx_max_gzip_ratio > src.file_size()) {
        throw FormatError(cat(path, ": header claims ", describe(kind, h), " (", bytes, " bytes), more than ",
                              idx_max_gzip_ratio, " times the compressed file size of ", src.file_size(),
                              " bytes: no gzip file can hold that (corrupt header or gzip bomb)"));
    }
    return h;
}

/// After `got` bytes of the body were read: checks that they are all and that nothing follows.
inline void check_idx_body_end(ByteSource& src, const std::string& path, IdxKind kind, const IdxHeader& h,
                               std::size_t got) {
    const auto n = static_cast<std::size_t>(h.data_bytes);
    if (got < n)
        throw FormatError(cat(path, ": header claims ", describe(kind, h), " (", n, " bytes) but the ",
                              src.gzip() ? "decompressed data holds" : "file holds", " only ", got,
                              " bytes of data: the file is truncated"));
    // One more byte must not exist; for gzip this also runs zlib's end-of-stream CRC check.
    std::uint8_t extra[256];
    const std::size_t more = src.read(extra, sizeof extra);
    if (more > 0)
        throw FormatError(cat(path, ": trailing data after the ", n, " bytes that the header claims (",
                              describe(kind, h), ")", src.gzip() ? ": the decompressed content is longer" : ""));
}

/// Reads exactly h.data_bytes into `out`, then checks that nothing follows.
inline void read_idx_body(ByteSource& src, const std::string& path, IdxKind kind, const IdxHeader& h,
                          std::uint8_t* out) {
    check_idx_body_end(src, path, kind, h, src.read(out, static_cast<std::size_t>(h.data_bytes)));
}

/// Reads the body into `out`, which grows only as decompressed data actually arrives. For gzip
/// the file size bounds the claimed size only by the deflate ratio (1100x); growing with the
/// data means a small file with a large claim allocates little before it is found truncated.
inline void read_idx_body_growing(ByteSource& src, const std::string& path, IdxKind kind, const IdxHeader& h,
                                  std::vector<std::uint8_t>& out) {
    const auto n = static_cast<std::size_t>(h.data_bytes);
    std::size_t got = 0, size = std::min<std::size_t>(n, std::size_t{1} << 16);
    for (;;) {
        out.resize(size);
        got += src.read(out.data() + got, size - got);
        if (got < size || size == n) break;
        size = std::min(n, 2 * size);
    }
    out.resize(got);
    check_idx_body_end(src, path, kind, h, got);
}

inline IdxHeader read_idx_into(const std::string& path, IdxKind kind, std::uint8_t expected_type,
                               const IdxExpect& expect, std::vector<std::uint8_t>& out) {
    ByteSource src(path);
    IdxHeader h = read_idx_header(src, path, kind, expected_type, expect);
    if (src.gzip()) {
        read_idx_body_growing(src, path, kind, h, out);
    } else {  // the file size has been checked against the claim: allocate it at once
        out.resize(static_cast<std::size_t>(h.data_bytes));
        read_idx_body(src, path, kind, h, out.data());
    }
    return h;
}

}  // namespace detail

/// Reads an IDX file (raw or gzip) whose data type byte must be `expected_type` (0x08: unsigned byte)
/// and whose header meets `expect` (its first three dimensions, its size in bytes).
/// Throws IoError if the file cannot be opened and FormatError if it is malformed.
inline IdxArray read_idx(const std::string& path, std::uint8_t expected_type = 0x08, const IdxExpect& expect = {}) {
    if (detail::idx_element_size(expected_type) == 0)
        throw InvalidParameter(logreg::detail::cat("read_idx: expected_type ", detail::hex8(expected_type),
                                                   " is not an IDX type code (0x08, 0x09, 0x0b-0x0e)"));
    IdxArray a;
    detail::IdxHeader h = detail::read_idx_into(path, detail::IdxKind::any, expected_type, expect, a.data);
    a.dims = std::move(h.dims);
    return a;
}

/// Reads an IDX image file (magic 0x00000803): N images of rows x cols bytes as an N x (rows*cols) matrix.
/// `expect`: e.g. rows = cols = 28 for MNIST; a file that differs is refused after its 16-byte header.
inline RowMatrix<std::uint8_t> read_idx_images(const std::string& path, const IdxExpect& expect = {}) {
    detail::ByteSource src(path);
    const detail::IdxHeader h = detail::read_idx_header(src, path, detail::IdxKind::images, 0x08, expect);
    const auto rows = static_cast<Index>(h.dims[0]);
    const auto cols = static_cast<Index>(std::uint64_t{h.dims[1]} * h.dims[2]);
    if (src.gzip()) {  // see read_idx_body_growing: allocate as the data arrives
        std::vector<std::uint8_t> bytes;
        detail::read_idx_body_growing(src, path, detail::IdxKind::images, h, bytes);
        return Eigen::Map<const RowMatrix<std::uint8_t>>(bytes.data(), rows, cols);
    }
    RowMatrix<std::uint8_t> images(rows, cols);
    detail::read_idx_body(src, path, detail::IdxKind::images, h, images.data());
    return images;
}

namespace detail {
inline void check_label_expect(const char* function, const IdxExpect& expect) {
    if (expect.rows != 0 || expect.cols != 0)
        throw InvalidParameter(logreg::detail::cat(function,
                                                   ": IdxExpect rows and cols apply to images; a label "
                                                   "file has one dimension (set count only)"));
}
}  // namespace detail

/// Reads an IDX label file (magic 0x00000801); every label must lie in [0, num_classes).
/// `expect`: count (e.g. the number of images) and max_bytes; rows and cols must be 0.
inline LabelVector read_idx_labels(const std::string& path, int num_classes = 10, const IdxExpect& expect = {}) {
    if (num_classes < 1)
        throw InvalidParameter(
            logreg::detail::cat("read_idx_labels: num_classes is ", num_classes, "; it must be >= 1"));
    detail::check_label_expect("read_idx_labels", expect);
    std::vector<std::uint8_t> bytes;
    detail::read_idx_into(path, detail::IdxKind::labels, 0x08, expect, bytes);
    LabelVector labels(static_cast<Index>(bytes.size()));
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] >= num_classes)
            throw FormatError(logreg::detail::cat(path, ": label ", int{bytes[i]}, " at index ", i, " is outside [0, ",
                                                  num_classes, ")"));
        labels[static_cast<Index>(i)] = bytes[i];
    }
    return labels;
}

// ---- Row ranges: each process of a distributed run reads only its own slice ----

/// What the header of an IDX image or label file says (nothing else is read).
struct IdxInfo {
    Index count = 0;      ///< images or labels in the file (the first dimension)
    Index row_bytes = 0;  ///< bytes per image (rows x cols) or 1 per label
    std::uint64_t header_bytes = 0;
    bool gzip = false;
};

namespace detail {

inline IdxInfo read_idx_info(ByteSource& src, const std::string& path, IdxKind kind, const IdxExpect& expect) {
    const IdxHeader h = read_idx_header(src, path, kind, 0x08, expect);
    IdxInfo info;
    info.count = static_cast<Index>(h.dims[0]);
    info.row_bytes = kind == IdxKind::images ? static_cast<Index>(std::uint64_t{h.dims[1]} * h.dims[2]) : 1;
    info.header_bytes = h.header_bytes;
    info.gzip = src.gzip();
    return info;
}

/// Reads rows [begin, begin + count) of a validated IDX file into `out` (count * row_bytes bytes).
/// Raw files: one seek to header + begin * row_bytes. Gzip streams cannot be indexed: the rows
/// before `begin` are decompressed into a small buffer and dropped.
inline IdxInfo read_idx_rows(const std::string& path, IdxKind kind, Index begin, Index count, const IdxExpect& expect,
                             std::vector<std::uint8_t>& out) {
    ByteSource src(path);
    const IdxInfo info = read_idx_info(src, path, kind, expect);  // checks the file size against the header
    if (begin < 0 || count < 0 || begin > info.count || count > info.count - begin)
        throw InvalidParameter(
            cat(path, ": rows [", begin, ", ", begin + count, ") are outside the file's [0, ", info.count, ")"));
    const auto row = static_cast<std::uint64_t>(info.row_bytes);
    out.resize(static_cast<std::size_t>(static_cast<std::uint64_t>(count) * row));
    std::size_t got = 0;
    if (!info.gzip) {
        got = src.read_raw_at(info.header_bytes + static_cast<std::uint64_t>(begin) * row, out.data(), out.size());
    } else {
        std::vector<std::uint8_t> skip(std::size_t{1} << 16);
        std::uint64_t left = static_cast<std::uint64_t>(begin) * row;
        while (left > 0) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, skip.size()));
            const std::size_t n = src.read(skip.data(), want);
            if (n < want) break;
            left -= n;
        }
        if (left == 0) got = src.read(out.data(), out.size());
    }
    if (got < out.size())
        throw FormatError(cat(path, ": rows [", begin, ", ", begin + count, ") could not be read in full: the ",
                              info.gzip ? "decompressed data" : "file", " is truncated"));
    return info;
}

}  // namespace detail

/// The header of an IDX image file (magic 0x00000803): image count and bytes per image, checked
/// against `expect` and against the file size (raw) or the gzip ratio bound.
inline IdxInfo read_idx_images_info(const std::string& path, const IdxExpect& expect = {}) {
    detail::ByteSource src(path);
    return detail::read_idx_info(src, path, detail::IdxKind::images, expect);
}

/// The header of an IDX label file (magic 0x00000801): the label count, checked as read_idx_images_info does.
inline IdxInfo read_idx_labels_info(const std::string& path, const IdxExpect& expect = {}) {
    detail::check_label_expect("read_idx_labels_info", expect);
    detail::ByteSource src(path);
    return detail::read_idx_info(src, path, detail::IdxKind::labels, expect);
}

/// Images [begin, begin + count) of an IDX image file as a count x (rows*cols) matrix; `expect`
/// applies to the whole file's header. Only a raw (uncompressed) file is truly read by offset; a
/// gzip file is decompressed up to the slice.
inline RowMatrix<std::uint8_t> read_idx_image_rows(const std::string& path, Index begin, Index count,
                                                   const IdxExpect& expect = {}) {
    std::vector<std::uint8_t> bytes;
    const IdxInfo info = detail::read_idx_rows(path, detail::IdxKind::images, begin, count, expect, bytes);
    return Eigen::Map<const RowMatrix<std::uint8_t>>(bytes.data(), count, info.row_bytes);
}

/// Labels [begin, begin + count) of an IDX label file; each must lie in [0, num_classes). `expect`
/// applies to the whole file's header (count: the file's label count).
inline LabelVector read_idx_label_rows(const std::string& path, Index begin, Index count, int num_classes = 10,
                                       const IdxExpect& expect = {}) {
    detail::check_label_expect("read_idx_label_rows", expect);
    std::vector<std::uint8_t> bytes;
    detail::read_idx_rows(path, detail::IdxKind::labels, begin, count, expect, bytes);
    LabelVector labels(count);
    for (Index i = 0; i < count; ++i) {
        const std::uint8_t v = bytes[static_cast<std::size_t>(i)];
        if (v >= num_classes)
            throw FormatError(logreg::detail::cat(path, ": label ", int{v}, " at index ", begin + i, " is outside [0, ",
                                                  num_classes, ")"));
        labels[i] = v;
    }
    return labels;
}

}  // namespace logreg::io
