// logreg/io/safetensors.hpp - tensors and models in the safetensors format.
//
// A safetensors file is
//   8 bytes   N, little-endian u64
//   N bytes   a JSON object (UTF-8, may be padded with spaces):
//               "<name>": {"dtype": "F32", "shape": [r, c], "data_offsets": [begin, end]}, ...
//               "__metadata__": {"<key>": "<string value>", ...}   (optional)
//   the rest  the byte buffer; offsets are relative to its start, tensors tile it exactly,
//             values are little-endian in C (row-major) order.
// It holds no code, so loading a model never runs anything, and numpy, PyTorch and
// the `safetensors` Python package read it directly.
//
// The low-level part (SafetensorsFile, SafetensorsWriter) handles any tensors; the model
// part (save_model, load_model) stores a LinearSoftmax with its Preprocessor.
//
// Reading checks the whole header, against the file's size, before the data buffer is read or
// allocated: the header length (at most safetensors_max_header_bytes), a JSON structure no deeper
// than the format's (read as SAX events, never as a JSON tree), dtypes, shapes, offsets, tiling
// of the buffer, duplicate JSON keys at every level. A bad file raises FormatError with the path
// and the problem; names and values quoted from the file are cut to 64 characters, control bytes
// escaped. Writing is atomic (see atomic_file.hpp).
#pragma once

#if defined(__has_include)
#if !__has_include(<nlohmann/json.hpp>)
#error "logreg/io/safetensors.hpp needs nlohmann_json (Debian: nlohmann-json3-dev); link the logreg::io target"
#endif
#endif

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/atomic_file.hpp>
#include <logreg/io/detail/input_file.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/pipeline.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/types.hpp>
#include <logreg/version.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <locale>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace logreg::io {

/// Largest JSON header read, and written (SafetensorsWriter refuses to write a file it could not read back).
///
/// 16 MiB, not the reference implementation's 100 MB: a header is parsed and validated entirely
/// before a byte of data is read, so this cap bounds what a hostile file can cost before it is
/// refused: time linear in the header, and memory for its entries of up to about 10x the header
/// (15 MB of one-letter metadata entries: 1.1 million of them, 0.7 s and 140 MB). What
/// logreg writes is far smaller: a model's header is about 1 KB plus its class names (a JSON list:
/// 100,000 names of 20 characters take 2.5 MB, escaped); a checkpoint adds the RNG state (about 6.3 KB of
/// text), the caller's extras (mnist_train's options, under 1 KB) and about 80 bytes per optimizer
/// tensor: L-BFGS keeps 4 per curvature pair, so mnist_train's L-BFGS checkpoint at memory 10 has 42
/// entries and a 10 KB header, and at the largest memory the solver accepts, 1,000, about 4,000
/// entries and 330 KB.
inline constexpr std::uint64_t safetensors_max_header_bytes = std::uint64_t{16} << 20;

/// Size in bytes of one element of a safetensors dtype ("F32" -> 4), or 0 if the dtype is unknown.
inline std::size_t dtype_size(const std::string& dtype) {
    static const std::map<std::string, std::size_t> sizes = {
        {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2},
        {"BF16", 2}, {"I32", 4}, {"U32", 4}, {"F32", 4},     {"F64", 8},     {"I64", 8}, {"U64", 8}};
    const auto it = sizes.find(dtype);
    return it == sizes.end() ? 0 : it->second;
}

/// The dtype that stores values of type T: float -> "F32", double -> "F64", std::int32_t -> "I32", ...
template <typename T>
std::string dtype_of() {
    static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>,
                  "logreg::io::dtype_of: T must be float, double or a fixed-size integer type");
    if constexpr (std::is_floating_point_v<T>) {
        static_assert(sizeof(T) == 4 || sizeof(T) == 8,
                      "logreg::io: safetensors stores 32- and 64-bit floats only; convert long double to double");
        return sizeof(T) == 4 ? "F32" : "F64";
    } else {
        return std::string(std::is_signed_v<T> ? "I" : "U") + std::to_string(8 * sizeof(T));
    }
}

/// Where a tensor lives in a safetensors file and what it holds.
struct TensorInfo {
    std::string dtype;                ///< "F32", "F64", "I64", ... (see dtype_size)
    std::vector<std::int64_t> shape;  ///< C order; empty for a scalar
    std::size_t begin = 0;            ///< first byte, relative to the start of the data buffer
    std::size_t end = 0;              ///< one past the last byte

    /// Product of the shape (1 for a scalar).
    std::size_t num_elements() const {
        std::size_t n = 1;
        for (const std::int64_t d : shape) n *= static_cast<std::size_t>(d);
        return n;
    }
};

namespace detail {

/// Reads an unsigned little-endian integer, whatever the host's byte order.
template <typename U>
U load_le(const unsigned char* p) {
    U v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v = static_cast<U>(v | static_cast<U>(static_cast<U>(p[i]) << (8 * i)));
    return v;
}

template <typename U>
void store_le(U v, unsigned char* p) {
    for (std::size_t i = 0; i < sizeof(U); ++i) p[i] = static_cast<unsigned char>((v >> (8 * i)) & 0xFFu);
}

template <std::size_t Bytes>
struct UnsignedOfSize;
template <>
struct UnsignedOfSize<1> {
    using type = std::uint8_t;
};
template <>
struct UnsignedOfSize<2> {
    using type = std::uint16_t;
};
template <>
struct UnsignedOfSize<4> {
    using type = std::uint32_t;
};
template <>
struct UnsignedOfSize<8> {
    using type = std::uint64_t;
};

/// One stored element of type Stored at `p`, as an Out.
template <typename Stored, typename Out>
Out load_element(const unsigned char* p) {
    using U = typename UnsignedOfSize<sizeof(Stored)>::type;
    const U bits = load_le<U>(p);
    Stored v;
    std::memcpy(&v, &bits, sizeof v);
    return static_cast<Out>(v);
}

template <typename T>
void store_element(T v, unsigned char* p) {
    using U = typename UnsignedOfSize<sizeof(T)>::type;
    U bits;
    std::memcpy(&bits, &v, sizeof v);
    store_le(bits, p);
}

/// a * b, or false when it does not fit in std::size_t.
inline bool checked_mul(std::size_t a, std::size_t b, std::size_t& out) {
    if (a != 0 && b > std::numeric_limits<std::size_t>::max() / a) return false;
    out = a * b;
    return true;
}

/// Locale-independent shortest-safe text for a double: 17 significant digits read back exactly.
inline std::string format_double(double v) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(17);
    out << v;
    return out.str();
}

/// Parses all of `s` as a double (locale-independent); false on junk or trailing text.
inline bool parse_double(const std::string& s, double& v) {
    std::istringstream in(s);
    in.imbue(std::locale::classic());
    in >> v;
    return !s.empty() && !in.fail() && in.peek() == std::char_traits<char>::eof();
}

/// Parses all of `s` as a non-negative decimal integer; false on anything else.
inline bool parse_count(const std::string& s, std::int64_t& v) {
    if (s.empty() || s.size() > 18) return false;
    v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + (c - '0');
    }
    return true;
}

/// A shape for a message: "[2, 3]"; past 8 dimensions "[1, 1, ..., 1, ... (1000 dimensions)]".
inline std::string shape_text(const std::vector<std::int64_t>& shape) {
    constexpr std::size_t shown = 8;  // a hostile header may hold millions of dimensions
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size() && i < shown; ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    if (shape.size() > shown) s += ", ... (" + std::to_string(shape.size()) + " dimensions)";
    return s + "]";
}

using logreg::detail::excerpt;

/// A pointer into the header text that records how far the JSON parser has read, so that an
/// error can name its byte offset (nlohmann's SAX events carry no position).
class TrackingIterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    TrackingIterator(const char* p, const char** read_up_to) : p_(p), read_up_to_(read_up_to) {}
    reference operator*() const { return *p_; }
    TrackingIterator& operator++() {
        *read_up_to_ = ++p_;
        return *this;
    }
    TrackingIterator operator++(int) {
        TrackingIterator old = *this;
        ++*this;
        return old;
    }
    bool operator==(const TrackingIterator& o) const { return p_ == o.p_; }
    bool operator!=(const TrackingIterator& o) const { return p_ != o.p_; }

private:
    const char* p_;
    const char** read_up_to_;
};

/// Reads a safetensors header as nlohmann_json SAX events, without building a JSON tree, into
/// tensor entries and metadata. It accepts exactly the structure of the format:
///   depth 1  an object of entries;
///   depth 2  "__metadata__": an object of strings, or a tensor: an object with "dtype" (a string),
///            "shape" and "data_offsets"; other fields of a tensor are ignored when they are scalars
///            (as the reference implementation ignores them), refused when they are arrays or objects;
///   depth 3  "shape": non-negative integers, "data_offsets": exactly two of them.
/// Anything else is refused at the event that shows it, so no input is held deeper than depth 3,
/// nothing is serialized back into a message, and the work is linear in the header's size
/// (nlohmann's own parser keeps its nesting on a heap stack, not in recursion). Duplicate keys are
/// refused at every level. After a refusal (a handler returned false), problem() says why.
class HeaderReader {
public:
    using json = nlohmann::json;

    /// `buffer_size`: bytes of the data buffer (what the file holds after the header);
    /// `begin`: the header text, `read_up_to`: where the TrackingIterator has read to.
    HeaderReader(std::uint64_t buffer_size, const char* begin, const char* const* read_up_to)
        : buffer_size_(buffer_size), begin_(begin), read_up_to_(read_up_to) {}

    const std::string& problem() const { return problem_; }
    std::map<std::string, TensorInfo>& tensors() { return tensors_; }
    std::map<std::string, std::string>& metadata() { return metadata_; }

    // ---- nlohmann::json::sax_parse's interface; false stops the parse ----
    bool null() { return scalar("null", "null", nullptr, nullptr); }
    bool boolean(bool v) { return scalar("boolean", v ? "true" : "false", nullptr, nullptr); }
    bool number_integer(json::number_integer_t v) { return scalar("number", std::to_string(v), nullptr, nullptr); }
    bool number_unsigned(json::number_unsigned_t v) {
        const std::uint64_t n = v;
        return scalar("number", std::to_string(v), &n, nullptr);
    }
    bool number_float(json::number_float_t, const json::string_t& text) {
        return scalar("number", excerpt(text, 32), nullptr, nullptr);
    }
    bool string(json::string_t& s) { return scalar("string", "a string", nullptr, &s); }
    bool binary(json::binary_t&) { return fail("the header holds binary data"); }  // never from JSON text

    bool start_object(std::size_t) {
        switch (in_) {
            case In::start:
                in_ = In::root;
                return true;
            case In::root:
                if (key_ == "__metadata__") {
                    in_ = In::metadata;
                } else {
                    name_ = std::move(key_);
                    tensor_ = TensorInfo();
                    offsets_.clear();
                    fields_ = 0;
                    other_fields_.clear();
                    in_ = In::tensor;
                }
                return true;
            case In::metadata:
                return fail("metadata '" + excerpt(key_) + "' is object, not a string");
            case In::tensor:
                return structure_in_tensor("an object");
            case In::shape:
            case In::offsets:
                return nested_too_deep();
            case In::end:
                break;
        }
        return fail("the header has more than one JSON value");  // unreachable: the parser stops first
    }

    bool end_object() {
        switch (in_) {
            case In::root:
                in_ = In::end;
                return true;
            case In::metadata:
                in_ = In::root;
                return true;
            case In::tensor:
                in_ = In::root;
                return finish_tensor();
            default:
                return fail("the header's JSON is unbalanced");  // unreachable: the parser checks balance
        }
    }

    bool start_array(std::size_t) {
        switch (in_) {
            case In::start:
                return fail("the header is not a JSON object");
            case In::root:
                return entry_is("array");
            case In::metadata:
                return fail("metadata '" + excerpt(key_) + "' is array, not a string");
            case In::tensor:
                if (field_ == Field::shape) {
                    in_ = In::shape;
                    return true;
                }
                if (field_ == Field::data_offsets) {
                    in_ = In::offsets;
                    return true;
                }
                return structure_in_tensor("an array");
            case In::shape:
            case In::offsets:
                return nested_too_deep();
            case In::end:
                break;
        }
        return fail("the header has more than one JSON value");  // unreachable: the parser stops first
    }

    bool end_array() {
        if (in_ == In::offsets && offsets_.size() != 2) return offsets_refused("");
        if (in_ != In::shape && in_ != In::offsets) return fail("the header's JSON is unbalanced");  // unreachable
        in_ = In::tensor;
        return true;
    }

    bool key(json::string_t& k) {
        const bool duplicate = [&] {
            switch (in_) {
                case In::root:
                    return tensors_.count(k) != 0 || (k == "__metadata__" && seen_metadata_);
                case In::metadata:
                    return metadata_.count(k) != 0;
                case In::tensor: {
                    field_ = k == "dtype"          ? Field::dtype
                             : k == "shape"        ? Field::shape
                             : k == "data_offsets" ? Field::data_offsets
                                                   : Field::other;
                    if (field_ == Field::other) return !other_fields_.insert(k).second;
                    const unsigned bit = 1u << static_cast<unsigned>(field_);
                    const bool seen = (fields_ & bit) != 0;
                    fields_ |= bit;
                    return seen;
                }
                default:
                    return false;  // keys only arrive in objects
            }
        }();
        if (duplicate)
            return fail("the header has the key '" + excerpt(k) + "' more than once (the second ends at byte " +
                        std::to_string(offset()) + " of the header)");
        if (in_ == In::root && k == "__metadata__") seen_metadata_ = true;
        if (in_ == In::tensor)
            field_name_ = k;
        else
            key_ = std::move(k);
        return true;
    }

    bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
        // nlohmann's message quotes the last token, which may be megabytes long: cut it short.
        return fail("the header is not valid JSON at byte " + std::to_string(position > 0 ? position - 1 : 0) +
                    " of the header: " + excerpt(e.what(), 200));
    }

private:
    enum class In { start, root, metadata, tensor, shape, offsets, end };  // where the parser is
    enum class Field : unsigned { dtype, shape, data_offsets, other };

    bool fail(std::string problem) {
        if (problem_.empty()) problem_ = std::move(problem);
        return false;
    }

    /// Offset in the header of the byte the parser read last.
    std::size_t offset() const {
        const auto read = static_cast<std::size_t>(*read_up_to_ - begin_);
        return read > 0 ? read - 1 : 0;
    }

    std::string tensor_label() const { return "tensor '" + excerpt(name_) + "'"; }

    bool entry_is(const std::string& type) {
        if (key_ == "__metadata__") return fail("__metadata__ is not an object");
        return fail("tensor '" + excerpt(key_) + "' is " + type + ", not an object");
    }

    bool nested_too_deep() {
        return fail("nesting deeper than the format allows at byte " + std::to_string(offset()) +
                    " of the header (in the " + (in_ == In::shape ? "shape" : "data_offsets") + " of " +
                    tensor_label() + ")");
    }

    /// An array or object as the value of a tensor's field.
    bool structure_in_tensor(const std::string& what) {
        switch (field_) {
            case Field::dtype:
                return fail(tensor_label() + ": dtype is not a string");
            case Field::shape:
                return fail(tensor_label() + ": shape is not a list");
            case Field::data_offsets:
                return offsets_refused("");
            case Field::other:
                break;
        }
        // The reference implementation skips such values; logreg never builds or walks them.
        return fail(tensor_label() + ": its unknown field '" + excerpt(field_name_) + "' is " + what +
                    " (unknown fields may only hold strings, numbers, booleans or null)");
    }

    bool offsets_refused(const std::string& element) {
        std::string seen;
        if (in_ == In::offsets) {
            seen = " [";
            for (std::size_t i = 0; i < offsets_.size(); ++i) seen += (i ? ", " : "") + std::to_string(offsets_[i]);
            seen += element.empty() ? "]" : (offsets_.empty() ? "" : ", ") + element + ", ...]";
        }
        return fail(tensor_label() + ": data_offsets" + seen + " is not a pair of non-negative integers");
    }

    /// A scalar value. `count`: set for a non-negative integer; `str`: set for a string.
    bool scalar(const char* type, const std::string& shown, const std::uint64_t* count, std::string* str) {
        switch (in_) {
            case In::start:
                return fail("the header is not a JSON object");
            case In::root:
                return entry_is(type);
            case In::metadata:
                if (!str) return fail("metadata '" + excerpt(key_) + "' is " + type + ", not a string");
                metadata_.emplace(std::move(key_), std::move(*str));
                return true;
            case In::tensor:
                switch (field_) {
                    case Field::dtype:
                        if (!str) return fail(tensor_label() + ": dtype is not a string");
                        tensor_.dtype = std::move(*str);
                        return true;
                    case Field::shape:
                        return fail(tensor_label() + ": shape is not a list");
                    case Field::data_offsets:
                        return offsets_refused("");
                    case Field::other:
                        return true;  // ignored, as the reference implementation does
                }
                break;
            case In::shape:
                if (!count || *count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                    return fail(tensor_label() + ": shape is not a list of non-negative integers (element " +
                                std::to_string(tensor_.shape.size()) + " is " + shown + ")");
                tensor_.shape.push_back(static_cast<std::int64_t>(*count));
                return true;
            case In::offsets:
                if (!count || offsets_.size() == 2) return offsets_refused(shown);
                offsets_.push_back(*count);
                return true;
            case In::end:
                break;
        }
        return fail("the header has more than one JSON value");  // unreachable: the parser stops first
    }

    /// The checks of one tensor entry once its object is complete.
    bool finish_tensor() {
        using logreg::detail::cat;
        const std::string what = tensor_label();
        for (const Field f : {Field::dtype, Field::shape, Field::data_offsets})
            if (!(fields_ & (1u << static_cast<unsigned>(f))))
                return fail(what + " has no '" +
                            (f == Field::dtype   ? "dtype"
                             : f == Field::shape ? "shape"
                                                 : "data_offsets") +
                            "'");
        TensorInfo& t = tensor_;
        const std::size_t elem = dtype_size(t.dtype);
        if (elem == 0) return fail(what + " has the unknown dtype '" + excerpt(t.dtype) + "'");
        std::size_t count = 1;
        bool overflow = false;
        for (const std::int64_t d : t.shape)
            overflow = overflow || !checked_mul(count, static_cast<std::size_t>(d), count);
        std::size_t bytes = 0;
        overflow = overflow || !checked_mul(count, elem, bytes);
        // A zero dimension makes the tensor empty even if the other dimensions overflow.
        if (std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end()) {
            overflow = false;
            bytes = 0;
        }
        const std::uint64_t begin = offsets_[0], end = offsets_[1];
        if (begin > end) return fail(cat(what, ": data_offsets [", begin, ", ", end, "] has begin > end"));
        if (end > buffer_size_)
            return fail(cat(what, ": data_offsets [", begin, ", ", end, "] reach beyond the ", buffer_size_,
                            "-byte data buffer"));
        t.begin = static_cast<std::size_t>(begin);
        t.end = static_cast<std::size_t>(end);
        if (overflow || bytes != t.end - t.begin)
            return fail(cat(what, ": shape ", shape_text(t.shape), " of ", t.dtype, " needs ",
                            overflow ? std::string("more than 2^64") : std::to_string(bytes),
                            " bytes but data_offsets [", begin, ", ", end, "] hold ", end - begin));
        tensors_.emplace(std::move(name_), std::move(t));
        return true;
    }

    std::uint64_t buffer_size_;
    const char* begin_;
    const char* const* read_up_to_;
    In in_ = In::start;
    std::string key_;         // the last key of the root or metadata object
    std::string name_;        // the tensor being read
    std::string field_name_;  // its field being read
    Field field_ = Field::other;
    unsigned fields_ = 0;                 // the known fields seen, one bit per Field
    std::set<std::string> other_fields_;  // the unknown ones (to refuse duplicates)
    TensorInfo tensor_;
    std::vector<std::uint64_t> offsets_;
    bool seen_metadata_ = false;
    std::map<std::string, TensorInfo> tensors_;
    std::map<std::string, std::string> metadata_;
    std::string problem_;
};

}  // namespace detail

/// A safetensors file read into memory and validated: tensor descriptions, metadata and data.
///
/// The constructor reads the 8-byte length and the header first and checks them completely (see
/// the file comment), against the file's size, before it reads (and allocates) the data buffer;
/// it throws FormatError naming the file and the problem. Afterwards every tensor's bytes are
/// known to be in range. Only the data buffer is kept in memory.
class SafetensorsFile {
public:
    /// Reads and validates `path`. IoError if it cannot be read, FormatError if it is malformed.
    explicit SafetensorsFile(const std::string& path) : path_(path) {
        detail::InputFile in(path);  // regular files only: a FIFO or device is refused, never waited on
        const std::uint64_t file_size = in.size();
        if (file_size < 8) throw too_short(file_size);
        unsigned char head[8];
        if (in.read(head, 8) != 8) throw IoError("cannot read '" + path + "'");
        const auto n = detail::load_le<std::uint64_t>(head);
        check_header_length(n, file_size);  // before the header is read: a bogus length costs nothing
        std::string header(static_cast<std::size_t>(n), '\0');
        if (in.read(header.data(), header.size()) != header.size())
            throw IoError(logreg::detail::cat("cannot read '", path, "': reading the ", n, "-byte header failed"));
        const std::uint64_t buffer_size = file_size - 8 - n;
        parse_header(header.data(), header.size(), buffer_size);
        // Only now, with every tensor known to lie in the file and to tile the buffer, is it read.
        header = std::string();
        bytes_.resize(static_cast<std::size_t>(buffer_size));
        if (in.read(bytes_.data(), bytes_.size()) != bytes_.size())
            throw IoError(logreg::detail::cat("cannot read '", path, "': reading the ", buffer_size,
                                              "-byte data buffer failed (did the file change?)"));
    }

    /// Validates a file's bytes already in memory; `name` stands for the path in messages.
    static SafetensorsFile from_bytes(std::vector<unsigned char> bytes, std::string name) {
        SafetensorsFile f;
        f.path_ = std::move(name);
        if (bytes.size() < 8) throw f.too_short(bytes.size());
        const auto n = detail::load_le<std::uint64_t>(bytes.data());
        f.check_header_length(n, bytes.size());
        f.parse_header(reinterpret_cast<const char*>(bytes.data() + 8), static_cast<std::size_t>(n),
                       bytes.size() - 8 - n);
        f.data_start_ = static_cast<std::size_t>(8 + n);
        f.bytes_ = std::move(bytes);
        return f;
    }

    /// The path (or name) the file was read from.
    const std::string& path() const { return path_; }
    /// Every tensor by name (in name order).
    const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
    /// The "__metadata__" entries (empty if the file has none).
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    /// Size of the data buffer in bytes.
    std::size_t data_size() const { return bytes_.size() - data_start_; }

    /// True when the file has a tensor called `name`.
    bool contains(const std::string& name) const { return tensors_.count(name) != 0; }

    /// The tensor called `name`; FormatError if there is none.
    const TensorInfo& info(const std::string& name) const {
        const auto it = tensors_.find(name);
        if (it == tensors_.end()) throw error("it has no tensor '" + detail::excerpt(name) + "'");
        return it->second;
    }

    /// The tensor's raw little-endian bytes (info(name).end - info(name).begin of them).
    const unsigned char* data(const std::string& name) const { return bytes_.data() + data_start_ + info(name).begin; }

    /// Writes the tensor's info(name).num_elements() elements, in C order, to `out`, converted to T
    /// with static_cast (so float data read as an integer T must be in T's range). Works for the
    /// float and integer dtypes; FormatError for the others (F16, BF16, F8_*, BOOL).
    template <typename T>
    void values(const std::string& name, T* out) const {
        static_assert(std::is_arithmetic_v<T>, "SafetensorsFile::values: T must be an arithmetic type");
        const TensorInfo& t = info(name);
        const std::size_t n = t.num_elements();
        const unsigned char* p = data(name);
        auto convert = [&](auto tag) {
            using Stored = decltype(tag);
            for (std::size_t i = 0; i < n; ++i) out[i] = detail::load_element<Stored, T>(p + i * sizeof(Stored));
        };
        if (t.dtype == "F32")
            convert(float{});
        else if (t.dtype == "F64")
            convert(double{});
        else if (t.dtype == "I8")
            convert(std::int8_t{});
        else if (t.dtype == "U8")
            convert(std::uint8_t{});
        else if (t.dtype == "I16")
            convert(std::int16_t{});
        else if (t.dtype == "U16")
            convert(std::uint16_t{});
        else if (t.dtype == "I32")
            convert(std::int32_t{});
        else if (t.dtype == "U32")
            convert(std::uint32_t{});
        else if (t.dtype == "I64")
            convert(std::int64_t{});
        else if (t.dtype == "U64")
            convert(std::uint64_t{});
        else
            throw error("tensor '" + detail::excerpt(name) + "' has dtype " + t.dtype +
                        ", which logreg cannot convert");
    }

    /// The tensor's elements in C order, converted to T (see values(name, out)).
    template <typename T>
    std::vector<T> values(const std::string& name) const {
        static_assert(std::is_arithmetic_v<T>, "SafetensorsFile::values: T must be an arithmetic type");
        check_convertible(name);  // before allocating
        std::vector<T> out(info(name).num_elements());
        values(name, out.data());
        return out;
    }

    /// A 1-D tensor as an Eigen vector of T.
    template <typename T>
    Vector<T> vector(const std::string& name) const {
        const TensorInfo& t = info(name);
        if (t.shape.size() != 1)
            throw error("tensor '" + detail::excerpt(name) + "' has shape " + detail::shape_text(t.shape) +
                        "; expected 1-D");
        check_convertible(name);
        Vector<T> v(static_cast<Index>(t.shape[0]));
        values(name, v.data());
        return v;
    }

    /// A 2-D tensor as a row-major Eigen matrix of T.
    template <typename T>
    RowMatrix<T> matrix(const std::string& name) const {
        const TensorInfo& t = info(name);
        if (t.shape.size() != 2)
            throw error("tensor '" + detail::excerpt(name) + "' has shape " + detail::shape_text(t.shape) +
                        "; expected 2-D");
        check_convertible(name);
        RowMatrix<T> m(static_cast<Index>(t.shape[0]), static_cast<Index>(t.shape[1]));
        values(name, m.data());
        return m;
    }

    /// A FormatError whose message names this file.
    FormatError error(const std::string& problem) const {
        return FormatError("safetensors file '" + path_ + "': " + problem);
    }

private:
    SafetensorsFile() = default;

    FormatError too_short(std::uint64_t size) const {
        return error(logreg::detail::cat("the file is ", size, " bytes long, shorter than the 8-byte header size"));
    }

    void check_header_length(std::uint64_t n, std::uint64_t file_size) const {
        if (n > safetensors_max_header_bytes)
            throw error(logreg::detail::cat("header length ", n, " exceeds the limit of ", safetensors_max_header_bytes,
                                            " bytes"));
        if (n > file_size - 8)
            throw error(logreg::detail::cat("header length ", n, " is larger than the rest of the file (",
                                            file_size - 8, " bytes)"));
    }

    /// FormatError unless values() can convert the tensor's dtype.
    void check_convertible(const std::string& name) const {
        const std::string& d = info(name).dtype;
        if (d != "F32" && d != "F64" && d[0] != 'I' && d[0] != 'U')
            throw error("tensor '" + detail::excerpt(name) + "' has dtype " + d + ", which logreg cannot convert");
    }

    /// Parses and checks the header text; `buffer_size` is the size of the data buffer after it.
    void parse_header(const char* header, std::size_t size, std::uint64_t buffer_size) {
        if (size == 0 || header[0] != '{') throw error("the header is not a JSON object (it must start with '{')");
        const char* read_up_to = header;
        detail::HeaderReader reader(buffer_size, header, &read_up_to);
        const bool ok = nlohmann::json::sax_parse(detail::TrackingIterator(header, &read_up_to),
                                                  detail::TrackingIterator(header + size, &read_up_to), &reader);
        if (!ok) throw error(reader.problem().empty() ? std::string("the header is not valid JSON") : reader.problem());
        tensors_ = std::move(reader.tensors());
        metadata_ = std::move(reader.metadata());
        check_tiling(static_cast<std::size_t>(buffer_size));
    }

    // The format requires the tensors to cover the buffer exactly, without gaps or overlaps:
    // bytes that belong to no tensor could smuggle data past a reader that only follows offsets.
    void check_tiling(std::size_t buffer_size) const {
        std::vector<std::pair<const std::string*, const TensorInfo*>> order;
        order.reserve(tensors_.size());
        for (const auto& [name, t] : tensors_) order.emplace_back(&name, &t);
        std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
            return std::make_pair(a.second->begin, a.second->end) < std::make_pair(b.second->begin, b.second->end);
        });
        std::size_t covered = 0;
        const std::string* previous = nullptr;
        for (const auto& [name, t] : order) {
            if (t->begin < covered)
                throw error(logreg::detail::cat("tensors '", detail::excerpt(*previous), "' and '",
                                                detail::excerpt(*name), "' overlap (bytes [", t->begin, ", ", covered,
                                                ") of the data buffer)"));
            if (t->begin > covered)
                throw error(logreg::detail::cat("bytes [", covered, ", ", t->begin,
                                                ") of the data buffer belong to no tensor"));
            covered = t->end;
            previous = name;
        }
        if (covered != buffer_size)
            throw error(
                logreg::detail::cat("bytes [", covered, ", ", buffer_size, ") of the data buffer belong to no tensor"));
    }

    std::string path_;
    std::vector<unsigned char> bytes_;  // the data buffer, from data_start_ on (from_bytes keeps the whole file)
    std::size_t data_start_ = 0;
    std::map<std::string, TensorInfo> tensors_;
    std::map<std::string, std::string> metadata_;
};

/// Collects named tensors and metadata, then writes them as one safetensors file.
///
/// Tensors are copied when added. In the buffer they are laid out by decreasing element size
/// (then in the order added), so with the 8-byte-aligned header every tensor is aligned to its
/// element size and can be memory-mapped; the header lists them in the order added.
class SafetensorsWriter {
public:
    /// Adds a tensor from raw little-endian bytes; `bytes` must hold exactly shape * dtype_size(dtype).
    void add_raw(const std::string& name, const std::string& dtype, std::vector<std::int64_t> shape,
                 std::vector<unsigned char> bytes) {
        check_name(name);
        const std::size_t elem = dtype_size(dtype);
        if (elem == 0)
            throw InvalidParameter("SafetensorsWriter: tensor '" + name + "' has unknown dtype '" + dtype + "'");
        std::size_t expected = elem;
        for (const std::int64_t d : shape) {
            if (d < 0)
                throw InvalidParameter("SafetensorsWriter: tensor '" + name + "' has negative dimension in shape " +
                                       detail::shape_text(shape));
            if (!detail::checked_mul(expected, static_cast<std::size_t>(d), expected))
                throw InvalidParameter("SafetensorsWriter: tensor '" + name + "' is too large");
        }
        if (bytes.size() != expected)
            throw ShapeError(logreg::detail::cat("SafetensorsWriter: tensor '", name, "' of shape ",
                                                 detail::shape_text(shape), " and dtype ", dtype, " needs ", expected,
                                                 " bytes, got ", bytes.size()));
        entries_.push_back({name, dtype, std::move(shape), std::move(bytes), elem});
    }

    /// Adds `count = product(shape)` values of T, in C order; the dtype follows T (see dtype_of).
    template <typename T>
    void add(const std::string& name, std::vector<std::int64_t> shape, const T* values) {
        std::size_t count = 1;
        for (const std::int64_t d : shape) count *= static_cast<std::size_t>(std::max<std::int64_t>(d, 0));
        std::vector<unsigned char> bytes(count * sizeof(T));
        for (std::size_t i = 0; i < count; ++i) detail::store_element(values[i], bytes.data() + i * sizeof(T));
        add_raw(name, dtype_of<T>(), std::move(shape), std::move(bytes));
    }

    /// Adds an Eigen vector as shape [n], or a matrix as [rows, cols] in row-major order
    /// whatever its storage order.
    template <typename Derived>
    void add(const std::string& name, const Eigen::DenseBase<Derived>& x) {
        using T = typename Derived::Scalar;
        const RowMatrix<T> rows = x.derived();  // C order in one contiguous block
        std::vector<std::int64_t> shape;
        if (Derived::IsVectorAtCompileTime)
            shape = {static_cast<std::int64_t>(rows.size())};
        else
            shape = {static_cast<std::int64_t>(rows.rows()), static_cast<std::int64_t>(rows.cols())};
        add(name, std::move(shape), rows.data());
    }

    /// Sets a "__metadata__" entry (the format allows string values only).
    void set_metadata(const std::string& key, std::string value) { metadata_[key] = std::move(value); }

    /// Writes the file to a stream (binary).
    void write(std::ostream& out) const {
        std::vector<const Entry*> layout;
        for (const Entry& e : entries_) layout.push_back(&e);
        std::stable_sort(layout.begin(), layout.end(),
                         [](const Entry* a, const Entry* b) { return a->element_size > b->element_size; });
        std::map<const Entry*, std::pair<std::size_t, std::size_t>> offsets;
        std::size_t at = 0;
        for (const Entry* e : layout) {
            offsets[e] = {at, at + e->bytes.size()};
            at += e->bytes.size();
        }

        nlohmann::ordered_json header = nlohmann::ordered_json::object();
        if (!metadata_.empty()) header["__metadata__"] = metadata_;
        for (const Entry& e : entries_) {
            const auto [begin, end] = offsets[&e];
            header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {begin, end}}};
        }
        std::string text;
        try {
            text = header.dump();
        } catch (const nlohmann::json::exception& e) {
            throw InvalidParameter(
                std::string("SafetensorsWriter: a tensor name or metadata string is not valid UTF-8: ") + e.what());
        }
        text.append((8 - text.size() % 8) % 8, ' ');     // data buffer starts 8-byte aligned
        if (text.size() > safetensors_max_header_bytes)  // never write a file that no reader here accepts
            throw InvalidParameter(logreg::detail::cat("SafetensorsWriter: the header would be ", text.size(),
                                                       " bytes, more than the ", safetensors_max_header_bytes,
                                                       " that SafetensorsFile reads (too much metadata?)"));

        unsigned char size_bytes[8];
        detail::store_le<std::uint64_t>(text.size(), size_bytes);
        out.write(reinterpret_cast<const char*>(size_bytes), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const Entry* e : layout)
            out.write(reinterpret_cast<const char*>(e->bytes.data()), static_cast<std::streamsize>(e->bytes.size()));
    }

    /// Writes the file to `path` atomically: on failure the previous file stays as it was.
    void save(const std::string& path) const {
        write_file_atomically(path, [this](std::ostream& out) { write(out); });
    }

private:
    struct Entry {
        std::string name;
        std::string dtype;
        std::vector<std::int64_t> shape;
        std::vector<unsigned char> bytes;
        std::size_t element_size;
    };

    void check_name(const std::string& name) const {
        if (name.empty()) throw InvalidParameter("SafetensorsWriter: a tensor name is empty");
        if (name == "__metadata__") throw InvalidParameter("SafetensorsWriter: '__metadata__' is not a tensor name");
        for (const Entry& e : entries_)
            if (e.name == name) throw InvalidParameter("SafetensorsWriter: tensor '" + name + "' added twice");
    }

    std::vector<Entry> entries_;
    std::map<std::string, std::string> metadata_;
};

// ---------------------------------------------------------------------------------------------
// Models

/// The value of the "format" metadata entry of a logreg model file.
inline constexpr const char* model_format = "logreg.linear_softmax";

/// What a model file says about the model besides its numbers.
struct ModelMetadata {
    std::vector<std::string> class_names;      ///< one per class; empty on save means "0", "1", ...
    std::map<std::string, std::string> extra;  ///< user entries (e.g. training settings, accuracy)
};

/// A model read back from a file, with the preprocessing it was trained with.
template <typename Scalar>
struct LoadedModel {
    LinearSoftmax<Scalar> model;        ///< weight and bias
    Preprocessor<Scalar> preprocessor;  ///< maps raw inputs exactly as at training time
    ModelMetadata metadata;             ///< class names and user extras

    /// Preprocessing, model and class names as one unit of prediction.
    Pipeline<Scalar> pipeline() const { return Pipeline<Scalar>(preprocessor, model, metadata.class_names); }
};

namespace detail {

/// Metadata keys written by save_model; all other keys are user extras.
inline const std::set<std::string>& reserved_model_keys() {
    static const std::set<std::string> keys = {"format",      "logreg_version", "normalization", "unit_scale",
                                               "class_names", "num_classes",    "num_features"};
    return keys;
}

inline std::vector<std::string> default_class_names(Index classes) {
    std::vector<std::string> names;
    for (Index c = 0; c < classes; ++c) names.push_back(std::to_string(c));
    return names;
}

/// Reads a JSON list of at most `max` strings (a model's class_names) as SAX events: anything
/// else stops the parse at once, so a hostile string never becomes a JSON tree.
class StringListReader {
public:
    using json = nlohmann::json;
    explicit StringListReader(std::size_t max) : max_(max) {}

    std::vector<std::string>& list() { return list_; }
    /// True when the parse stopped at a JSON syntax error (not at a well-formed value of another kind).
    bool invalid_json() const { return invalid_json_; }

    bool null() { return false; }
    bool boolean(bool) { return false; }
    bool number_integer(json::number_integer_t) { return false; }
    bool number_unsigned(json::number_unsigned_t) { return false; }
    bool number_float(json::number_float_t, const json::string_t&) { return false; }
    bool binary(json::binary_t&) { return false; }
    bool start_object(std::size_t) { return false; }
    bool end_object() { return false; }
    bool key(json::string_t&) { return false; }
    bool string(json::string_t& s) {
        if (!open_ || list_.size() == max_) return false;
        list_.push_back(std::move(s));
        return true;
    }
    bool start_array(std::size_t) { return !open_ && !done_ && (open_ = true); }
    bool end_array() {
        open_ = false;
        done_ = true;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const json::exception&) {
        invalid_json_ = true;
        return false;
    }

private:
    std::size_t max_;
    std::vector<std::string> list_;
    bool open_ = false, done_ = false, invalid_json_ = false;
};

/// A float tensor's f.info(name).num_elements() values converted to Scalar into `out`, checked
/// for dtype and finiteness (the caller checks the shape).
template <typename Scalar>
void model_tensor(const SafetensorsFile& f, const std::string& name, Scalar* out) {
    const TensorInfo& t = f.info(name);
    if (t.dtype != "F32" && t.dtype != "F64")
        throw f.error("tensor '" + excerpt(name) + "' has dtype " + t.dtype + "; a model stores F32 or F64");
    f.values(name, out);
    const std::size_t n = t.num_elements();
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(out[i]))
            throw NumericalError(logreg::detail::cat("safetensors file '", f.path(), "': tensor '", excerpt(name),
                                                     "' has the non-finite value ", out[i], " at element ", i,
                                                     sizeof(Scalar) == 4 && t.dtype == "F64" ? " (as float)" : ""));
}

}  // namespace detail

/// Saves `model` and its preprocessing as a safetensors file, atomically.
///
/// Tensors: `weight` [classes, features] and `bias` [classes] in F32 (float) or F64 (double);
/// with standard normalization also `preprocess.offset` and `preprocess.scale` [features].
/// Metadata (strings): format, logreg_version, normalization, unit_scale (unit only; the factor
/// inputs are multiplied by), class_names (a JSON array), num_classes, num_features, and
/// `meta.extra`. Throws InvalidParameter / ShapeError / NumericalError for a model that cannot
/// be stored faithfully, IoError if writing fails.
template <typename Scalar>
void save_model(const std::string& path, const LinearSoftmax<Scalar>& model, const Preprocessor<Scalar>& pre,
                const ModelMetadata& meta = {}) {
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "logreg::io::save_model: safetensors models are float or double");
    using logreg::detail::cat;
    const Index classes = model.num_classes(), features = model.num_features();
    if (classes < 2 || features < 1)
        throw InvalidParameter(cat("save_model '", path, "': the model has ", classes, " classes and ", features,
                                   " features; it needs >= 2 and >= 1"));
    if (!model.all_finite()) throw NumericalError("save_model '" + path + "': the model has non-finite parameters");
    if (pre.num_features() != features)
        throw ShapeError(cat("save_model '", path, "': the preprocessor has ", pre.num_features(),
                             " features but the model has ", features));
    const std::vector<std::string> names =
        meta.class_names.empty() ? detail::default_class_names(classes) : meta.class_names;
    if (static_cast<Index>(names.size()) != classes)
        throw InvalidParameter(
            cat("save_model '", path, "': ", names.size(), " class names for ", classes, " classes"));
    for (const auto& [key, value] : meta.extra)
        if (detail::reserved_model_keys().count(key))
            throw InvalidParameter("save_model '" + path + "': metadata key '" + key + "' is reserved by logreg");

    SafetensorsWriter w;
    w.add("weight", model.weight());
    w.add("bias", model.bias());
    // Only what the kind can express is stored, so load_model rebuilds the same map; a
    // hand-made Preprocessor that does not fit its kind is refused rather than altered.
    switch (pre.kind()) {
        case Normalization::none:
            if (!(pre.offset().array() == Scalar(0)).all() || !(pre.scale().array() == Scalar(1)).all())
                throw InvalidParameter("save_model '" + path +
                                       "': normalization 'none' with an offset or scale other than 0 and 1");
            break;
        case Normalization::unit:
            if (!(pre.offset().array() == Scalar(0)).all() || !(pre.scale().array() == pre.scale()[0]).all())
                throw InvalidParameter("save_model '" + path +
                                       "': normalization 'unit' needs zero offsets and one common scale");
            w.set_metadata("unit_scale", detail::format_double(static_cast<double>(pre.scale()[0])));
            break;
        case Normalization::standard:
            w.add("preprocess.offset", pre.offset());
            w.add("preprocess.scale", pre.scale());
            break;
    }
    w.set_metadata("format", model_format);
    w.set_metadata("logreg_version", logreg::version);
    w.set_metadata("normalization", to_string(pre.kind()));
    w.set_metadata("class_names", nlohmann::json(names).dump());
    w.set_metadata("num_classes", std::to_string(classes));
    w.set_metadata("num_features", std::to_string(features));
    for (const auto& [key, value] : meta.extra) w.set_metadata(key, value);
    w.save(path);
}

/// Loads a model saved by save_model, converting F32 or F64 tensors to Scalar.
///
/// A file without "format" metadata is accepted when it holds just `weight` and `bias` (e.g. a
/// PyTorch nn.Linear state dict saved with the safetensors package); its preprocessing is the
/// identity. Throws IoError if the file cannot be read, FormatError (naming the file and the
/// problem) if it is not a valid model, NumericalError if a parameter is not finite.
template <typename Scalar>
LoadedModel<Scalar> load_model(const std::string& path) {
    static_assert(std::is_floating_point_v<Scalar>, "logreg::io::load_model: Scalar must be float or double");
    std::optional<SafetensorsFile> file(std::in_place, path);  // released before the preprocessing is built
    const SafetensorsFile& f = *file;
    const auto& md = f.metadata();
    auto meta_value = [&](const std::string& key) -> const std::string* {
        const auto it = md.find(key);
        return it == md.end() ? nullptr : &it->second;
    };

    if (const std::string* format = meta_value("format"); format && *format != model_format)
        throw f.error("format is '" + detail::excerpt(*format) + "'; expected '" + model_format + "'");

    const TensorInfo& w = f.info("weight");
    const TensorInfo& b = f.info("bias");
    if (w.shape.size() != 2)
        throw f.error("tensor 'weight' has shape " + detail::shape_text(w.shape) + "; expected [classes, features]");
    if (b.shape.size() != 1 || b.shape[0] != w.shape[0])
        throw f.error("tensor 'bias' has shape " + detail::shape_text(b.shape) + " but 'weight' has " +
                      detail::shape_text(w.shape) + "; expected [" + std::to_string(w.shape[0]) + "]");
    const auto classes = static_cast<Index>(w.shape[0]), features = static_cast<Index>(w.shape[1]);
    if (classes < 2 || features < 1)
        throw f.error(logreg::detail::cat("tensor 'weight' has shape ", detail::shape_text(w.shape),
                                          "; a model needs >= 2 classes and >= 1 feature"));
    for (const auto& [key, expected] :
         {std::pair<std::string, Index>{"num_classes", classes}, {"num_features", features}}) {
        std::int64_t v = 0;
        if (const std::string* s = meta_value(key); s && (!detail::parse_count(*s, v) || v != expected))
            throw f.error("metadata " + key + " is '" + detail::excerpt(*s) + "' but the tensors say " +
                          std::to_string(expected));
    }
    for (const auto& [name, t] : f.tensors())
        if (name != "weight" && name != "bias" && name != "preprocess.offset" && name != "preprocess.scale")
            throw f.error("unexpected tensor '" + detail::excerpt(name) +
                          "' (a logreg model has weight, bias and preprocess.*)");

    // Converted straight into the model: the file's data buffer and the model are the only copies.
    LinearSoftmax<Scalar> model(features, classes);
    detail::model_tensor(f, "weight", model.weight().data());
    detail::model_tensor(f, "bias", model.bias().data());

    // Preprocessing.
    const std::string* norm_text = meta_value("normalization");
    Normalization norm = Normalization::none;
    if (norm_text) {
        try {
            norm = parse_normalization(*norm_text);
        } catch (const InvalidParameter&) {
            throw f.error("normalization is '" + detail::excerpt(*norm_text) + "'; expected none, unit or standard");
        }
    }
    const bool has_stats = f.contains("preprocess.offset") || f.contains("preprocess.scale");
    if (norm != Normalization::standard && has_stats)
        throw f.error(std::string("it has preprocess.* tensors but normalization is '") + to_string(norm) + "'");
    if (norm != Normalization::unit && meta_value("unit_scale"))
        throw f.error(std::string("it has unit_scale but normalization is '") + to_string(norm) + "'");
    Vector<Scalar> offset, scale;  // standard: from the file; none and unit: set once the file is released
    Scalar unit_scale = 1;
    if (norm == Normalization::unit) {
        const std::string* s = meta_value("unit_scale");
        double v = 0;
        if (!s) throw f.error("normalization is 'unit' but unit_scale is missing");
        if (!detail::parse_double(*s, v) || !std::isfinite(v) || !(v > 0) || !std::isfinite(static_cast<Scalar>(v)) ||
            !(static_cast<Scalar>(v) > 0))
            throw f.error("unit_scale is '" + detail::excerpt(*s) + "'; expected a finite number > 0");
        unit_scale = static_cast<Scalar>(v);
    } else if (norm == Normalization::standard) {
        for (const char* name : {"preprocess.offset", "preprocess.scale"}) {
            const TensorInfo& t = f.info(name);  // FormatError naming the missing tensor
            if (t.shape.size() != 1 || t.shape[0] != w.shape[1])
                throw f.error(std::string("tensor '") + name + "' has shape " + detail::shape_text(t.shape) +
                              "; expected [" + std::to_string(w.shape[1]) + "] (the feature count)");
        }
        offset.resize(features);
        scale.resize(features);
        detail::model_tensor(f, "preprocess.offset", offset.data());
        detail::model_tensor(f, "preprocess.scale", scale.data());
    }

    ModelMetadata meta;
    if (const std::string* s = meta_value("class_names")) {
        detail::StringListReader names(static_cast<std::size_t>(classes));
        const bool ok = nlohmann::json::sax_parse(*s, &names);
        if (names.invalid_json()) throw f.error("class_names is not valid JSON: '" + detail::excerpt(*s) + "'");
        if (!ok || names.list().size() != static_cast<std::size_t>(classes))
            throw f.error("class_names '" + detail::excerpt(*s) + "' is not a list of " + std::to_string(classes) +
                          " strings");
        meta.class_names = std::move(names.list());
    } else {
        meta.class_names = detail::default_class_names(classes);
    }
    for (const auto& [key, value] : md)
        if (!detail::reserved_model_keys().count(key)) meta.extra[key] = value;

    // The file's data buffer can be as large as the model: free it before the constant vectors
    // are allocated, so the peak is the buffer plus the model, not plus the preprocessing too.
    file.reset();
    if (norm != Normalization::standard) {
        offset.setZero(features);
        scale.setConstant(features, unit_scale);
    }
    return LoadedModel<Scalar>{std::move(model), Preprocessor<Scalar>(norm, std::move(offset), std::move(scale)),
                               std::move(meta)};
}

/// Saves a pipeline (preprocessing, model and class names) as a model file; `extra`: user
/// metadata such as the training settings (keys other than those save_model reserves).
template <typename Scalar>
void save_pipeline(const std::string& path, const Pipeline<Scalar>& pipeline,
                   std::map<std::string, std::string> extra = {}) {
    save_model(path, pipeline.model(), pipeline.preprocessor(),
               ModelMetadata{pipeline.class_names(), std::move(extra)});
}

/// Loads a model file as a pipeline (load_model(path).pipeline(); load_model also gives the extras).
template <typename Scalar>
Pipeline<Scalar> load_pipeline(const std::string& path) {
    return load_model<Scalar>(path).pipeline();
}

}  // namespace logreg::io
