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
// Reading validates everything before a byte of data is used: sizes, offsets, dtypes,
// shapes, tiling of the buffer, duplicate JSON keys; a bad file raises FormatError with the
// path and the problem. Writing is atomic (see atomic_file.hpp).
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
#include <logreg/preprocess.hpp>
#include <logreg/types.hpp>
#include <logreg/version.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <locale>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace logreg::io {

/// Largest JSON header accepted when reading (the reference implementation's cap, too).
inline constexpr std::uint64_t safetensors_max_header_bytes = 100'000'000;

/// Size in bytes of one element of a safetensors dtype ("F32" -> 4), or 0 if the dtype is unknown.
inline std::size_t dtype_size(const std::string& dtype) {
    static const std::map<std::string, std::size_t> sizes = {
        {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"I16", 2}, {"U16", 2},
        {"F16", 2},  {"BF16", 2}, {"I32", 4}, {"U32", 4},     {"F32", 4},     {"F64", 8}, {"I64", 8},
        {"U64", 8}};
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
struct UnsignedOfSize<1> { using type = std::uint8_t; };
template <>
struct UnsignedOfSize<2> { using type = std::uint16_t; };
template <>
struct UnsignedOfSize<4> { using type = std::uint32_t; };
template <>
struct UnsignedOfSize<8> { using type = std::uint64_t; };

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

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

}  // namespace detail

/// A safetensors file read into memory and validated: tensor descriptions, metadata and data.
///
/// The constructor checks the whole header (see the file comment) and throws FormatError
/// naming the file and the problem; afterwards every tensor's bytes are known to be in range.
class SafetensorsFile {
public:
    /// Reads and validates `path`. IoError if it cannot be read, FormatError if it is malformed.
    explicit SafetensorsFile(const std::string& path) : path_(path) {
        detail::InputFile in(path);  // regular files only: a FIFO or device is refused, never waited on
        const std::uint64_t size = in.size();
        // Check the header length before reading everything, so a bogus length costs nothing.
        if (size >= 8) {
            unsigned char head[8];
            if (in.read(head, 8) != 8) throw IoError("cannot read '" + path + "'");
            check_header_length(detail::load_le<std::uint64_t>(head), size);
            in.seek(0);
        }
        bytes_.resize(static_cast<std::size_t>(size));
        if (in.read(bytes_.data(), bytes_.size()) != bytes_.size())
            throw IoError("cannot read '" + path + "': reading " + std::to_string(size) + " bytes failed");
        parse();
    }

    /// Validates a file's bytes already in memory; `name` stands for the path in messages.
    static SafetensorsFile from_bytes(std::vector<unsigned char> bytes, std::string name) {
        SafetensorsFile f;
        f.path_ = std::move(name);
        f.bytes_ = std::move(bytes);
        f.parse();
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
        if (it == tensors_.end()) throw error("it has no tensor '" + name + "'");
        return it->second;
    }

    /// The tensor's raw little-endian bytes (info(name).end - info(name).begin of them).
    const unsigned char* data(const std::string& name) const { return bytes_.data() + data_start_ + info(name).begin; }

    /// The tensor's elements in C order, converted to T with static_cast (so float data read as an
    /// integer T must be in T's range). Works for the float and integer dtypes; FormatError for
    /// the others (F16, BF16, F8_*, BOOL).
    template <typename T>
    std::vector<T> values(const std::string& name) const {
        static_assert(std::is_arithmetic_v<T>, "SafetensorsFile::values: T must be an arithmetic type");
        const TensorInfo& t = info(name);
        const std::size_t n = t.num_elements();
        const unsigned char* p = data(name);
        std::vector<T> out(n);
        auto convert = [&](auto tag) {
            using Stored = decltype(tag);
            for (std::size_t i = 0; i < n; ++i) out[i] = detail::load_element<Stored, T>(p + i * sizeof(Stored));
        };
        if (t.dtype == "F32") convert(float{});
        else if (t.dtype == "F64") convert(double{});
        else if (t.dtype == "I8") convert(std::int8_t{});
        else if (t.dtype == "U8") convert(std::uint8_t{});
        else if (t.dtype == "I16") convert(std::int16_t{});
        else if (t.dtype == "U16") convert(std::uint16_t{});
        else if (t.dtype == "I32") convert(std::int32_t{});
        else if (t.dtype == "U32") convert(std::uint32_t{});
        else if (t.dtype == "I64") convert(std::int64_t{});
        else if (t.dtype == "U64") convert(std::uint64_t{});
        else throw error("tensor '" + name + "' has dtype " + t.dtype + ", which logreg cannot convert");
        return out;
    }

    /// A 1-D tensor as an Eigen vector of T.
    template <typename T>
    Vector<T> vector(const std::string& name) const {
        const TensorInfo& t = info(name);
        if (t.shape.size() != 1)
            throw error("tensor '" + name + "' has shape " + detail::shape_text(t.shape) + "; expected 1-D");
        const std::vector<T> v = values<T>(name);
        return Eigen::Map<const Vector<T>>(v.data(), static_cast<Index>(v.size()));
    }

    /// A 2-D tensor as a row-major Eigen matrix of T.
    template <typename T>
    RowMatrix<T> matrix(const std::string& name) const {
        const TensorInfo& t = info(name);
        if (t.shape.size() != 2)
            throw error("tensor '" + name + "' has shape " + detail::shape_text(t.shape) + "; expected 2-D");
        const std::vector<T> v = values<T>(name);
        return Eigen::Map<const RowMatrix<T>>(v.data(), static_cast<Index>(t.shape[0]), static_cast<Index>(t.shape[1]));
    }

    /// A FormatError whose message names this file.
    FormatError error(const std::string& problem) const {
        return FormatError("safetensors file '" + path_ + "': " + problem);
    }

private:
    SafetensorsFile() = default;

    void check_header_length(std::uint64_t n, std::uint64_t file_size) const {
        if (n > safetensors_max_header_bytes)
            throw error(logreg::detail::cat("header length ", n, " exceeds the limit of ", safetensors_max_header_bytes,
                                    " bytes"));
        if (n > file_size - 8)
            throw error(logreg::detail::cat("header length ", n, " is larger than the rest of the file (", file_size - 8,
                                    " bytes)"));
    }

    void parse() {
        using nlohmann::json;
        if (bytes_.size() < 8)
            throw error(logreg::detail::cat("the file is ", bytes_.size(), " bytes long, shorter than the 8-byte header size"));
        const auto n = detail::load_le<std::uint64_t>(bytes_.data());
        check_header_length(n, bytes_.size());
        const auto header_size = static_cast<std::size_t>(n);
        data_start_ = 8 + header_size;
        const char* header = reinterpret_cast<const char*>(bytes_.data() + 8);
        if (header_size == 0 || header[0] != '{') throw error("the header is not a JSON object (it must start with '{')");

        // nlohmann keeps the last of duplicate keys; the format forbids duplicates, and a
        // second "weight" silently winning would hide a corrupt or tampered file. Keys only
        // arrive in the innermost open object, so one set per open object finds them.
        std::vector<std::set<std::string>> open_objects;
        std::string duplicate;
        const json::parser_callback_t on_event = [&](int, json::parse_event_t event, json& parsed) {
            if (event == json::parse_event_t::object_start) open_objects.emplace_back();
            else if (event == json::parse_event_t::object_end) open_objects.pop_back();
            else if (event == json::parse_event_t::key && !open_objects.empty() &&
                     !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
                duplicate = parsed.get<std::string>();
            return true;
        };
        json root;
        try {
            root = json::parse(header, header + header_size, on_event);
        } catch (const json::exception& e) {
            throw error(std::string("the header is not valid JSON: ") + e.what());
        }
        if (!duplicate.empty()) throw error("the header has the key '" + duplicate + "' more than once");
        if (!root.is_object()) throw error("the header is not a JSON object");

        const std::size_t buffer_size = data_size();
        for (const auto& [name, entry] : root.items()) {
            if (name == "__metadata__") {
                if (!entry.is_object()) throw error("__metadata__ is not an object");
                for (const auto& [key, value] : entry.items()) {
                    if (!value.is_string())
                        throw error("metadata '" + key + "' is " + value.type_name() + ", not a string");
                    metadata_[key] = value.get<std::string>();
                }
                continue;
            }
            tensors_[name] = parse_tensor(name, entry, buffer_size);
        }
        check_tiling(buffer_size);
    }

    TensorInfo parse_tensor(const std::string& name, const nlohmann::json& entry, std::size_t buffer_size) const {
        const std::string what = "tensor '" + name + "'";
        if (!entry.is_object()) throw error(what + " is " + entry.type_name() + ", not an object");
        // Unknown extra fields are ignored, as the reference implementation does.
        for (const char* field : {"dtype", "shape", "data_offsets"})
            if (!entry.contains(field)) throw error(what + " has no '" + field + "'");
        TensorInfo t;
        const auto& dtype = entry.at("dtype");
        if (!dtype.is_string()) throw error(what + ": dtype is not a string");
        t.dtype = dtype.get<std::string>();
        const std::size_t elem = dtype_size(t.dtype);
        if (elem == 0) throw error(what + " has the unknown dtype '" + t.dtype + "'");

        const auto& shape = entry.at("shape");
        if (!shape.is_array()) throw error(what + ": shape is not a list");
        std::size_t count = 1;
        bool overflow = false;
        for (const auto& d : shape) {
            if (!d.is_number_integer() || (!d.is_number_unsigned() && d.get<std::int64_t>() < 0) ||
                (d.is_number_unsigned() &&
                 d.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())))
                throw error(what + ": shape " + shape.dump() + " is not a list of non-negative integers");
            t.shape.push_back(d.get<std::int64_t>());
            overflow = overflow || !detail::checked_mul(count, static_cast<std::size_t>(t.shape.back()), count);
        }
        std::size_t bytes = 0;
        overflow = overflow || !detail::checked_mul(count, elem, bytes);
        // A zero dimension makes the tensor empty even if the other dimensions overflow.
        if (std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end()) {
            overflow = false;
            bytes = 0;
        }

        const auto& offsets = entry.at("data_offsets");
        if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
            !offsets[1].is_number_unsigned())
            throw error(what + ": data_offsets " + offsets.dump() + " is not a pair of non-negative integers");
        const auto begin = offsets[0].get<std::uint64_t>(), end = offsets[1].get<std::uint64_t>();
        if (begin > end) throw error(logreg::detail::cat(what, ": data_offsets [", begin, ", ", end, "] has begin > end"));
        if (end > buffer_size)
            throw error(logreg::detail::cat(what, ": data_offsets [", begin, ", ", end, "] reach beyond the ", buffer_size,
                                    "-byte data buffer"));
        t.begin = static_cast<std::size_t>(begin);
        t.end = static_cast<std::size_t>(end);
        if (overflow || bytes != t.end - t.begin)
            throw error(logreg::detail::cat(what, ": shape ", detail::shape_text(t.shape), " of ", t.dtype, " needs ",
                                    overflow ? std::string("more than 2^64") : std::to_string(bytes),
                                    " bytes but data_offsets [", begin, ", ", end, "] hold ", end - begin));
        return t;
    }

    // The format requires the tensors to cover the buffer exactly, without gaps or overlaps:
    // bytes that belong to no tensor could smuggle data past a reader that only follows offsets.
    void check_tiling(std::size_t buffer_size) const {
        std::vector<std::pair<const std::string*, const TensorInfo*>> order;
        for (const auto& [name, t] : tensors_) order.emplace_back(&name, &t);
        std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
            return std::make_pair(a.second->begin, a.second->end) < std::make_pair(b.second->begin, b.second->end);
        });
        std::size_t covered = 0;
        const std::string* previous = nullptr;
        for (const auto& [name, t] : order) {
            if (t->begin < covered)
                throw error(logreg::detail::cat("tensors '", *previous, "' and '", *name, "' overlap (bytes [", t->begin, ", ",
                                        covered, ") of the data buffer)"));
            if (t->begin > covered)
                throw error(logreg::detail::cat("bytes [", covered, ", ", t->begin,
                                        ") of the data buffer belong to no tensor"));
            covered = t->end;
            previous = name;
        }
        if (covered != buffer_size)
            throw error(logreg::detail::cat("bytes [", covered, ", ", buffer_size, ") of the data buffer belong to no tensor"));
    }

    std::string path_;
    std::vector<unsigned char> bytes_;  // the whole file
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
        if (elem == 0) throw InvalidParameter("SafetensorsWriter: tensor '" + name + "' has unknown dtype '" + dtype + "'");
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
        if (Derived::IsVectorAtCompileTime) shape = {static_cast<std::int64_t>(rows.size())};
        else shape = {static_cast<std::int64_t>(rows.rows()), static_cast<std::int64_t>(rows.cols())};
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
            throw InvalidParameter(std::string("SafetensorsWriter: a tensor name or metadata string is not valid UTF-8: ") +
                                   e.what());
        }
        text.append((8 - text.size() % 8) % 8, ' ');  // data buffer starts 8-byte aligned

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
    std::vector<std::string> class_names;        ///< one per class; empty on save means "0", "1", ...
    std::map<std::string, std::string> extra;    ///< user entries (e.g. training settings, accuracy)
};

/// A model read back from a file, with the preprocessing it was trained with.
template <typename Scalar>
struct LoadedModel {
    LinearSoftmax<Scalar> model;          ///< weight and bias
    Preprocessor<Scalar> preprocessor;    ///< maps raw inputs exactly as at training time
    ModelMetadata metadata;               ///< class names and user extras
};

namespace detail {

/// Metadata keys written by save_model; all other keys are user extras.
inline const std::set<std::string>& reserved_model_keys() {
    static const std::set<std::string> keys = {"format",       "logreg_version", "normalization", "unit_scale",
                                               "class_names",  "num_classes",    "num_features"};
    return keys;
}

inline std::vector<std::string> default_class_names(Index classes) {
    std::vector<std::string> names;
    for (Index c = 0; c < classes; ++c) names.push_back(std::to_string(c));
    return names;
}

/// A float tensor as Scalar values, checked for dtype, shape and finiteness.
template <typename Scalar>
std::vector<Scalar> model_tensor(const SafetensorsFile& f, const std::string& name) {
    const TensorInfo& t = f.info(name);
    if (t.dtype != "F32" && t.dtype != "F64")
        throw f.error("tensor '" + name + "' has dtype " + t.dtype + "; a model stores F32 or F64");
    std::vector<Scalar> v = f.values<Scalar>(name);
    for (std::size_t i = 0; i < v.size(); ++i)
        if (!std::isfinite(v[i]))
            throw NumericalError(logreg::detail::cat("safetensors file '", f.path(), "': tensor '", name,
                                                     "' has the non-finite value ", v[i], " at element ", i,
                                                     sizeof(Scalar) == 4 && t.dtype == "F64" ? " (as float)" : ""));
    return v;
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
    if (!model.all_finite())
        throw NumericalError("save_model '" + path + "': the model has non-finite parameters");
    if (pre.num_features() != features)
        throw ShapeError(cat("save_model '", path, "': the preprocessor has ", pre.num_features(),
                             " features but the model has ", features));
    const std::vector<std::string> names =
        meta.class_names.empty() ? detail::default_class_names(classes) : meta.class_names;
    if (static_cast<Index>(names.size()) != classes)
        throw InvalidParameter(cat("save_model '", path, "': ", names.size(), " class names for ", classes,
                                   " classes"));
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
    const SafetensorsFile f(path);
    const auto& md = f.metadata();
    auto meta_value = [&](const std::string& key) -> const std::string* {
        const auto it = md.find(key);
        return it == md.end() ? nullptr : &it->second;
    };

    if (const std::string* format = meta_value("format"); format && *format != model_format)
        throw f.error("format is '" + *format + "'; expected '" + model_format + "'");

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
    for (const auto& [key, expected] : {std::pair<std::string, Index>{"num_classes", classes}, {"num_features", features}}) {
        std::int64_t v = 0;
        if (const std::string* s = meta_value(key); s && (!detail::parse_count(*s, v) || v != expected))
            throw f.error("metadata " + key + " is '" + *s + "' but the tensors say " + std::to_string(expected));
    }
    for (const auto& [name, t] : f.tensors())
        if (name != "weight" && name != "bias" && name != "preprocess.offset" && name != "preprocess.scale")
            throw f.error("unexpected tensor '" + name + "' (a logreg model has weight, bias and preprocess.*)");

    const std::vector<Scalar> weight = detail::model_tensor<Scalar>(f, "weight");
    const std::vector<Scalar> bias = detail::model_tensor<Scalar>(f, "bias");
    LinearSoftmax<Scalar> model(features, classes);
    model.weight() = Eigen::Map<const RowMatrix<Scalar>>(weight.data(), classes, features);
    model.bias() = Eigen::Map<const Vector<Scalar>>(bias.data(), classes);

    // Preprocessing.
    const std::string* norm_text = meta_value("normalization");
    Normalization norm = Normalization::none;
    if (norm_text) {
        try {
            norm = parse_normalization(*norm_text);
        } catch (const InvalidParameter&) {
            throw f.error("normalization is '" + *norm_text + "'; expected none, unit or standard");
        }
    }
    const bool has_stats = f.contains("preprocess.offset") || f.contains("preprocess.scale");
    if (norm != Normalization::standard && has_stats)
        throw f.error(std::string("it has preprocess.* tensors but normalization is '") + to_string(norm) + "'");
    if (norm != Normalization::unit && meta_value("unit_scale"))
        throw f.error(std::string("it has unit_scale but normalization is '") + to_string(norm) + "'");
    Vector<Scalar> offset = Vector<Scalar>::Zero(features), scale = Vector<Scalar>::Ones(features);
    if (norm == Normalization::unit) {
        const std::string* s = meta_value("unit_scale");
        double v = 0;
        if (!s) throw f.error("normalization is 'unit' but unit_scale is missing");
        if (!detail::parse_double(*s, v) || !std::isfinite(v) || !(v > 0) ||
            !std::isfinite(static_cast<Scalar>(v)) || !(static_cast<Scalar>(v) > 0))
            throw f.error("unit_scale is '" + *s + "'; expected a finite number > 0");
        scale.setConstant(static_cast<Scalar>(v));
    } else if (norm == Normalization::standard) {
        for (const char* name : {"preprocess.offset", "preprocess.scale"}) {
            const TensorInfo& t = f.info(name);  // FormatError naming the missing tensor
            if (t.shape.size() != 1 || t.shape[0] != w.shape[1])
                throw f.error(std::string("tensor '") + name + "' has shape " + detail::shape_text(t.shape) +
                              "; expected [" + std::to_string(w.shape[1]) + "] (the feature count)");
        }
        const std::vector<Scalar> o = detail::model_tensor<Scalar>(f, "preprocess.offset");
        const std::vector<Scalar> sc = detail::model_tensor<Scalar>(f, "preprocess.scale");
        offset = Eigen::Map<const Vector<Scalar>>(o.data(), features);
        scale = Eigen::Map<const Vector<Scalar>>(sc.data(), features);
    }

    ModelMetadata meta;
    if (const std::string* s = meta_value("class_names")) {
        nlohmann::json names;
        try {
            names = nlohmann::json::parse(*s);
        } catch (const nlohmann::json::exception&) {
            throw f.error("class_names is not valid JSON: '" + *s + "'");
        }
        if (!names.is_array() || static_cast<Index>(names.size()) != classes ||
            !std::all_of(names.begin(), names.end(), [](const nlohmann::json& x) { return x.is_string(); }))
            throw f.error("class_names '" + *s + "' is not a list of " + std::to_string(classes) + " strings");
        meta.class_names = names.get<std::vector<std::string>>();
    } else {
        meta.class_names = detail::default_class_names(classes);
    }
    for (const auto& [key, value] : md)
        if (!detail::reserved_model_keys().count(key)) meta.extra[key] = value;

    return LoadedModel<Scalar>{std::move(model), Preprocessor<Scalar>(norm, std::move(offset), std::move(scale)),
                               std::move(meta)};
}

}  // namespace logreg::io
