// Hostile safetensors headers (issue 13): deep nesting, huge numbers of keys or objects, header
// lengths above the cap, tensors claiming more bytes than the file holds, non-string metadata,
// duplicate keys, long or unprintable names. Each is refused (or accepted) at once, with a short
// message, in time linear in the header and before the data buffer is allocated.
#include "test_support.hpp"

#include <logreg/io/checkpoint.hpp>
#include <logreg/io/safetensors.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#endif

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace hostile_header_test {

namespace fs = std::filesystem;
using namespace logreg;
using logreg::io::SafetensorsFile;

namespace {

using Bytes = std::vector<unsigned char>;

/// The longest message a refusal may have: the path plus a few names cut to 64 characters.
constexpr std::size_t max_message = 500;

/// A fresh folder that is removed with its contents at scope exit.
struct TempDir : logreg_test::TempDir {
    TempDir() : logreg_test::TempDir("logreg_hostile") {}
};

/// A safetensors file: `length` (default: the header's size), the header text, `buffer_size` zero bytes.
Bytes raw_file(const std::string& header, std::size_t buffer_size = 0, std::uint64_t length = ~0ull) {
    if (length == ~0ull) length = header.size();
    Bytes b(8 + header.size() + buffer_size, 0);
    io::detail::store_le<std::uint64_t>(length, b.data());
    std::copy(header.begin(), header.end(), b.begin() + 8);
    return b;
}

void write_bytes(const std::string& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

std::string repeat(const std::string& s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

/// The FormatError message of reading `header` (with `buffer_size` data bytes), from memory and
/// from a file; both must agree, be short and contain every part.
void refused(const std::string& header, std::initializer_list<std::string> parts, std::size_t buffer_size = 0) {
    const Bytes bytes = raw_file(header, buffer_size);
    std::string message;
    try {
        (void)SafetensorsFile::from_bytes(bytes, "hostile");
        FAIL("from_bytes accepted the header");
    } catch (const FormatError& e) {
        message = e.what();
    }
    INFO("message: " << message.substr(0, 1000));
    CHECK(message.size() < max_message);
    for (const std::string& p : parts) CHECK(message.find(p) != std::string::npos);

    TempDir dir;
    const std::string path = dir / "hostile.safetensors";
    write_bytes(path, bytes);
    try {
        (void)SafetensorsFile(path);
        FAIL("the file constructor accepted the header");
    } catch (const FormatError& e) {
        const std::string from_file = e.what();
        CHECK(from_file.size() < max_message + path.size());
        CHECK(from_file.substr(from_file.find("': ")) == message.substr(message.find("': ")));
    }
}

/// The largest resident set of this process so far, in bytes (0 where unknown).
std::uint64_t peak_rss() {
#if defined(__linux__)
    rusage u{};
    if (getrusage(RUSAGE_SELF, &u) == 0) return static_cast<std::uint64_t>(u.ru_maxrss) * 1024u;  // KB on Linux
#endif
    return 0;
}

const std::string valid_tensor = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";

}  // namespace

TEST_CASE("headers nested 100k levels deep are refused at once with a short message", "[safetensors][hostile]") {
    const std::size_t n = 100'000;
    const std::string open = repeat("[", n), close = repeat("]", n);
    SECTION("in a shape") {
        refused(R"({"w":{"dtype":"F32","shape":)" + open + close + R"(,"data_offsets":[0,0]}})",
                {"nesting deeper than the format allows at byte 29 of the header", "in the shape of tensor 'w'"});
    }
    SECTION("in data_offsets") {
        refused(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":)" + open + close + "}}",
                {"nesting deeper than the format allows", "in the data_offsets of tensor 'w'"});
    }
    SECTION("unbalanced, as a cut file would be") {
        refused(R"({"w":{"dtype":"F32","shape":)" + open, {"nesting deeper than the format allows at byte 29"});
    }
    SECTION("at the top level") {
        refused(open + close, {"the header is not a JSON object"});
        refused("{\"w\":" + open + close + "}", {"tensor 'w' is array, not an object"});
        refused("{\"w\":" + repeat("{\"a\":", n) + "1" + repeat("}", n) + "}",
                {"tensor 'w': its unknown field 'a' is an object"});
    }
    SECTION("in metadata") {
        refused(R"({"__metadata__":{"k":)" + open + close + "}}", {"metadata 'k' is array, not a string"});
        refused(R"({"__metadata__":)" + open + close + "}", {"__metadata__ is not an object"});
    }
    SECTION("in the dtype or an unknown field of a tensor") {
        refused(R"({"w":{"dtype":)" + open + close + "}}", {"tensor 'w': dtype is not a string"});
        refused(R"({"w":{"note":)" + open + close + "}}", {"tensor 'w': its unknown field 'note' is an array"});
    }
}

TEST_CASE("300k empty objects or 300k keys are handled in time linear in the header", "[safetensors][hostile]") {
    // No timing assertion here (shared machines); the time is reported with the change. The old
    // DOM parser spent O(n^2) in nlohmann's callback parser (end_object scans its parent).
    const std::size_t n = 300'000;
    SECTION("300k empty objects are refused at the first") {
        std::string header = "{";
        for (std::size_t i = 0; i < n; ++i) header += (i ? ",\"a" : "\"a") + std::to_string(i) + "\":{}";
        refused(header + "}", {"tensor 'a0' has no 'dtype'"});
    }
    SECTION("300k empty objects as unknown fields of one tensor are refused at the first") {
        std::string header = R"({"w":{)";
        for (std::size_t i = 0; i < n; ++i) header += (i ? ",\"a" : "\"a") + std::to_string(i) + "\":{}";
        refused(header + "}}", {"tensor 'w': its unknown field 'a0' is an object"});
    }
    SECTION("300k metadata keys are accepted") {
        std::string header = R"({"__metadata__":{)";
        for (std::size_t i = 0; i < n; ++i) header += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
        header += "}}";
        const auto f = SafetensorsFile::from_bytes(raw_file(header), "many-keys");
        CHECK(f.metadata().size() == n);
        CHECK(f.metadata().at("k299999") == "v");
    }
    SECTION("200k empty tensors (as many as fit under the cap) are accepted") {
        const std::size_t tensors = 200'000;
        std::string header = "{";
        for (std::size_t i = 0; i < tensors; ++i)
            header +=
                (i ? ",\"t" : "\"t") + std::to_string(i) + R"(":{"dtype":"F32","shape":[0],"data_offsets":[0,0]})";
        header += "}";
        REQUIRE(header.size() <= io::safetensors_max_header_bytes);
        const auto f = SafetensorsFile::from_bytes(raw_file(header), "many-tensors");
        CHECK(f.tensors().size() == tensors);
        CHECK(f.values<float>("t199999").empty());
    }
    SECTION("300k unknown scalar fields of one tensor are ignored") {
        std::string header = R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1])";
        for (std::size_t i = 0; i < n; ++i) header += ",\"x" + std::to_string(i) + "\":" + std::to_string(i);
        header += "}}";
        const auto f = SafetensorsFile::from_bytes(raw_file(header, 1), "many-fields");
        CHECK(f.values<int>("w") == std::vector<int>{0});
    }
}

TEST_CASE("a header length above the 16 MiB cap is refused before the header is read", "[safetensors][hostile]") {
    REQUIRE(io::safetensors_max_header_bytes == std::uint64_t{16} << 20);
    const std::uint64_t too_long = io::safetensors_max_header_bytes + 8;
    const std::string limit = "header length " + std::to_string(too_long) + " exceeds the limit of 16777216 bytes";
    // In memory: the file is 10 bytes; the length is checked against the cap first.
    try {
        (void)SafetensorsFile::from_bytes(raw_file("{}", 0, too_long), "capped");
        FAIL("accepted");
    } catch (const FormatError& e) {
        CHECK(std::string(e.what()).find(limit) != std::string::npos);
    }
    // On disk: a sparse file long enough to hold the claimed header, refused without reading it.
    TempDir dir;
    const std::string path = dir / "long-header.safetensors";
    write_bytes(path, raw_file("{", 0, too_long));
    fs::resize_file(path, 8 + too_long + 64);
    REQUIRE_THROWS_WITH(SafetensorsFile(path), logreg_test::contains(limit));

    // A header of exactly the cap (padded with spaces, as the format allows) is read.
    std::string header = R"({"__metadata__":{"k":"v"}})";
    header.resize(static_cast<std::size_t>(io::safetensors_max_header_bytes), ' ');
    CHECK(SafetensorsFile::from_bytes(raw_file(header), "at-cap").metadata().at("k") == "v");
}

TEST_CASE("SafetensorsWriter refuses to write a header above the cap, leaving no file", "[safetensors][hostile]") {
    TempDir dir;
    const std::string path = dir / "big-header.safetensors";
    io::SafetensorsWriter w;
    const std::vector<float> x = {1, 2};  // (a stack array here made g++ 12 warn 'x may be used uninitialized')
    w.add("x", {2}, x.data());
    w.set_metadata("notes", std::string(static_cast<std::size_t>(io::safetensors_max_header_bytes), 'n'));
    REQUIRE_THROWS_AS(w.save(path), InvalidParameter);
    REQUIRE_THROWS_WITH(w.save(path), logreg_test::contains("more than the 16777216 that SafetensorsFile reads"));
    CHECK_FALSE(fs::exists(path));
    CHECK(fs::is_empty(dir.path));  // no temporary left behind either
}

TEST_CASE("tensors claiming more bytes than the file holds are refused before allocation", "[safetensors][hostile]") {
    TempDir dir;
    const std::string path = dir / "claims.safetensors";
    // A 1 GiB tensor in a file of about 100 bytes.
    const std::string header = R"({"w":{"dtype":"U8","shape":[1073741824],"data_offsets":[0,1073741824]}})";
    write_bytes(path, raw_file(header, 16));
    REQUIRE(fs::file_size(path) < 120);
    REQUIRE_THROWS_WITH(SafetensorsFile(path),
                        logreg_test::contains("data_offsets [0, 1073741824] reach beyond the 16-byte data buffer"));
    REQUIRE_THROWS_WITH(io::load_model<float>(path), logreg_test::contains("reach beyond the 16-byte data buffer"));

    // A sparse file of 1 GiB, one byte short of the claim: refused before the data is read, so
    // the process's peak memory does not grow by the buffer.
    write_bytes(path, raw_file(header));
    fs::resize_file(path, 8 + header.size() + (std::uint64_t{1} << 30) - 1);
    const std::uint64_t before = peak_rss();
    REQUIRE_THROWS_WITH(SafetensorsFile(path), logreg_test::contains("reach beyond the 1073741823-byte data buffer"));
    const std::uint64_t after = peak_rss();
    INFO("peak RSS before " << before << " bytes, after " << after);
    CHECK(after - before < (std::uint64_t{64} << 20));
}

TEST_CASE("a non-string metadata value is refused naming the key", "[safetensors][hostile]") {
    for (const auto& [value, type] : std::vector<std::pair<std::string, std::string>>{{"3", "number"},
                                                                                      {"-3", "number"},
                                                                                      {"2.5", "number"},
                                                                                      {"true", "boolean"},
                                                                                      {"null", "null"},
                                                                                      {"{}", "object"},
                                                                                      {"[]", "array"},
                                                                                      {R"({"a":"b"})", "object"},
                                                                                      {R"(["a"])", "array"}}) {
        CAPTURE(value);
        refused(R"({"__metadata__":{"format":"x","epochs":)" + value + "}}",
                {"metadata 'epochs' is " + type + ", not a string"});
    }
    refused(R"({"__metadata__":"format"})", {"__metadata__ is not an object"});
}

TEST_CASE("duplicate keys are refused at every level of the header", "[safetensors][hostile]") {
    refused(R"({"a":)" + valid_tensor + R"(,"a":)" + valid_tensor + "}", {"the key 'a' more than once"}, 1);
    refused(R"({"__metadata__":{},"__metadata__":{}})", {"the key '__metadata__' more than once"});
    refused(R"({"__metadata__":{"k":"1","k":"2"}})", {"the key 'k' more than once", "ends at byte 27 of the header"});
    refused(R"({"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {"the key 'dtype' more than once"},
            1);
    refused(R"({"a":{"shape":[1],"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {"the key 'shape' more than once"},
            1);
    refused(R"({"a":{"x":1,"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":2}})", {"the key 'x' more than once"}, 1);
}

TEST_CASE("unknown tensor fields are ignored when scalars and refused when arrays or objects",
          "[safetensors][hostile]") {
    const auto f = SafetensorsFile::from_bytes(
        raw_file(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"s":"x","n":-1.5,"b":false,"z":null}})", 1),
        "extras");
    CHECK(f.info("w").shape == std::vector<std::int64_t>{1});
    refused(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"strides":[1]}})",
            {"tensor 'w': its unknown field 'strides' is an array"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"q":{}}})",
            {"tensor 'w': its unknown field 'q' is an object"}, 1);
}

TEST_CASE("shape and data_offsets hold exactly what the format allows", "[safetensors][hostile]") {
    refused(R"({"w":{"dtype":"U8","shape":[1,"2"],"data_offsets":[0,2]}})",
            {"tensor 'w': shape is not a list of non-negative integers (element 1 is a string)"}, 2);
    refused(R"({"w":{"dtype":"U8","shape":[1.0],"data_offsets":[0,1]}})",
            {"shape is not a list of non-negative integers (element 0 is 1.0)"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", {"(element 0 is -1)"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[9223372036854775808],"data_offsets":[0,1]}})",
            {"(element 0 is 9223372036854775808)"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}})",
            {"tensor 'w': data_offsets [0, 1, 2, ...] is not a pair of non-negative integers"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[]}})", {"data_offsets [] is not a pair"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,true]}})", {"data_offsets [0, true, ...] is not"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":{"a":0}}})", {"tensor 'w': data_offsets is not a pair"},
            1);
    refused(R"({"w":{"dtype":"U8","shape":{},"data_offsets":[0,1]}})", {"tensor 'w': shape is not a list"}, 1);
    refused(R"({"w":{"shape":[1],"data_offsets":[0,1]}})", {"tensor 'w' has no 'dtype'"}, 1);
    refused(R"({"w":{"dtype":"U8","data_offsets":[0,1]}})", {"tensor 'w' has no 'shape'"}, 1);
    refused(R"({"w":{"dtype":"U8","shape":[1]}})", {"tensor 'w' has no 'data_offsets'"}, 1);
    // A shape of a million dimensions is shown cut short.
    refused(R"({"w":{"dtype":"U8","shape":[)" + repeat("1,", 1'000'000) + R"(2],"data_offsets":[0,1]}})",
            {"shape [1, 1, 1, 1, 1, 1, 1, 1, ... (1000001 dimensions)] of U8 needs 2 bytes"}, 1);
}

TEST_CASE("error messages cut long names short and escape control bytes", "[safetensors][hostile]") {
    const std::string name = "\\u0001" + std::string(100'000, 'n');
    refused("{\"" + name + "\":{\"dtype\":\"Q7\",\"shape\":[],\"data_offsets\":[0,0]}}",
            {"tensor '\\x01nnnnnnnn", "... (100001 bytes)' has the unknown dtype 'Q7'"});
    refused(R"({"w":{"dtype":")" + std::string(100'000, 'd') + R"(","shape":[],"data_offsets":[0,0]}})",
            {"has the unknown dtype 'ddd", "... (100000 bytes)'"});
    // A JSON syntax error deep in a long string: nlohmann's message quotes the token; it is cut.
    refused("{\"" + std::string(100'000, 'k'), {"the header is not valid JSON at byte", "... ("});
    // An unexpected tensor with a long name in a model.
    TempDir dir;
    const std::string path = dir / "model.safetensors";
    const std::string extra = std::string(1'000'000, 'x');
    write_bytes(path, raw_file(R"({"weight":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},)"
                               R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},")" +
                                   extra + R"(":{"dtype":"F32","shape":[0],"data_offsets":[16,16]}})",
                               16));
    try {
        (void)io::load_model<float>(path);
        FAIL("accepted");
    } catch (const FormatError& e) {
        CHECK(std::string(e.what()).size() < max_message + path.size());
        CHECK(std::string(e.what()).find("unexpected tensor 'xxxx") != std::string::npos);
    }
}

TEST_CASE("hostile class_names in a model are refused without building a JSON tree", "[safetensors][hostile]") {
    TempDir dir;
    const std::string path = dir / "model.safetensors";
    auto model_with_class_names = [&](const std::string& names) {
        nlohmann::json value = names;  // escaped as a JSON string
        write_bytes(path, raw_file(R"({"__metadata__":{"class_names":)" + value.dump() +
                                       R"(},"weight":{"dtype":"F32","shape":[2,1],"data_offsets":[0,8]},)"
                                       R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                                   16));
    };
    const std::size_t n = 1'000'000;
    for (const std::string& names : {repeat("[", n) + repeat("]", n), "[" + repeat("{},", n) + "{}]",
                                     "[\"a\",\"b\"," + repeat("\"c\",", n) + "\"d\"]"}) {
        model_with_class_names(names);
        try {
            (void)io::load_model<float>(path);
            FAIL("accepted");
        } catch (const FormatError& e) {
            const std::string what = e.what();
            CHECK(what.size() < max_message + path.size());
            CHECK(what.find("is not a list of 2 strings") != std::string::npos);
        }
    }
    model_with_class_names(R"(["cat", "dog"])");
    CHECK(io::load_model<float>(path).metadata.class_names == std::vector<std::string>{"cat", "dog"});
}

TEST_CASE("checkpoints with hostile headers are refused with the trainer unchanged", "[safetensors][hostile]") {
    TempDir dir;
    const std::string path = dir / "hostile.ckpt";
    Trainer<float> trainer(LinearSoftmax<float>(3, 2, Init::uniform, 1));
    const RowMatrix<float> before = trainer.model().weight();
    const std::size_t n = 100'000;
    for (const std::string& header :
         {R"({"weight":{"dtype":"F32","shape":)" + repeat("[", n) + repeat("]", n) + R"(,"data_offsets":[0,0]}})",
          R"({"a":{})" + repeat(R"(,"b":{})", n) + "}",
          std::string(R"({"__metadata__":{"format":"logreg.checkpoint","rng":[1,2,3]}})")}) {
        write_bytes(path, raw_file(header));
        try {
            (void)io::load_checkpoint(path, trainer);
            FAIL("accepted");
        } catch (const FormatError& e) {
            CHECK(std::string(e.what()).size() < max_message + path.size());
        }
        CHECK(trainer.model().weight() == before);
    }
}

}  // namespace hostile_header_test
