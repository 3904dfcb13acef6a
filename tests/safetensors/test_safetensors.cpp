// Model files in the safetensors format: round trips, the low-level reader and writer,
// every rejection of a malformed file, and atomic writes.
#include "test_support.hpp"

#include <logreg/io/atomic_file.hpp>
#include <logreg/io/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#include <unistd.h>
#endif

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace safetensors_test {

namespace fs = std::filesystem;
using namespace logreg;
using logreg::io::LoadedModel;
using logreg::io::ModelMetadata;
using logreg::io::SafetensorsFile;
using logreg::io::SafetensorsWriter;

namespace {

/// A fresh folder that is removed with its contents at scope exit.
struct TempDir : logreg_test::TempDir {
    TempDir() : logreg_test::TempDir("logreg_safetensors") {}
};

using Bytes = std::vector<unsigned char>;

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    REQUIRE(out.good());
}

/// A safetensors file by hand: `length` (default: the header's size), the header text, the buffer.
Bytes raw_file(const std::string& header, const Bytes& buffer, std::uint64_t length = ~0ull) {
    if (length == ~0ull) length = header.size();
    // Assembled in a string: GCC 12 warns falsely (-Warray-bounds) about vector::insert here.
    std::string s(8, '\0');
    for (std::size_t i = 0; i < 8; ++i) s[i] = static_cast<char>(static_cast<unsigned char>(length >> (8 * i)));
    s += header;
    for (const unsigned char c : buffer) s += static_cast<char>(c);
    return Bytes(s.begin(), s.end());
}

/// Little-endian bytes of float values.
template <typename T>
Bytes le_bytes(std::initializer_list<T> values) {
    Bytes b;
    for (const T v : values) {
        unsigned char tmp[sizeof(T)];
        io::detail::store_element(v, tmp);
        b.insert(b.end(), tmp, tmp + sizeof(T));
    }
    return b;
}

/// Runs `f`, which must throw E; checks that the message contains every part.
template <typename E, typename F>
void check_throws(F&& f, std::initializer_list<std::string> parts) {
    try {
        f();
        FAIL_CHECK("no exception was thrown; expected one containing '" << *parts.begin() << "'");
    } catch (const E& e) {
        const std::string what = e.what();
        INFO("message: " << what);
        for (const auto& p : parts) CHECK(what.find(p) != std::string::npos);
    }
}

template <typename Scalar>
bool bitwise_equal(const Scalar* a, const Scalar* b, Index n) {
    return std::memcmp(a, b, sizeof(Scalar) * static_cast<std::size_t>(n)) == 0;
}

/// A random model with uniform init and a standard preprocessor fitted to random data with
/// per-feature offsets and spreads (so offsets and scales are far from 0 and 1).
template <typename Scalar>
std::pair<LinearSoftmax<Scalar>, Preprocessor<Scalar>> random_model(Index features, int classes, std::uint64_t salt) {
    auto gen = logreg_test::rng(salt);
    RowMatrix<float> x = logreg_test::random_matrix<float>(50, features, gen, 1.0);
    for (Index j = 0; j < features; ++j)
        x.col(j) = (x.col(j).array() * static_cast<float>(j + 1) + static_cast<float>(10 * j)).matrix();
    const Dataset<float> data(x, logreg_test::random_labels(50, classes, gen), classes);
    return {LinearSoftmax<Scalar>(features, classes, Init::uniform, logreg_test::seed() + salt),
            Preprocessor<Scalar>::standard(data, iota(data.size()))};
}

/// A valid two-class, three-feature F32 model file; pieces can be replaced to break it.
struct HandModel {
    nlohmann::ordered_json header = {{"__metadata__", {{"format", "logreg.linear_softmax"}}},
                                     {"weight", {{"dtype", "F32"}, {"shape", {2, 3}}, {"data_offsets", {0, 24}}}},
                                     {"bias", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {24, 32}}}}};
    Bytes buffer = le_bytes<float>({1, 2, 3, 4, 5, 6, 0.5f, -0.5f});

    Bytes bytes() const { return raw_file(header.dump(), buffer); }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Model round trips

TEMPLATE_TEST_CASE("save_model / load_model round trip is exact", "[safetensors]", float, double) {
    using Scalar = TestType;
    TempDir dir;
    const std::string path = dir / "model.safetensors";
    auto [model, pre] = random_model<Scalar>(13, 5, 1);
    ModelMetadata meta;
    meta.class_names = {"zero", "one", "two", "three", "fünf \"quoted\""};
    meta.extra = {{"epochs", "7"}, {"note", "trained on blobs"}, {"empty", ""}};
    io::save_model(path, model, pre, meta);

    const LoadedModel<Scalar> loaded = io::load_model<Scalar>(path);
    REQUIRE(loaded.model.num_classes() == 5);
    REQUIRE(loaded.model.num_features() == 13);
    CHECK(bitwise_equal(loaded.model.weight().data(), model.weight().data(), model.weight().size()));
    CHECK(bitwise_equal(loaded.model.bias().data(), model.bias().data(), model.bias().size()));
    CHECK(loaded.preprocessor.kind() == Normalization::standard);
    CHECK(bitwise_equal(loaded.preprocessor.offset().data(), pre.offset().data(), 13));
    CHECK(bitwise_equal(loaded.preprocessor.scale().data(), pre.scale().data(), 13));
    CHECK(loaded.metadata.class_names == meta.class_names);
    CHECK(loaded.metadata.extra == meta.extra);

    // Same inputs, same outputs: raw inputs through both preprocessors and both models.
    auto gen = logreg_test::rng(2);
    const RowMatrix<float> raw = logreg_test::random_matrix<float>(200, 13, gen, 20.0);
    const RowMatrix<Scalar> x0 = pre.transform(raw), x1 = loaded.preprocessor.transform(raw);
    CHECK(x0 == x1);
    CHECK(model.predict(x0) == loaded.model.predict(x1));
    CHECK(model.predict_proba(x0) == loaded.model.predict_proba(x1));

    // What is in the file, as another reader sees it.
    const SafetensorsFile f(path);
    const std::string dtype = std::is_same_v<Scalar, float> ? "F32" : "F64";
    CHECK(f.info("weight").dtype == dtype);
    CHECK(f.info("weight").shape == std::vector<std::int64_t>{5, 13});
    CHECK(f.info("bias").shape == std::vector<std::int64_t>{5});
    CHECK(f.info("preprocess.offset").dtype == dtype);
    CHECK(f.info("preprocess.scale").shape == std::vector<std::int64_t>{13});
    const auto& md = f.metadata();
    CHECK(md.at("format") == "logreg.linear_softmax");
    CHECK(md.at("logreg_version") == logreg::version);
    CHECK(md.at("normalization") == "standard");
    CHECK(md.count("unit_scale") == 0);
    CHECK(md.at("num_classes") == "5");
    CHECK(md.at("num_features") == "13");
    CHECK(nlohmann::json::parse(md.at("class_names")).get<std::vector<std::string>>() == meta.class_names);
    CHECK(md.at("epochs") == "7");
    CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
}

TEMPLATE_TEST_CASE("unit and none normalization round trip exactly", "[safetensors]", float, double) {
    using Scalar = TestType;
    TempDir dir;
    const LinearSoftmax<Scalar> model(6, 3, Init::uniform, 3);
    auto gen = logreg_test::rng(3);
    const RowMatrix<float> raw =
        (logreg_test::random_matrix<float>(40, 6, gen, 1.0).array() * 127.0f + 128.0f).matrix();

    for (const double max_value : {255.0, 3.0, 1e-3}) {
        const auto pre = Preprocessor<Scalar>::unit(6, max_value);
        io::save_model(dir / "unit.safetensors", model, pre);
        const auto loaded = io::load_model<Scalar>(dir / "unit.safetensors");
        CHECK(loaded.preprocessor.kind() == Normalization::unit);
        CHECK(bitwise_equal(loaded.preprocessor.scale().data(), pre.scale().data(), 6));
        CHECK(loaded.preprocessor.offset().isZero(0));
        CHECK(loaded.preprocessor.transform(raw) == pre.transform(raw));
        CHECK_FALSE(SafetensorsFile(dir / "unit.safetensors").contains("preprocess.scale"));
    }

    io::save_model(dir / "none.safetensors", model, Preprocessor<Scalar>::identity(6));
    const auto loaded = io::load_model<Scalar>(dir / "none.safetensors");
    CHECK(loaded.preprocessor.kind() == Normalization::none);
    CHECK(loaded.preprocessor.transform(raw) == raw.template cast<Scalar>());
    // Default class names are the class indices.
    CHECK(loaded.metadata.class_names == std::vector<std::string>{"0", "1", "2"});
    CHECK(loaded.metadata.extra.empty());
    CHECK(SafetensorsFile(dir / "none.safetensors").metadata().at("class_names") == R"(["0","1","2"])");
}

TEST_CASE("an F32 model loads as double and an F64 model as float", "[safetensors]") {
    TempDir dir;
    auto [mf, pf] = random_model<float>(9, 4, 4);
    io::save_model(dir / "f32.safetensors", mf, pf);
    const auto as_double = io::load_model<double>(dir / "f32.safetensors");
    CHECK(as_double.model.weight() == mf.weight().cast<double>());
    CHECK(as_double.model.bias() == mf.bias().cast<double>());
    CHECK(as_double.preprocessor.offset() == pf.offset().cast<double>());
    CHECK(as_double.preprocessor.scale() == pf.scale().cast<double>());

    auto [md, pd] = random_model<double>(9, 4, 5);
    io::save_model(dir / "f64.safetensors", md, pd);
    const auto as_float = io::load_model<float>(dir / "f64.safetensors");
    CHECK(as_float.model.weight() == md.weight().cast<float>());
    CHECK(as_float.model.bias() == md.bias().cast<float>());
    CHECK(as_float.preprocessor.offset() == pd.offset().cast<float>());
    CHECK(as_float.preprocessor.scale() == pd.scale().cast<float>());

    // Unit scale 1/255 stored from a float model reads back as that float, widened.
    io::save_model(dir / "unit.safetensors", mf, Preprocessor<float>::unit(9));
    CHECK(io::load_model<double>(dir / "unit.safetensors").preprocessor.scale()[0] ==
          static_cast<double>(1.0f / 255.0f));
}

TEST_CASE("a plain weight/bias file without logreg metadata loads with identity preprocessing", "[safetensors]") {
    // What `safetensors.torch.save_file(nn.Linear(3, 2).state_dict(), ...)` writes.
    TempDir dir;
    HandModel h;
    h.header.erase("__metadata__");
    write_bytes(dir / "torch.safetensors", h.bytes());
    const auto m = io::load_model<double>(dir / "torch.safetensors");
    CHECK(m.model.weight()(1, 2) == 6.0);
    CHECK(m.model.bias()[1] == -0.5);
    CHECK(m.preprocessor.kind() == Normalization::none);
    CHECK(m.metadata.class_names == std::vector<std::string>{"0", "1"});
}

TEST_CASE("save_model refuses what it cannot store faithfully", "[safetensors]") {
    TempDir dir;
    const std::string path = dir / "m.safetensors";
    LinearSoftmax<float> model(4, 3, Init::uniform, 1);
    const auto pre = Preprocessor<float>::identity(4);

    check_throws<ShapeError>([&] { io::save_model(path, model, Preprocessor<float>::identity(5)); },
                             {path, "preprocessor has 5 features but the model has 4"});
    ModelMetadata names;
    names.class_names = {"a", "b"};
    check_throws<InvalidParameter>([&] { io::save_model(path, model, pre, names); }, {path, "2 class names for 3"});
    ModelMetadata reserved;
    reserved.extra["format"] = "mine";
    check_throws<InvalidParameter>([&] { io::save_model(path, model, pre, reserved); }, {path, "'format' is reserved"});
    check_throws<InvalidParameter>(
        [&] { io::save_model(path, LinearSoftmax<float>(), Preprocessor<float>::identity(0)); }, {path, "0 classes"});
    check_throws<InvalidParameter>(
        [&] {
            io::save_model(
                path, model,
                Preprocessor<float>(Normalization::unit, Vector<float>::Zero(4), Vector<float>::LinSpaced(4, 1, 2)));
        },
        {"one common scale"});
    check_throws<InvalidParameter>(
        [&] {
            io::save_model(path, model,
                           Preprocessor<float>(Normalization::none, Vector<float>::Ones(4), Vector<float>::Ones(4)));
        },
        {"normalization 'none'"});
    ModelMetadata bad_utf8;
    bad_utf8.extra["note"] = "\xff\xfe";
    check_throws<InvalidParameter>([&] { io::save_model(path, model, pre, bad_utf8); }, {"UTF-8"});
    model.weight()(2, 1) = std::numeric_limits<float>::infinity();
    check_throws<NumericalError>([&] { io::save_model(path, model, pre); }, {path, "non-finite"});
    CHECK(dir.files().empty());
}

// ---------------------------------------------------------------------------------------------
// The low-level reader and writer

TEST_CASE("SafetensorsWriter and SafetensorsFile round trip any tensors", "[safetensors]") {
    TempDir dir;
    const std::string path = dir / "mixed.safetensors";
    SafetensorsWriter w;
    const std::vector<std::uint8_t> u8 = {0, 1, 255};
    w.add("bytes", {3}, u8.data());  // laid out last (smallest element) but listed first
    const std::vector<std::int32_t> i32 = {-5, 7, std::numeric_limits<std::int32_t>::min(), 3, 2, 1};
    w.add("ints", {2, 3}, i32.data());
    RowMatrix<double> m(2, 2);
    m << 1.5, -2, 1e300, 4.9e-324;
    w.add("matrix", m);
    Eigen::MatrixXf col_major(2, 3);  // column-major storage is written in row-major order
    col_major << 1, 2, 3, 4, 5, 6;
    w.add("colmajor", col_major);
    const float scalar = 42.5f;
    w.add("scalar", {}, &scalar);
    w.add("empty", {0, 3}, static_cast<const double*>(nullptr));
    const std::vector<std::int64_t> i64 = {std::numeric_limits<std::int64_t>::min(), 1};
    w.add("i64", {2}, i64.data());
    w.add_raw("halves", "F16", {2}, {0x00, 0x3C, 0x00, 0xC0});
    w.set_metadata("who", "test");
    w.save(path);

    const SafetensorsFile f(path);
    CHECK(f.metadata() == std::map<std::string, std::string>{{"who", "test"}});
    CHECK(f.tensors().size() == 8);
    CHECK(f.values<int>("bytes") == std::vector<int>{0, 1, 255});
    CHECK(f.values<std::int32_t>("ints") == i32);
    CHECK(f.matrix<double>("matrix") == m);
    CHECK(f.matrix<float>("colmajor") == col_major);
    CHECK(f.info("colmajor").shape == std::vector<std::int64_t>{2, 3});
    CHECK(f.info("scalar").shape.empty());
    CHECK(f.values<float>("scalar") == std::vector<float>{42.5f});
    CHECK(f.info("empty").begin == f.info("empty").end);
    CHECK(f.values<double>("empty").empty());
    CHECK(f.values<std::int64_t>("i64") == i64);
    CHECK(f.vector<double>("i64")[1] == 1.0);
    const unsigned char* half = f.data("halves");
    CHECK((half[1] == 0x3C && half[3] == 0xC0));
    check_throws<FormatError>([&] { (void)f.values<float>("halves"); }, {path, "dtype F16"});
    check_throws<FormatError>([&] { (void)f.matrix<float>("bytes"); }, {path, "expected 2-D"});
    check_throws<FormatError>([&] { (void)f.info("nope"); }, {path, "no tensor 'nope'"});

    // Header padded with spaces to 8 bytes; every tensor aligned to its element size.
    const std::string text = read_text(path);
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(text[static_cast<std::size_t>(i)]);
    CHECK(n % 8 == 0);
    CHECK(text[8] == '{');
    CHECK(text[text.find_last_not_of(' ', 8 + n - 1)] == '}');
    for (const auto& [name, t] : f.tensors()) {
        INFO(name);
        CHECK(t.begin % io::dtype_size(t.dtype) == 0);
    }
    // The header lists tensors in the order added.
    CHECK(text.find("\"bytes\"") < text.find("\"ints\""));

    // The same bytes parse from memory.
    const auto mem = SafetensorsFile::from_bytes(Bytes(text.begin(), text.end()), "in-memory");
    CHECK(mem.path() == "in-memory");
    CHECK(mem.values<std::int32_t>("ints") == i32);
}

TEST_CASE("SafetensorsWriter rejects bad tensors", "[safetensors]") {
    SafetensorsWriter w;
    const float x[2] = {1, 2};
    w.add("a", {2}, x);
    check_throws<InvalidParameter>([&] { w.add("a", {2}, x); }, {"'a' added twice"});
    check_throws<InvalidParameter>([&] { w.add("__metadata__", {2}, x); }, {"__metadata__"});
    check_throws<InvalidParameter>([&] { w.add("", {2}, x); }, {"empty"});
    check_throws<InvalidParameter>([&] { w.add_raw("b", "F7", {1}, {1, 2}); }, {"unknown dtype 'F7'"});
    check_throws<InvalidParameter>([&] { w.add_raw("b", "F32", {-1}, {}); }, {"negative"});
    check_throws<ShapeError>([&] { w.add_raw("b", "F32", {2}, {1, 2, 3}); }, {"needs 8 bytes, got 3"});
}

// ---------------------------------------------------------------------------------------------
// Rejections of malformed files

TEST_CASE("load_model rejects malformed files with the path and the problem", "[safetensors]") {
    TempDir dir;
    const std::string path = dir / "bad.safetensors";
    const HandModel good;
    write_bytes(path, good.bytes());
    REQUIRE_NOTHROW(io::load_model<float>(path));

    struct Case {
        std::string name;
        std::function<Bytes()> make;
        std::string problem;
    };
    auto edit = [](std::function<void(HandModel&)> change) {
        return [change] {
            HandModel h;
            change(h);
            return h.bytes();
        };
    };
    const std::vector<Case> cases = {
        {"file shorter than 8 bytes",
         [] {
             return Bytes{1, 2, 3};
         },
         "3 bytes long, shorter than the 8-byte"},
        {"empty file", [] { return Bytes{}; }, "0 bytes long"},
        {"header length beyond the file", [] { return raw_file("{}", {}, 1000); },
         "header length 1000 is larger than the rest of the file (2 bytes)"},
        {"header length beyond the cap", [] { return raw_file("{}", {}, 200'000'000); },
         "header length 200000000 exceeds the limit"},
        {"zero header length", [] { return raw_file("", {}); }, "not a JSON object"},
        {"header not JSON", [] { return raw_file("{\"weight\": ", {}); }, "not valid JSON"},
        {"header with trailing junk", [] { return raw_file("{} x", {}); }, "not valid JSON"},
        {"header not UTF-8", [] { return raw_file("{\"w\xff\": 1}", {}); }, "not valid JSON"},
        {"header not an object", [] { return raw_file("[1, 2]", {}); }, "not a JSON object"},
        {"non-object entry", edit([](HandModel& h) { h.header["weight"] = 5; }),
         "tensor 'weight' is number, not an object"},
        {"entry without dtype", edit([](HandModel& h) { h.header["weight"].erase("dtype"); }),
         "tensor 'weight' has no 'dtype'"},
        {"unknown dtype", edit([](HandModel& h) { h.header["weight"]["dtype"] = "Q7"; }),
         "tensor 'weight' has the unknown dtype 'Q7'"},
        {"dtype not a string", edit([](HandModel& h) { h.header["weight"]["dtype"] = 32; }), "dtype is not a string"},
        {"unsupported dtype for a model", edit([](HandModel& h) { h.header["weight"]["dtype"] = "I32"; }),
         "tensor 'weight' has dtype I32; a model stores F32 or F64"},
        {"shape not a list", edit([](HandModel& h) { h.header["weight"]["shape"] = 6; }), "shape is not a list"},
        {"negative shape", edit([](HandModel& h) {
             h.header["weight"]["shape"] = {-2, -3};
         }),
         "tensor 'weight': shape is not a list of non-negative integers (element 0 is -2)"},
        {"fractional shape", edit([](HandModel& h) {
             h.header["weight"]["shape"] = {2.0, 3};
         }),
         "not a list of non-negative integers"},
        {"string shape", edit([](HandModel& h) {
             h.header["weight"]["shape"] = {"2", 3};
         }),
         "not a list of non-negative integers"},
        {"shape too large for the bytes", edit([](HandModel& h) {
             h.header["weight"]["shape"] = {2, 4};
         }),
         "shape [2, 4] of F32 needs 32 bytes but data_offsets [0, 24] hold 24"},
        {"shape overflowing 64 bits", edit([](HandModel& h) {
             h.header["weight"]["shape"] = {4294967296ull, 4294967296ull};
         }),
         "needs more than 2^64 bytes"},
        {"offsets not a pair", edit([](HandModel& h) { h.header["bias"]["data_offsets"] = {24}; }),
         "data_offsets [24] is not a pair of non-negative integers"},
        {"negative offsets", edit([](HandModel& h) {
             h.header["bias"]["data_offsets"] = {-8, 0};
         }),
         "not a pair of non-negative integers"},
        {"offsets beyond the buffer", edit([](HandModel& h) {
             h.header["bias"]["data_offsets"] = {32, 40};
         }),
         "data_offsets [32, 40] reach beyond the 32-byte data buffer"},
        {"begin after end", edit([](HandModel& h) {
             h.header["bias"]["data_offsets"] = {32, 24};
         }),
         "data_offsets [32, 24] has begin > end"},
        {"overlapping tensors", edit([](HandModel& h) {
             h.header["bias"]["data_offsets"] = {16, 24};
         }),
         "tensors 'weight' and 'bias' overlap"},
        {"bytes after the last tensor", edit([](HandModel& h) { h.buffer.resize(40); }),
         "bytes [32, 40) of the data buffer belong to no tensor"},
        {"gap between tensors", edit([](HandModel& h) {
             h.header["weight"]["data_offsets"] = {8, 32};
             h.header["bias"]["data_offsets"] = {32, 40};
             h.buffer.resize(40);
         }),
         "bytes [0, 8) of the data buffer belong to no tensor"},
        {"missing weight", edit([](HandModel& h) {
             h.header.erase("weight");
             h.header["bias"]["data_offsets"] = {0, 8};
             h.buffer.resize(8);
         }),
         "it has no tensor 'weight'"},
        {"missing bias", edit([](HandModel& h) {
             h.header.erase("bias");
             h.buffer.resize(24);
         }),
         "it has no tensor 'bias'"},
        {"bias length differs from weight rows", edit([](HandModel& h) {
             h.header["weight"]["shape"] = {3, 2};
             h.header["bias"]["shape"] = {1, 2};
         }),
         "tensor 'bias' has shape [1, 2] but 'weight' has [3, 2]; expected [3]"},
        {"weight not 2-D", edit([](HandModel& h) { h.header["weight"]["shape"] = {6}; }),
         "tensor 'weight' has shape [6]; expected [classes, features]"},
        {"a single class", edit([](HandModel& h) {
             h.header["weight"]["shape"] = {1, 6};
             h.header["bias"] = {{"dtype", "F64"}, {"shape", {1}}, {"data_offsets", {24, 32}}};
         }),
         "a model needs >= 2 classes"},
        {"metadata value not a string", edit([](HandModel& h) { h.header["__metadata__"]["epochs"] = 3; }),
         "metadata 'epochs' is number, not a string"},
        {"metadata not an object", edit([](HandModel& h) { h.header["__metadata__"] = {"format"}; }),
         "__metadata__ is not an object"},
        {"unknown format", edit([](HandModel& h) { h.header["__metadata__"]["format"] = "pickle"; }),
         "format is 'pickle'; expected 'logreg.linear_softmax'"},
        {"duplicate tensor name",
         [] {
             return raw_file(R"({"weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                             R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},)"
                             R"("weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})",
                             le_bytes<float>({1, 2, 3, 4, 5, 6, 7, 8}));
         },
         "the key 'weight' more than once"},
        {"duplicate metadata key",
         [] {
             return raw_file(R"({"__metadata__":{"format":"logreg.linear_softmax","format":"x"},)"
                             R"("weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
                             R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}})",
                             le_bytes<float>({1, 2, 3, 4, 5, 6, 7, 8}));
         },
         "the key 'format' more than once"},
        {"unexpected tensor", edit([](HandModel& h) {
             h.header["layer2.weight"] = {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {32, 36}}};
             h.buffer.resize(36);
         }),
         "unexpected tensor 'layer2.weight'"},
        {"num_classes disagrees", edit([](HandModel& h) { h.header["__metadata__"]["num_classes"] = "3"; }),
         "metadata num_classes is '3' but the tensors say 2"},
        {"num_features not a number", edit([](HandModel& h) { h.header["__metadata__"]["num_features"] = "3x"; }),
         "metadata num_features is '3x'"},
        {"unknown normalization", edit([](HandModel& h) { h.header["__metadata__"]["normalization"] = "minmax"; }),
         "normalization is 'minmax'"},
        {"unit without unit_scale", edit([](HandModel& h) { h.header["__metadata__"]["normalization"] = "unit"; }),
         "unit_scale is missing"},
        {"unit_scale not a number", edit([](HandModel& h) {
             h.header["__metadata__"]["normalization"] = "unit";
             h.header["__metadata__"]["unit_scale"] = "0.5 kg";
         }),
         "unit_scale is '0.5 kg'"},
        {"unit_scale overflowing float", edit([](HandModel& h) {
             h.header["__metadata__"]["normalization"] = "unit";
             h.header["__metadata__"]["unit_scale"] = "1e300";
         }),
         "unit_scale is '1e300'"},
        {"unit_scale with another normalization",
         edit([](HandModel& h) { h.header["__metadata__"]["unit_scale"] = "0.5"; }),
         "unit_scale but normalization is 'none'"},
        {"standard without statistics",
         edit([](HandModel& h) { h.header["__metadata__"]["normalization"] = "standard"; }),
         "no tensor 'preprocess.offset'"},
        {"statistics of the wrong length", edit([](HandModel& h) {
             h.header["__metadata__"]["normalization"] = "standard";
             h.header["preprocess.offset"] = {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {32, 40}}};
             h.header["preprocess.scale"] = {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {40, 48}}};
             h.buffer.resize(48);
         }),
         "tensor 'preprocess.offset' has shape [2]; expected [3] (the feature count)"},
        {"statistics without standard normalization", edit([](HandModel& h) {
             h.header["preprocess.offset"] = {{"dtype", "F32"}, {"shape", {3}}, {"data_offsets", {32, 44}}};
             h.buffer.resize(44);
         }),
         "preprocess.* tensors but normalization is 'none'"},
        {"class_names not JSON", edit([](HandModel& h) { h.header["__metadata__"]["class_names"] = "[a, b]"; }),
         "class_names is not valid JSON"},
        {"class_names of the wrong length",
         edit([](HandModel& h) { h.header["__metadata__"]["class_names"] = R"(["a", "b", "c"])"; }),
         "is not a list of 2 strings"},
    };
    for (const Case& c : cases) {
        INFO("case: " << c.name);
        write_bytes(path, c.make());
        check_throws<FormatError>([&] { (void)io::load_model<float>(path); }, {"'" + path + "'", c.problem});
    }
}

TEST_CASE("load_model rejects non-finite parameters naming the tensor", "[safetensors]") {
    TempDir dir;
    const std::string path = dir / "nan.safetensors";
    HandModel h;
    h.buffer = le_bytes<float>({1, 2, 3, 4, std::numeric_limits<float>::quiet_NaN(), 6, 0.5f, -0.5f});
    write_bytes(path, h.bytes());
    check_throws<NumericalError>([&] { (void)io::load_model<double>(path); }, {path, "tensor 'weight'", "element 4"});

    h.buffer = le_bytes<float>({1, 2, 3, 4, 5, 6, 0.5f, -std::numeric_limits<float>::infinity()});
    write_bytes(path, h.bytes());
    check_throws<NumericalError>([&] { (void)io::load_model<float>(path); }, {path, "tensor 'bias'", "-inf"});

    // Finite in F64 but not in float.
    h.header["bias"] = {{"dtype", "F64"}, {"shape", {2}}, {"data_offsets", {24, 40}}};
    h.buffer = le_bytes<float>({1, 2, 3, 4, 5, 6});
    const Bytes big = le_bytes<double>({1e300, 0});
    h.buffer.insert(h.buffer.end(), big.begin(), big.end());
    write_bytes(path, h.bytes());
    CHECK(io::load_model<double>(path).model.bias()[0] == 1e300);
    check_throws<NumericalError>([&] { (void)io::load_model<float>(path); }, {path, "tensor 'bias'", "as float"});
}

TEST_CASE("corrupted files raise logreg errors, never crash", "[safetensors]") {
    // Random byte changes and truncations of a valid model: each must load or throw a
    // logreg::Error (run under ASan/UBSan to make "never crash" mean something).
    TempDir dir;
    auto model_and_pre = random_model<float>(4, 3, 7);
    io::save_model(dir / "good.safetensors", model_and_pre.first, model_and_pre.second);
    const std::string good = read_text(dir / "good.safetensors");
    auto gen = logreg_test::rng(8);
    int loaded = 0, rejected = 0;
    for (int trial = 0; trial < 3000; ++trial) {
        Bytes b(good.begin(), good.end());
        std::uniform_int_distribution<std::size_t> pos(0, b.size() - 1);
        if (trial % 10 == 0) {
            b.resize(pos(gen));
        } else {
            const int flips = 1 + trial % 4;
            for (int k = 0; k < flips; ++k) b[pos(gen)] = static_cast<unsigned char>(gen());
        }
        const std::string path = dir / "mutated.safetensors";
        write_bytes(path, b);
        try {
            (void)io::load_model<double>(path);
            ++loaded;
        } catch (const Error&) {
            ++rejected;
        }
    }
    INFO(loaded << " loaded, " << rejected << " rejected");
    CHECK(rejected > 0);
    CHECK(loaded + rejected == 3000);
}

TEST_CASE("reading a missing file is an IoError, not a FormatError", "[safetensors]") {
    TempDir dir;
    const std::string path = dir / "missing.safetensors";
    try {
        (void)io::load_model<float>(path);
        FAIL("no exception");
    } catch (const FormatError&) {
        FAIL("a missing file is not a format problem");
    } catch (const IoError& e) {
        CHECK(std::string(e.what()).find(path) != std::string::npos);
        CHECK(std::string(e.what()).find("No such file") != std::string::npos);
    }
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

namespace {
struct WriterFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};
}  // namespace

TEST_CASE("write_file_atomically replaces a file only when the write completes", "[safetensors][atomic]") {
    TempDir dir;
    const std::string path = dir / "report.txt";
    io::write_file_atomically(path, [](std::ostream& out) { out << "first version\n"; });
    CHECK(read_text(path) == "first version\n");

    // The writer throws halfway, after more than one buffer's worth of output has reached the temporary.
    CHECK_THROWS_AS(io::write_file_atomically(path,
                                              [](std::ostream& out) {
                                                  out << std::string(200000, 'x');
                                                  throw WriterFailure("disk on fire");
                                              }),
                    WriterFailure);
    CHECK(read_text(path) == "first version\n");
    CHECK(dir.files() == std::vector<std::string>{"report.txt"});

    // A stream that went bad is an IoError naming the path.
    check_throws<IoError>(
        [&] { io::write_file_atomically(path, [](std::ostream& out) { out.setstate(std::ios::badbit); }); },
        {path, "writing the temporary file"});
    CHECK(read_text(path) == "first version\n");
    CHECK(dir.files() == std::vector<std::string>{"report.txt"});

    io::write_file_atomically(path, [](std::ostream& out) { out << "second"; });
    CHECK(read_text(path) == "second");
    CHECK(dir.files() == std::vector<std::string>{"report.txt"});

    // A directory is never replaced (nor is anything but a regular file): refused before writing.
    fs::create_directory(dir.path / "subdir");
    fs::create_directory(dir.path / "subdir" / "keep");
    check_throws<IoError>([&] { io::write_file_atomically(dir / "subdir", [](std::ostream& out) { out << "x"; }); },
                          {dir / "subdir", "it is a directory"});
    CHECK(fs::is_directory(dir.path / "subdir" / "keep"));
    CHECK(dir.files() == std::vector<std::string>{"report.txt", "subdir"});

    check_throws<IoError>([&] { io::write_file_atomically("", [](std::ostream&) {}); }, {"empty"});
}

#if defined(__unix__) || defined(__APPLE__)
TEST_CASE("write_file_atomically keeps the permissions of the file it replaces", "[safetensors][atomic]") {
    TempDir dir;
    const std::string path = dir / "secret.txt";
    io::write_file_atomically(path, [](std::ostream& out) { out << "1"; });
    REQUIRE(::chmod(path.c_str(), 0640) == 0);
    io::write_file_atomically(path, [](std::ostream& out) { out << "2"; });
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);
    CHECK(read_text(path) == "2");
}
#endif

TEST_CASE("save_model never leaves a truncated model or destroys the previous one", "[safetensors][atomic]") {
    TempDir dir;
    const std::string path = dir / "model.safetensors";
    const auto model_and_pre = random_model<float>(5, 3, 6);  // no structured binding: lambdas capture these
    const LinearSoftmax<float>& model = model_and_pre.first;
    const Preprocessor<float>& pre = model_and_pre.second;
    io::save_model(path, model, pre);
    const std::string before = read_text(path);

    // A failed save (here: refused parameters) leaves the old model and no temporary.
    LinearSoftmax<float> broken = model;
    broken.bias()[0] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_AS(io::save_model(path, broken, pre), NumericalError);
    CHECK(read_text(path) == before);
    CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});

    // A writer failing midway through the stream, through the same atomic path save() uses.
    SafetensorsWriter w;
    w.add("weight", model.weight());
    CHECK_THROWS_AS(io::write_file_atomically(path,
                                              [&](std::ostream& out) {
                                                  w.write(out);
                                                  throw WriterFailure("interrupted");
                                              }),
                    WriterFailure);
    CHECK(read_text(path) == before);
    CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
    CHECK(io::load_model<float>(path).model.weight() == model.weight());

    // A directory that does not exist: IoError naming the path and the reason.
    const std::string nowhere = dir / "no/such/dir/model.safetensors";
    check_throws<IoError>([&] { io::save_model(nowhere, model, pre); }, {nowhere, "No such file or directory"});
    CHECK(dir.files() == std::vector<std::string>{"model.safetensors"});
}

}  // namespace safetensors_test
