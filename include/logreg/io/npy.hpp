// logreg/io/npy.hpp - NumPy .npy arrays (raw or gzip-compressed) into a Dataset.
//
// Reads what numpy.save writes: format versions 1.0, 2.0 and 3.0, C order, the element types
// uint8..uint64, int8..int64, float32 and float64 in either byte order. Two layouts make a table:
//   - a 2-D feature array and a 1-D label array (np.save("X.npy", X); np.save("y.npy", y)), or
//   - one 2-D array whose label column is named by index (np.hstack([X, y[:, None]])).
// Labels are integers (or floats with integral values, as a stacked float array holds them); they
// become classes as in table.hpp: sorted distinct values, or the classes the caller fixes.
//
// Every file is untrusted. The header is a Python dict literal, parsed by a strict reader of
// exactly the three keys numpy writes ('descr', 'fortran_order', 'shape'), each once, with nothing
// else accepted: no Python expression is evaluated, no structured, object, Fortran-order or
// half-precision array is read. The shape is checked against CsvOptions-like limits and, for a raw
// file, against the file size before anything is allocated; the data is then read in 64 KiB
// pieces straight into the feature matrix. (A hand-written reader, not a library: the format is a
// 10-byte prefix and a one-line dict, and the C++ readers available - cnpy, xtensor's - trust the
// header and evaluate less strictly than this.)
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/byte_source.hpp>
#include <logreg/io/table.hpp>
#include <logreg/types.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace logreg::io {

/// What to accept from .npy files and how to map their labels.
struct NpyOptions {
    /// The classes, in index order, as decimal integers ("0", "7", "-1"); a label outside them is
    /// an error. Empty: the sorted distinct labels of the file.
    std::vector<std::string> classes;
    std::size_t max_classes = 10000;                   ///< most distinct labels when `classes` is empty
    std::uint64_t max_bytes = std::uint64_t{1} << 32;  ///< largest array data accepted: 4 GiB
};

/// The header of an .npy file.
struct NpyHeader {
    std::string descr;                 ///< numpy's type string, e.g. "<f4", "|u1"
    char kind = 0;                     ///< 'u' unsigned, 'i' signed integer, 'f' floating point
    std::size_t item_size = 0;         ///< bytes per element
    bool big_endian = false;           ///< byte order of multi-byte elements
    std::vector<std::uint64_t> shape;  ///< dimensions, outermost first
    std::uint64_t data_offset = 0;     ///< bytes before the data (prefix and header)
    std::uint64_t elements() const {
        std::uint64_t n = 1;
        for (std::uint64_t d : shape) n *= d;  // checked against overflow when read
        return n;
    }
};

namespace detail {

/// A strict reader of the header dict (see the file comment).
class NpyHeaderParser {
public:
    NpyHeaderParser(const std::string& path, std::string_view text) : path_(path), s_(text) {}

    NpyHeader parse() {
        NpyHeader h;
        bool have_descr = false, have_order = false, have_shape = false;
        skip_spaces();
        expect('{');
        for (;;) {
            skip_spaces();
            if (peek() == '}') break;
            const std::string key = string_literal();
            skip_spaces();
            expect(':');
            skip_spaces();
            if (key == "descr") {
                once(have_descr, key);
                if (peek() == '[')
                    fail(
                        "a structured (record) array is not a plain number type; save the features as one "
                        "numeric array");
                h.descr = string_literal();
            } else if (key == "fortran_order") {
                once(have_order, key);
                if (word("True"))
                    fail("the array is in Fortran order; save it in C order (np.ascontiguousarray) first");
                if (!word("False")) fail("'fortran_order' is not True or False");
            } else if (key == "shape") {
                once(have_shape, key);
                h.shape = shape();
            } else {
                fail("unexpected key '" + logreg::detail::excerpt(key) +
                     "' (numpy writes descr, fortran_order, shape)");
            }
            skip_spaces();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_spaces();
            if (peek() != '}') fail(logreg::detail::cat("expected ',' or '}' at byte ", pos_, " of the header"));
        }
        ++pos_;
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n')) ++pos_;
        if (pos_ != s_.size()) fail(logreg::detail::cat("unexpected text after the header dict at byte ", pos_));
        if (!have_descr || !have_order || !have_shape)
            fail(!have_descr   ? "the header has no 'descr'"
                 : !have_order ? "the header has no 'fortran_order'"
                               : "the header has no 'shape'");
        element_type(h);
        return h;
    }

    [[noreturn]] void fail(const std::string& what) const { throw FormatError("NumPy file '" + path_ + "': " + what); }

private:
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void skip_spaces() {
        while (pos_ < s_.size() && s_[pos_] == ' ') ++pos_;
    }
    void expect(char c) {
        if (peek() != c) fail(logreg::detail::cat("expected '", c, "' at byte ", pos_, " of the header"));
        ++pos_;
    }
    bool word(std::string_view w) {
        if (s_.substr(pos_, w.size()) != w) return false;
        pos_ += w.size();
        return true;
    }
    void once(bool& seen, const std::string& key) {
        if (seen) fail("the header names '" + key + "' twice");
        seen = true;
    }

    std::string string_literal() {
        const char q = peek();
        if (q != '\'' && q != '"')
            fail(logreg::detail::cat("expected a quoted string at byte ", pos_, " of the header"));
        const std::size_t start = ++pos_;
        while (pos_ < s_.size() && s_[pos_] != q) {
            if (s_[pos_] == '\\' || static_cast<unsigned char>(s_[pos_]) < 0x20)
                fail(logreg::detail::cat("an escape or control byte inside a string at byte ", pos_, " of the header"));
            if (pos_ - start > 64) fail("a string longer than 64 bytes in the header");
            ++pos_;
        }
        if (pos_ == s_.size()) fail("a string in the header is not closed");
        return std::string(s_.substr(start, pos_++ - start));
    }

    std::vector<std::uint64_t> shape() {
        expect('(');
        std::vector<std::uint64_t> dims;
        for (;;) {
            skip_spaces();
            if (peek() == ')') break;
            if (dims.size() == 32) fail("the shape has more than 32 dimensions");
            std::uint64_t v = 0;
            const std::size_t start = pos_;
            while (peek() >= '0' && peek() <= '9') {
                const auto digit = static_cast<std::uint64_t>(peek() - '0');
                if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fail("a dimension overflows 64 bits");
                v = v * 10 + digit;
                ++pos_;
            }
            if (pos_ == start) fail(logreg::detail::cat("expected a dimension at byte ", pos_, " of the header"));
            dims.push_back(v);
            skip_spaces();
            if (peek() == ',') {
                ++pos_;
                continue;
            }
            skip_spaces();
            if (peek() != ')') fail(logreg::detail::cat("expected ',' or ')' in the shape at byte ", pos_));
        }
        ++pos_;
        return dims;
    }

    void element_type(NpyHeader& h) const {
        const std::string& d = h.descr;
        const std::string shown = "'" + logreg::detail::excerpt(d) + "'";
        if (d.size() < 3 || (d[0] != '<' && d[0] != '>' && d[0] != '|' && d[0] != '='))
            fail("element type " + shown + " is not a plain number type (structured and object arrays are not read)");
        h.kind = d[1];
        const std::string size = d.substr(2);
        h.item_size = size == "1" ? 1 : size == "2" ? 2 : size == "4" ? 4 : size == "8" ? 8 : 0;
        const bool integer = (h.kind == 'u' || h.kind == 'i') && h.item_size != 0;
        const bool real = h.kind == 'f' && (h.item_size == 4 || h.item_size == 8);
        if (!integer && !real)
            fail("element type " + shown +
                 " is not read; use uint8..uint64, int8..int64, float32 or float64 (e.g. X.astype(np.float32))");
        if (d[0] == '|' && h.item_size != 1) fail("element type " + shown + " has no byte order");
        h.big_endian = d[0] == '>';  // '=' is the writer's native order: numpy writes '<' or '>' instead
    }

    const std::string& path_;
    std::string_view s_;
    std::size_t pos_ = 0;
};

/// An element of any supported type, read from its bytes.
struct NpyValue {
    char kind;
    std::int64_t i;
    std::uint64_t u;
    double f;
    double as_double() const { return kind == 'f' ? f : kind == 'i' ? static_cast<double>(i) : static_cast<double>(u); }
};

inline NpyValue npy_value(const NpyHeader& h, const std::uint8_t* p) {
    std::uint8_t b[8];
    for (std::size_t k = 0; k < h.item_size; ++k) b[k] = p[h.big_endian ? h.item_size - 1 - k : k];
    std::uint64_t bits = 0;
    for (std::size_t k = 0; k < h.item_size; ++k) bits |= static_cast<std::uint64_t>(b[k]) << (8 * k);
    NpyValue v{h.kind, 0, 0, 0.0};
    if (h.kind == 'u') {
        v.u = bits;
    } else if (h.kind == 'i') {
        const unsigned shift = static_cast<unsigned>(64 - 8 * h.item_size);  // sign-extend
        v.i = static_cast<std::int64_t>(bits << shift) >> shift;
    } else if (h.item_size == 4) {
        float x;
        const auto low = static_cast<std::uint32_t>(bits);
        std::memcpy(&x, &low, 4);
        v.f = x;
    } else {
        std::memcpy(&v.f, &bits, 8);
    }
    return v;
}

/// An open .npy file: its validated header, then its elements in order.
class NpyReader {
public:
    NpyReader(const std::string& path, std::uint64_t max_bytes) : path_(path), src_(path) {
        std::uint8_t prefix[12];
        const std::size_t got = src_.read(prefix, 10);
        if (got < 10 || std::memcmp(prefix, "\x93NUMPY", 6) != 0)
            throw FormatError(
                "NumPy file '" + path +
                "': " + (got < 6 ? std::string("too short for a .npy file") : "not a .npy file (no \\x93NUMPY magic)"));
        const int major = prefix[6], minor = prefix[7];
        if ((major != 1 && major != 2 && major != 3) || minor != 0)
            throw FormatError(logreg::detail::cat("NumPy file '", path, "': format version ", major, ".", minor,
                                                  " is not read (1.0, 2.0 and 3.0 are)"));
        std::uint64_t header_len = prefix[8] | (std::uint64_t{prefix[9]} << 8);
        std::uint64_t prefix_len = 10;
        if (major >= 2) {
            if (src_.read(prefix + 10, 2) < 2) throw FormatError("NumPy file '" + path + "': truncated header");
            header_len |= (std::uint64_t{prefix[10]} << 16) | (std::uint64_t{prefix[11]} << 24);
            prefix_len = 12;
        }
        if (header_len > 65536)
            throw FormatError(logreg::detail::cat("NumPy file '", path, "': a header of ", header_len,
                                                  " bytes (more than 64 KiB: not an array numpy writes)"));
        std::string text(static_cast<std::size_t>(header_len), '\0');
        if (src_.read(reinterpret_cast<std::uint8_t*>(text.data()), text.size()) < text.size())
            throw FormatError("NumPy file '" + path + "': truncated header");
        if (text.empty() || text.back() != '\n')
            throw FormatError("NumPy file '" + path + "': the header does not end with a line feed");
        header_ = NpyHeaderParser(path, text).parse();
        header_.data_offset = prefix_len + header_len;

        std::uint64_t n = 1;
        for (std::uint64_t d : header_.shape) {
            if (d == 0) throw FormatError("NumPy file '" + path + "': the array is empty (shape " + shape_text() + ")");
            if (n > std::numeric_limits<std::uint64_t>::max() / d)
                throw FormatError("NumPy file '" + path + "': the shape " + shape_text() + " overflows 64 bits");
            n *= d;
        }
        if (n > max_bytes / header_.item_size)
            throw FormatError(logreg::detail::cat("NumPy file '", path, "': the shape ", shape_text(), " of ",
                                                  header_.descr, " holds more than ", max_bytes,
                                                  " bytes (the limit, max_bytes)"));
        bytes_ = n * header_.item_size;
        if (!src_.gzip() && src_.file_size() != header_.data_offset + bytes_)
            throw FormatError(logreg::detail::cat(
                "NumPy file '", path, "': the header promises ", bytes_, " bytes of data (shape ", shape_text(), ", ",
                header_.descr, ") but the file holds ",
                src_.file_size() - std::min(src_.file_size(), header_.data_offset),
                src_.file_size() < header_.data_offset + bytes_ ? " (it is truncated)" : " (trailing data)"));
        if (src_.gzip() && bytes_ / 1100 > src_.file_size())
            throw FormatError(logreg::detail::cat("NumPy file '", path, "': the header promises ", bytes_,
                                                  " bytes, more than its ", src_.file_size(),
                                                  " compressed bytes can hold"));
    }

    const NpyHeader& header() const { return header_; }
    const std::string& path() const { return path_; }

    std::string shape_text() const {
        std::string s = "(";
        for (std::size_t k = 0; k < header_.shape.size(); ++k) s += (k ? ", " : "") + std::to_string(header_.shape[k]);
        return s + (header_.shape.size() == 1 ? ",)" : ")");
    }

    /// Calls f(index, value) for every element in order, then checks that the data ends there.
    template <typename F>
    void for_each(F&& f) {
        const std::size_t item = header_.item_size;
        std::vector<std::uint8_t> buf((std::size_t{1} << 16) / item * item);
        std::uint64_t index = 0, left = bytes_;
        while (left > 0) {
            const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
            if (src_.read(buf.data(), want) < want)
                throw FormatError(logreg::detail::cat("NumPy file '", path_, "': the data is truncated after ",
                                                      bytes_ - left, " of ", bytes_, " bytes"));
            for (std::size_t k = 0; k < want; k += item) f(index++, npy_value(header_, buf.data() + k));
            left -= want;
        }
        std::uint8_t extra;
        if (src_.read(&extra, 1) != 0)
            throw FormatError("NumPy file '" + path_ + "': trailing data after the array's " + std::to_string(bytes_) +
                              " bytes");
    }

private:
    std::string path_;
    ByteSource src_;
    NpyHeader header_;
    std::uint64_t bytes_ = 0;
};

/// The text of an integral label value ("3", "-1"); none for a fraction or a non-finite value.
inline std::optional<std::string> npy_label_text(const NpyValue& v) {
    if (v.kind == 'u') return std::to_string(v.u);
    if (v.kind == 'i') return std::to_string(v.i);
    if (!std::isfinite(v.f) || v.f != std::floor(v.f) || std::fabs(v.f) > 9007199254740992.0) return std::nullopt;
    return std::to_string(static_cast<std::int64_t>(v.f));
}

template <typename Feature>
Feature npy_feature(const NpyReader& r, const NpyValue& v, std::uint64_t row, std::uint64_t col) {
    const double x = v.as_double();
    const auto f = static_cast<Feature>(x);
    if (!std::isfinite(x) || !std::isfinite(f))
        throw FormatError(logreg::detail::cat("NumPy file '", r.path(), "': element [", row, ", ", col, "] is ", x,
                                              std::isfinite(x) ? " (out of range for float)" : "",
                                              "; features must be finite"));
    return f;
}

/// The matrix of Feature that the array becomes must fit in max_bytes too: a uint8 array of a
/// gzip file could otherwise allocate 4 or 8 times the limit before a byte of it is read.
template <typename Feature>
void check_matrix_bytes(const NpyReader& r, std::uint64_t max_bytes) {
    if (r.header().elements() > max_bytes / sizeof(Feature))
        throw FormatError(logreg::detail::cat("NumPy file '", r.path(), "': the shape ", r.shape_text(), " as ",
                                              sizeof(Feature) == 4 ? "float" : "double", " needs more than ", max_bytes,
                                              " bytes (the limit, max_bytes)"));
}

inline ClassMapper npy_classes(const std::string& path, const NpyOptions& options) {
    try {
        return ClassMapper(options.classes, options.max_classes);
    } catch (const InvalidParameter& e) {
        throw InvalidParameter("read_npy '" + path + "': NpyOptions::classes: " + e.what());
    }
}

inline void npy_label(ClassMapper& classes, const NpyReader& r, const NpyValue& v, std::uint64_t row) {
    const std::optional<std::string> text = npy_label_text(v);
    if (!text)
        throw FormatError(logreg::detail::cat("NumPy file '", r.path(), "': label ", v.as_double(), " of row ", row,
                                              " is not an integer"));
    if (const std::optional<std::string> wrong = classes.add(*text))
        throw FormatError(logreg::detail::cat("NumPy file '", r.path(), "': row ", row, ": ", *wrong));
}

}  // namespace detail

/// A 2-D .npy array as a row-major matrix of Feature (float or double; integers convert exactly
/// up to 2^24 for float). Throws FormatError naming the file for anything else.
template <typename Feature = float>
RowMatrix<Feature> read_npy_matrix(const std::string& path, std::uint64_t max_bytes = std::uint64_t{1} << 32) {
    static_assert(std::is_floating_point_v<Feature>, "logreg::io::read_npy_matrix: Feature must be float or double");
    detail::NpyReader r(path, max_bytes);
    if (r.header().shape.size() != 2)
        throw FormatError("NumPy file '" + path + "': a feature array must be 2-D (rows, features); its shape is " +
                          r.shape_text());
    detail::check_matrix_bytes<Feature>(r, max_bytes);
    const auto rows = static_cast<Index>(r.header().shape[0]), cols = static_cast<Index>(r.header().shape[1]);
    RowMatrix<Feature> x(rows, cols);
    Feature* out = x.data();
    r.for_each([&](std::uint64_t i, const detail::NpyValue& v) {
        out[i] = detail::npy_feature<Feature>(r, v, i / static_cast<std::uint64_t>(cols),
                                              i % static_cast<std::uint64_t>(cols));
    });
    return x;
}

/// Features from one .npy file (2-D) and labels from another (1-D, or 2-D with one column).
template <typename Feature = float>
Table<Feature> read_npy(const std::string& features_path, const std::string& labels_path,
                        const NpyOptions& options = {}) {
    detail::ClassMapper classes = detail::npy_classes(labels_path, options);
    RowMatrix<Feature> x = read_npy_matrix<Feature>(features_path, options.max_bytes);
    detail::NpyReader r(labels_path, options.max_bytes);
    const std::vector<std::uint64_t>& s = r.header().shape;
    if (!(s.size() == 1 || (s.size() == 2 && s[1] == 1)))
        throw FormatError("NumPy file '" + labels_path + "': a label array must be 1-D (rows,); its shape is " +
                          r.shape_text());
    if (s[0] != static_cast<std::uint64_t>(x.rows()))
        throw ShapeError(logreg::detail::cat("read_npy: '", features_path, "' has ", x.rows(), " rows but '",
                                             labels_path, "' has ", s[0], " labels"));
    r.for_each([&](std::uint64_t i, const detail::NpyValue& v) { detail::npy_label(classes, r, v, i); });
    auto [names, labels] = std::move(classes).finish("NumPy file '" + labels_path + "'");
    const auto k = static_cast<int>(names.size());
    return Table<Feature>{Dataset<Feature>(std::move(x), std::move(labels), k), std::move(names), {}};
}

/// One 2-D .npy array whose column `label_column` (negative: from the end, -1 the last) holds the
/// labels and whose other columns are the features.
template <typename Feature = float>
Table<Feature> read_npy(const std::string& path, int label_column, const NpyOptions& options = {}) {
    static_assert(std::is_floating_point_v<Feature>, "logreg::io::read_npy: Feature must be float or double");
    detail::ClassMapper classes = detail::npy_classes(path, options);
    detail::NpyReader r(path, options.max_bytes);
    const std::vector<std::uint64_t>& s = r.header().shape;
    if (s.size() != 2 || s[1] < 2)
        throw FormatError("NumPy file '" + path +
                          "': a table must be 2-D with a label column and at least one feature column; its shape is " +
                          r.shape_text());
    const auto cols = static_cast<std::int64_t>(s[1]);
    if (label_column >= cols || label_column < -cols)
        throw InvalidParameter(logreg::detail::cat("read_npy '", path, "': the label column index ", label_column,
                                                   " is outside the ", cols, " columns"));
    const auto label = static_cast<std::uint64_t>(label_column < 0 ? cols + label_column : label_column);
    detail::check_matrix_bytes<Feature>(r, options.max_bytes);
    RowMatrix<Feature> x(static_cast<Index>(s[0]), static_cast<Index>(cols - 1));
    Feature* out = x.data();
    r.for_each([&](std::uint64_t i, const detail::NpyValue& v) {
        const std::uint64_t row = i / s[1], col = i % s[1];
        if (col == label)
            detail::npy_label(classes, r, v, row);
        else
            *out++ = detail::npy_feature<Feature>(r, v, row, col);
    });
    auto [names, labels] =
        std::move(classes).finish(logreg::detail::cat("NumPy file '", path, "': the label column ", label));
    const auto k = static_cast<int>(names.size());
    return Table<Feature>{Dataset<Feature>(std::move(x), std::move(labels), k), std::move(names), {}};
}

}  // namespace logreg::io
