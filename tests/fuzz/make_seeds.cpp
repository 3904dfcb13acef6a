// fuzz_corpus seeds OUT: writes the seed corpora, a few small valid and invalid files per target,
// into OUT/idx, OUT/idx_gzip, OUT/safetensors and OUT/checkpoint (a few tens of KB in all).
#include "fuzz_entries.hpp"
#ifdef LOGREG_HAVE_SPNG
#include <logreg/io/png.hpp>  // encode_png: the PNG seeds
#endif

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace fuzz_seeds {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

void write(const fs::path& p, const Bytes& b) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

Bytes read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

/// An IDX file: magic (type, dims), the dimensions big-endian, then `body`.
Bytes idx(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& body) {
    Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (const std::uint32_t d : dims)
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(d >> s));
    b.insert(b.end(), body.begin(), body.end());
    return b;
}

Bytes counting(std::size_t n) {
    Bytes b(n);
    for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>(i * 7);
    return b;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: fuzz_corpus seeds OUT\n";
        return 2;
    }
    const fs::path out = argv[1];
    for (const char* t : {"idx", "idx_gzip", "safetensors", "checkpoint"}) fs::create_directories(out / t);

    // ---- IDX: the same contents raw (both targets) and gzip'd (target idx) ----
    const std::vector<std::pair<std::string, Bytes>> idx_files = {
        {"images_2x3x3", idx(0x08, {2, 3, 3}, counting(18))},
        {"labels_5", idx(0x08, {5}, {0, 1, 2, 9, 3})},
        {"int32_2x2", idx(0x0C, {2, 2}, counting(16))},
        {"double_1", idx(0x0E, {1}, counting(8))},
        {"truncated_images", idx(0x08, {4, 3, 3}, counting(20))},
        {"trailing_labels", idx(0x08, {2}, {1, 2, 3})},
        {"huge_claim", idx(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 28}, {})},
        {"bad_magic", {0x08, 0x03, 0, 0, 0, 0, 0, 1, 5}},
        {"html", {'<', 'h', 't', 'm', 'l', '>'}},
        {"mnist_image_1", idx(0x08, {1, 28, 28}, counting(784))},    // passes the MNIST loader's expectations
        {"huge_image", idx(0x08, {1, 46000, 46000}, counting(64))},  // refused by them after the header
    };
    for (const auto& [name, bytes] : idx_files) {
        write(out / "idx" / name, bytes);
        write(out / "idx_gzip" / name, bytes);
    }
    for (const std::size_t i : {std::size_t{0}, std::size_t{1}, std::size_t{4}}) {  // images, labels, truncated images
        const auto& [name, raw] = idx_files[i];
        Bytes gz = logreg_fuzz::gzip(raw.data(), raw.size());
        write(out / "idx" / (name + ".gz"), gz);
        if (name == "labels_5") {  // two gzip members back to back, and a cut stream
            const Bytes half = logreg_fuzz::gzip(raw.data(), 6);
            const Bytes rest = logreg_fuzz::gzip(raw.data() + 6, raw.size() - 6);
            Bytes two = half;
            two.insert(two.end(), rest.begin(), rest.end());
            write(out / "idx" / "labels_5_two_members.gz", two);
            gz.resize(gz.size() - 5);
            write(out / "idx" / "labels_5_cut.gz", gz);
        }
    }

    // ---- safetensors: models, a checkpoint, plain tensors, broken headers ----
    using namespace logreg;
    const fs::path tmp = out / "safetensors" / ".tmp";
    LinearSoftmax<float> model(3, 2, Init::uniform, 1);
    io::save_model(tmp.string(), model, Preprocessor<float>::unit(3));
    write(out / "safetensors" / "model_unit_f32", read(tmp));
    LinearSoftmax<double> model64(3, 2, Init::uniform, 2);
    io::save_model(tmp.string(), model64,
                   Preprocessor<double>(Normalization::standard, Vector<double>::Constant(3, 0.5),
                                        Vector<double>::Constant(3, 2.0)));
    write(out / "safetensors" / "model_standard_f64", read(tmp));
    TrainOptions topt;
    topt.sgd.momentum = 0.9;
    topt.epochs = 1;
    topt.batch_size = 2;
    Trainer<float> trainer(LinearSoftmax<float>(3, 2, Init::uniform, 3), topt);
    RowMatrix<float> x(4, 3);
    x << 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 0;
    LabelVector y(4);
    y << 0, 1, 0, 1;
    trainer.fit(Dataset<float>(x, y, 2), Preprocessor<float>::identity(3));
    io::save_checkpoint(tmp.string(), trainer, {{"note", "seed"}});
    write(out / "safetensors" / "checkpoint_3x2", read(tmp));
    io::SafetensorsWriter w;
    const std::int64_t ints[3] = {-1, 0, 1 << 20};
    w.add("ints", {3}, ints);
    const std::uint8_t bytes[4] = {1, 2, 3, 4};
    w.add("bytes", {2, 2, 1}, bytes);
    w.add_raw("half", "F16", {2}, {0, 60, 0, 188});
    w.add_raw("empty", "F32", {0, 5}, {});
    w.set_metadata("k", "v");
    w.save(tmp.string());
    write(out / "safetensors" / "tensors_mixed", read(tmp));
    auto with_header = [](const std::string& json, const Bytes& data) {
        Bytes b(8);
        logreg::io::detail::store_le<std::uint64_t>(json.size(), b.data());
        b.insert(b.end(), json.begin(), json.end());
        b.insert(b.end(), data.begin(), data.end());
        return b;
    };
    write(
        out / "safetensors" / "overlap",
        with_header(
            R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
            {1, 2, 3}));
    write(
        out / "safetensors" / "duplicate_key",
        with_header(
            R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
            {1}));
    write(out / "safetensors" / "shape_overflow",
          with_header(R"({"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", Bytes(8)));
    write(out / "safetensors" / "header_too_long", {0, 0, 0, 0, 0, 1, 0, 0, '{', '}'});
    write(out / "safetensors" / "not_json", with_header("{\"a\": [1, 2", {}));
    write(out / "safetensors" / "nested_shape", with_header(R"({"w":{"dtype":"U8","shape":)" + std::string(200, '[') +
                                                                std::string(200, ']') + R"(,"data_offsets":[0,0]}})",
                                                            {}));
    write(out / "safetensors" / "unknown_fields",
          with_header(R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"n":1,"s":"x","a":[1]}})", {7}));
    write(out / "safetensors" / "metadata_number", with_header(R"({"__metadata__":{"k":1}})", {}));

    // ---- checkpoints of every optimizer, float and double, of a 3-feature, 2-class model; broken ones ----
    const fs::path ck = out / "checkpoint";
    auto save_ck = [&](const auto& fitter, const std::string& name) {
        io::save_checkpoint(tmp.string(), fitter, {{"note", "seed"}});
        write(ck / name, read(tmp));
    };
    auto fit_trainer = [&](auto& t, auto scalar_tag) {
        using S = decltype(scalar_tag);
        RowMatrix<S> xs = x.template cast<S>();
        t.fit(Dataset<S>(xs, y, 2), Preprocessor<S>::identity(3));
    };
    save_ck(trainer, "sgd_momentum_f32");
    {
        Trainer<double> t(LinearSoftmax<double>(3, 2, Init::uniform, 4), topt);
        fit_trainer(t, double{});
        save_ck(t, "sgd_momentum_f64");
        Trainer<double> fresh(LinearSoftmax<double>(3, 2, Init::uniform, 4));
        save_ck(fresh, "sgd_fresh_f64");
    }
    {
        Trainer<float, Adam<float>> t(LinearSoftmax<float>(3, 2, Init::uniform, 5), topt);
        fit_trainer(t, float{});
        save_ck(t, "adam_f32");
        Trainer<double, AdamW<double>> tw(LinearSoftmax<double>(3, 2, Init::uniform, 6), topt);
        fit_trainer(tw, double{});
        save_ck(tw, "adamw_f64");
    }
    {
        LBFGSOptions lopt;
        lopt.max_iter = 3;
        LBFGS<float> solver(LinearSoftmax<float>(3, 2, Init::uniform, 7), lopt);
        solver.fit(Dataset<float>(x, y, 2), Preprocessor<float>::identity(3));
        save_ck(solver, "lbfgs_f32");
        LBFGS<double> solver64(LinearSoftmax<double>(3, 2, Init::uniform, 8), lopt);
        RowMatrix<double> x64 = x.cast<double>();
        solver64.fit(Dataset<double>(x64, y, 2), Preprocessor<double>::identity(3));
        save_ck(solver64, "lbfgs_f64");
    }
    {
        Trainer<float> other(LinearSoftmax<float>(4, 2, Init::uniform, 9));
        save_ck(other, "sgd_other_shape_f32");
    }
    {
        // The valid seeds must load into the fitters of the "checkpoint" target (throws otherwise).
        auto load = [&](const char* name, auto fitter) { (void)io::load_checkpoint((ck / name).string(), fitter); };
        load("sgd_momentum_f32", Trainer<float>(LinearSoftmax<float>(3, 2)));
        load("sgd_momentum_f64", Trainer<double>(LinearSoftmax<double>(3, 2)));
        load("sgd_fresh_f64", Trainer<double>(LinearSoftmax<double>(3, 2)));
        load("adam_f32", Trainer<float, Adam<float>>(LinearSoftmax<float>(3, 2)));
        load("adamw_f64", Trainer<double, AdamW<double>>(LinearSoftmax<double>(3, 2)));
        load("lbfgs_f32", LBFGS<float>(LinearSoftmax<float>(3, 2)));
        load("lbfgs_f64", LBFGS<double>(LinearSoftmax<double>(3, 2)));
    }
    write(ck / "model_not_checkpoint", read(out / "safetensors" / "model_unit_f32"));
    {
        const Bytes good = read(ck / "sgd_momentum_f32");
        std::string text(good.begin(), good.end());
        const auto rng = text.find("\"rng\":\"");
        text[rng + 7] = 'x';  // the RNG state is no longer a number
        write(ck / "bad_rng", Bytes(text.begin(), text.end()));
        write(ck / "truncated", Bytes(good.begin(), good.end() - 5));
    }
    write(ck / "nested_shape",
          with_header(R"({"__metadata__":{"format":"logreg.checkpoint"},"weight":{"dtype":"F32","shape":)" +
                          std::string(200, '[') + std::string(200, ']') + R"(,"data_offsets":[0,0]}})",
                      {}));
    fs::remove(tmp);

#ifdef LOGREG_HAVE_SPNG
    // ---- images: PNG in each of stb's channel counts, PGM binary 8/16-bit and plain; no seed is 7x3 ----
    for (const char* t : {"png", "pgm"}) fs::create_directories(out / t);
    for (int channels = 1; channels <= 4; ++channels) {
        const Bytes pixels = counting(static_cast<std::size_t>(5 * 4 * channels));
        write(out / "png" / ("counting_5x4_c" + std::to_string(channels)),
              logreg::io::encode_png(pixels.data(), 5, 4, channels));
    }
    const std::string p5 = "P5\n# seed\n4 2\n255\n";
    Bytes pgm8(p5.begin(), p5.end());
    const Bytes samples = counting(8);
    pgm8.insert(pgm8.end(), samples.begin(), samples.end());
    write(out / "pgm" / "p5_4x2", pgm8);
    const std::string p5_16 = "P5 2 2 1000\n";
    Bytes pgm16(p5_16.begin(), p5_16.end());
    pgm16.insert(pgm16.end(), {0, 0, 1, 0, 3, 0xE8, 2, 0});
    write(out / "pgm" / "p5_2x2_maxval1000", pgm16);
    for (const auto& [name, text] :
         std::vector<std::pair<std::string, std::string>>{{"p2_3x2", "P2\n3 2 # comment\n15\n0 1 2\n13 14 15\n"},
                                                          {"maxval_0", "P5 1 1 0\n\1"},
                                                          {"truncated", "P5 4 4 255\n\1\2"}})
        write(out / "pgm" / name, Bytes(text.begin(), text.end()));
#endif
    // ---- npy: every element type, both byte orders, a stacked table, labels, broken headers ----
    fs::create_directories(out / "npy");
    auto npy = [](const std::string& dict, const Bytes& body, int major = 1) {
        std::string header = dict;
        const std::size_t prefix = major == 1 ? 10 : 12;
        while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
        header += '\n';
        Bytes b = {0x93,
                   'N',
                   'U',
                   'M',
                   'P',
                   'Y',
                   static_cast<std::uint8_t>(major),
                   0,
                   static_cast<std::uint8_t>(header.size() & 0xFF),
                   static_cast<std::uint8_t>(header.size() >> 8)};
        if (major != 1) b.insert(b.end(), {0, 0});
        b.insert(b.end(), header.begin(), header.end());
        b.insert(b.end(), body.begin(), body.end());
        return b;
    };
    auto dict = [](const std::string& descr, const std::string& shape) {
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    };
    auto floats = [](const std::vector<float>& v) {
        Bytes b(v.size() * 4);
        std::memcpy(b.data(), v.data(), b.size());
        return b;
    };
    auto doubles = [](const std::vector<double>& v, bool big_endian = false) {
        Bytes b(v.size() * 8);
        std::memcpy(b.data(), v.data(), b.size());
        if (big_endian)
            for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(v.size()); ++i)
                std::reverse(b.begin() + 8 * i, b.begin() + 8 * i + 8);
        return b;
    };
    const std::vector<std::pair<std::string, Bytes>> npy_files = {
        {"f4_2x3", npy(dict("<f4", "(2, 3)"), floats({0.5f, -1, 2, 3, 4.25f, 5}))},
        {"f8_big_3x3_labels_last", npy(dict(">f8", "(3, 3)"), doubles({0.5, 1, 0, 2, 3, 1, -4, 5, 0}, true))},
        {"f8_v2_2x2", npy(dict("<f8", "(2, 2)"), doubles({1, 2, 3, 4}), 2)},
        {"u1_2x2", npy(dict("|u1", "(2, 2)"), {0, 255, 7, 9})},
        {"i8_labels_3",
         npy(dict("<i8", "(3,)"), {1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0})},
        {"i2_big_2x2", npy(dict(">i2", "(2, 2)"), {0xFF, 0xFE, 0, 3, 0, 0, 1, 0})},
        {"fortran", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }", floats({1}))},
        {"truncated", npy(dict("<f4", "(4, 4)"), floats({1, 2}))},
        {"structured", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", floats({1}))},
    };
    for (const auto& [name, file] : npy_files) write(out / "npy" / name, file);
    write(out / "npy" / "f4_2x3.gz", logreg_fuzz::gzip(npy_files[0].second.data(), npy_files[0].second.size()));

#ifdef LOGREG_HAVE_CSV
    // ---- csv: header and text labels, numbers only, quoting, CRLF, a count line, broken tables ----
    fs::create_directories(out / "csv");
    const std::vector<std::pair<std::string, std::string>> csv_files = {
        {"header_text_labels", "length,width,species\n5.1,0.2,setosa\n7,1.4,versicolor\n6.3,2.5,virginica\n"},
        {"numbers_only", "0,1.5,1\n2e2,-3,0\n+4,5,a\n"},
        {"quoted_crlf", "\"x, y\",z,\"la\"\"bel\"\r\n\"1\",2,\"a\nb\"\r\n3,4,c\r\n\r\n"},
        {"count_line_semicolons", "3;2;class_0\n1;2;0\n3;4;1\n5;6;0\n"},
        {"missing_value", "a,b,y\n1,,x\n"},
        {"ragged", "a,b,y\n1,2,x\n3,y\n"},
        {"unclosed_quote", "a,y\n1,\"x\n"},
    };
    for (const auto& [name, text] : csv_files) write(out / "csv" / name, Bytes(text.begin(), text.end()));
    const std::string& first = csv_files[0].second;
    write(out / "csv" / "header_text_labels.gz",
          logreg_fuzz::gzip(reinterpret_cast<const std::uint8_t*>(first.data()), first.size()));
#endif
    std::cout << "fuzz seeds written to " << out << "\n";
    return 0;
}

}  // namespace fuzz_seeds
