// tests/report/test_report.cpp - PNG encoding, base64, the HTML report and pick_samples().
#include "test_support.hpp"

#include <logreg/io/png.hpp>
#include <logreg/io/report.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

// The decoder is only for checking what the encoder wrote; stb is not warning-clean.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace logreg_test {
std::vector<std::uint8_t> png_from_second_unit();  // second_tu.cpp
}

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace report_test {

namespace fs = std::filesystem;
using logreg::io::ReportData;
using logreg::io::SampleImage;
using Bytes = std::vector<std::uint8_t>;

namespace {

struct Decoded {
    Bytes pixels;
    int width = 0, height = 0, channels = 0;
};

Decoded decode_png(const Bytes& png, int want_channels) {
    Decoded d;
    stbi_uc* p = stbi_load_from_memory(png.data(), static_cast<int>(png.size()), &d.width, &d.height, &d.channels,
                                       want_channels);
    REQUIRE(p != nullptr);
    d.pixels.assign(p, p + static_cast<std::size_t>(d.width) * static_cast<std::size_t>(d.height) *
                               static_cast<std::size_t>(want_channels));
    stbi_image_free(p);
    return d;
}

// An independent (slow, obvious) decoder to check base64 round trips.
Bytes base64_decode(const std::string& s) {
    const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    Bytes out;
    unsigned bits = 0, value = 0;
    for (const char c : s) {
        if (c == '=') break;
        const std::size_t v = alphabet.find(c);
        REQUIRE(v != std::string::npos);
        value = (value << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<std::uint8_t>((value >> bits) & 0xFFu));
        }
    }
    return out;
}

std::size_t count(const std::string& haystack, const std::string& needle) {
    std::size_t n = 0;
    for (std::size_t pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
    return n;
}

Bytes random_bytes(std::size_t n, std::uint64_t salt) {
    auto gen = logreg_test::rng(salt);
    std::uniform_int_distribution<int> u(0, 255);
    Bytes b(n);
    for (auto& v : b) v = static_cast<std::uint8_t>(u(gen));
    return b;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

SampleImage sample(int predicted, int truth, long long index) {
    SampleImage s;
    s.width = 6;
    s.height = 5;
    s.pixels = random_bytes(30, static_cast<std::uint64_t>(index) + 100);
    s.predicted = predicted;
    s.truth = truth;
    s.confidence = 0.75;
    s.index = index;
    return s;
}

// A small but complete report: 3 classes, 4 epochs of 5 batches, validation, 5 samples (2 wrong).
ReportData make_data() {
    ReportData d;
    d.title = "Run \"A\" & B";
    for (int i = 0; i < 20; ++i) d.batch_losses.push_back(1.2 * std::exp(-0.1 * i) + 0.05 * (i % 3));
    for (int e = 1; e <= 4; ++e) {
        logreg::EpochRecord r;
        r.epoch = e;
        r.train_loss = 1.0 / e;
        r.val_loss = 1.1 / e;
        r.val_accuracy = 0.6 + 0.08 * e;
        r.lr = 0.1;
        r.seconds = 0.25;
        d.epochs.push_back(r);
    }
    d.confusion = logreg::ConfusionMatrix(3, 3);
    d.confusion << 50, 2, 1, 3, 40, 7, 0, 4, 46;
    d.class_names = {"cat", "dog", "bird"};
    d.test_accuracy = 136.0 / 153.0;
    d.test_loss = 0.42;
    d.samples = {sample(0, 0, 0), sample(1, 1, 1), sample(2, 1, 4), sample(2, 2, 5), sample(0, 2, 9)};
    d.settings = {{"epochs", "4"}, {"learning rate", "0.1"}, {"data <dir>", "/tmp/a&b"}};
    return d;
}

std::string between(const std::string& s, const std::string& open, const std::string& close, std::size_t from = 0) {
    const std::size_t a = s.find(open, from);
    REQUIRE(a != std::string::npos);
    const std::size_t b = s.find(close, a + open.size());
    REQUIRE(b != std::string::npos);
    return s.substr(a + open.size(), b - a - open.size());
}

// Every <svg ...>...</svg> block; NaN or infinity must never reach a coordinate.
std::vector<std::string> svg_blocks(const std::string& html) {
    std::vector<std::string> out;
    for (std::size_t pos = html.find("<svg"); pos != std::string::npos; pos = html.find("<svg", pos + 1))
        out.push_back(html.substr(pos, html.find("</svg>", pos) - pos));
    return out;
}

}  // namespace

TEST_CASE("encode_png writes a PNG that decodes to the same pixels", "[report][png]") {
    for (const int channels : {1, 2, 3, 4}) {
        CAPTURE(channels);
        const int w = 13, h = 7;  // odd sizes: no accidental row padding
        const Bytes pixels =
            random_bytes(std::size_t{w} * h * static_cast<std::size_t>(channels), static_cast<std::uint64_t>(channels));
        const Bytes png = logreg::io::encode_png(pixels, w, h, channels);
        REQUIRE(png.size() > 8);
        CHECK(std::equal(std::begin(logreg::io::png_signature), std::end(logreg::io::png_signature), png.begin()));
        const Decoded d = decode_png(png, channels);
        CHECK(d.width == w);
        CHECK(d.height == h);
        CHECK(d.channels == channels);
        CHECK(d.pixels == pixels);
    }
}

TEST_CASE("png.hpp in two translation units links and encodes the same", "[report][png]") {
    const Bytes here = logreg::io::encode_png(Bytes{0, 85, 170, 255}, 2, 2, 1);
    CHECK(logreg_test::png_from_second_unit() == here);
    CHECK(decode_png(here, 1).pixels == Bytes{0, 85, 170, 255});
}

TEST_CASE("encode_png rejects inconsistent arguments", "[report][png]") {
    const Bytes pixels(12, 0);
    CHECK_THROWS_AS(logreg::io::encode_png(pixels, 4, 4, 1), logreg::ShapeError);
    CHECK_THROWS_AS(logreg::io::encode_png(pixels, 4, 3, 5), logreg::InvalidParameter);
    CHECK_THROWS_AS(logreg::io::encode_png(pixels, 0, 3, 1), logreg::InvalidParameter);
    CHECK_THROWS_AS(logreg::io::encode_png(nullptr, 4, 3, 1), logreg::InvalidParameter);
    CHECK_THROWS_WITH(logreg::io::encode_png(pixels, 4, 4, 1), logreg_test::contains("16 expected"));
}

TEST_CASE("upscale_nearest repeats every pixel factor x factor times", "[report][png]") {
    const Bytes rgb = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};  // 2 x 2 RGB
    const Bytes big = logreg::io::upscale_nearest(rgb, 2, 2, 3, 3);
    REQUIRE(big.size() == std::size_t{6} * 6 * 3);
    for (std::size_t y = 0; y < 6; ++y)
        for (std::size_t x = 0; x < 6; ++x)
            for (std::size_t k = 0; k < 3; ++k) CHECK(big[(y * 6 + x) * 3 + k] == rgb[((y / 3) * 2 + x / 3) * 3 + k]);
    CHECK(logreg::io::upscale_nearest(rgb, 2, 2, 3, 1) == rgb);
    CHECK_THROWS_AS(logreg::io::upscale_nearest(rgb, 2, 2, 3, 0), logreg::InvalidParameter);
    CHECK_THROWS_AS(logreg::io::upscale_nearest(rgb, 3, 2, 3, 2), logreg::ShapeError);
}

TEST_CASE("base64 matches the RFC 4648 test vectors", "[report][base64]") {
    using logreg::io::base64_encode;
    CHECK(base64_encode(std::string()) == "");
    CHECK(base64_encode(std::string("f")) == "Zg==");
    CHECK(base64_encode(std::string("fo")) == "Zm8=");
    CHECK(base64_encode(std::string("foo")) == "Zm9v");
    CHECK(base64_encode(std::string("foob")) == "Zm9vYg==");
    CHECK(base64_encode(std::string("fooba")) == "Zm9vYmE=");
    CHECK(base64_encode(std::string("foobar")) == "Zm9vYmFy");
    // High bytes use the last two letters of the alphabet.
    CHECK(base64_encode(Bytes{0xFB, 0xFF, 0xBF}) == "+/+/");
    CHECK(base64_encode(Bytes{0x00, 0x00, 0x00, 0xFF}) == "AAAA/w==");
    for (const std::size_t n : {1u, 2u, 3u, 100u, 1001u}) {
        const Bytes b = random_bytes(n, n);
        const std::string s = base64_encode(b);
        CHECK(s.size() == (n + 2) / 3 * 4);
        CHECK(base64_decode(s) == b);
    }
    CHECK(logreg::io::png_data_uri(Bytes{'f', 'o', 'o'}) == "data:image/png;base64,Zm9v");
}

TEST_CASE("the report has every section, plots, one image per sample and marks the wrong ones", "[report][html]") {
    const ReportData d = make_data();
    const std::string html = logreg::io::render_html_report(d);
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    for (const char* id : {"id=\"summary\"", "id=\"settings\"", "id=\"loss\"", "id=\"accuracy\"", "id=\"samples\"",
                           "id=\"confusion\""}) {
        CAPTURE(id);
        CHECK(count(html, id) == 1);
    }
    CHECK(count(html, "<svg") == 2);
    CHECK(count(html, "<img ") == d.samples.size());
    CHECK(count(html, "src=\"data:image/png;base64,") == d.samples.size());
    CHECK(count(html, "class=\"sample wrong\"") == 2);
    CHECK(count(html, "class=\"sample right\"") == 3);
    CHECK(count(html, "&#10007;") == 2);              // a visible cross besides the red frame
    CHECK(html.find("88.89%") != std::string::npos);  // test accuracy 136 / 153
    CHECK(html.find("Run &quot;A&quot; &amp; B") != std::string::npos);
    CHECK(html.find("data &lt;dir&gt;") != std::string::npos);
    CHECK(html.find("/tmp/a&amp;b") != std::string::npos);
    // Confusion matrix: 9 count cells plus the per-class table.
    CHECK(count(between(html, "<table class=\"cm\">", "</table>"), "<td ") == 9);
    CHECK(html.find(">cat</th>") != std::string::npos);
    // Self-contained: nothing that could fetch a resource.
    for (const char* external : {"http:", "https:", "<script", "<link", "url(", "@import", "<iframe"}) {
        CAPTURE(external);
        CHECK(html.find(external) == std::string::npos);
    }
    for (const std::string& svg : svg_blocks(html)) {
        CHECK(svg.find("nan") == std::string::npos);
        CHECK(svg.find("inf") == std::string::npos);
        CHECK(svg.find("<path d=\"M") != std::string::npos);
        CHECK(svg.find("class=\"legend\"") != std::string::npos);
    }
    // Deterministic: the same data gives the same page.
    CHECK(logreg::io::render_html_report(d) == html);
}

TEST_CASE("the report's images decode to the enlarged sample pixels", "[report][html][png]") {
    ReportData d = make_data();
    d.image_scale = 4;
    const std::string html = logreg::io::render_html_report(d);
    const Bytes png = base64_decode(between(html, "src=\"data:image/png;base64,", "\""));
    const Decoded img = decode_png(png, 1);
    CHECK(img.width == 6 * 4);
    CHECK(img.height == 5 * 4);
    CHECK(img.pixels == logreg::io::upscale_nearest(d.samples[0].pixels, 6, 5, 1, 4));
    CHECK(html.find("width=\"24\" height=\"20\"") != std::string::npos);
}

TEST_CASE("class names and settings are escaped", "[report][html]") {
    ReportData d = make_data();
    d.class_names[1] = "<script>alert('x')</script>";
    d.settings["<b>key</b>"] = "\"quoted\" & <i>value</i>";
    const std::string html = logreg::io::render_html_report(d);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<b>") == std::string::npos);
    CHECK(html.find("<i>") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;") != std::string::npos);
    CHECK(html.find("&quot;quoted&quot; &amp; &lt;i&gt;value&lt;/i&gt;") != std::string::npos);
}

TEST_CASE("the report copes with one epoch, no validation, a diverged run and no data", "[report][html]") {
    SECTION("one epoch without validation") {
        ReportData d = make_data();
        d.epochs.resize(1);
        d.epochs[0].val_loss = std::numeric_limits<double>::quiet_NaN();
        d.epochs[0].val_accuracy = std::numeric_limits<double>::quiet_NaN();
        d.batch_losses.resize(5);
        const std::string html = logreg::io::render_html_report(d);
        CHECK(count(html, "<svg") == 1);  // loss only
        CHECK(html.find("No validation data") != std::string::npos);
        for (const std::string& svg : svg_blocks(html)) CHECK(svg.find("nan") == std::string::npos);
        CHECK(html.find(">n/a<") != std::string::npos);  // the epoch table's validation columns
    }
    SECTION("one epoch with validation") {
        ReportData d = make_data();
        d.epochs.resize(1);
        d.batch_losses.resize(5);
        const std::string html = logreg::io::render_html_report(d);
        CHECK(count(html, "<svg") == 2);
        for (const std::string& svg : svg_blocks(html)) CHECK(svg.find("nan") == std::string::npos);
    }
    SECTION("diverged: a non-finite last batch and a partial epoch") {
        ReportData d = make_data();
        d.batch_losses.push_back(3.0);
        d.batch_losses.push_back(std::numeric_limits<double>::infinity());
        d.batch_losses.push_back(std::numeric_limits<double>::quiet_NaN());
        d.epochs[2].val_loss = std::numeric_limits<double>::quiet_NaN();
        const std::string html = logreg::io::render_html_report(d);
        for (const std::string& svg : svg_blocks(html)) {
            CHECK(svg.find("nan") == std::string::npos);
            CHECK(svg.find("inf") == std::string::npos);
        }
    }
    SECTION("many batches are thinned out but keep their extremes") {
        ReportData d = make_data();
        d.batch_losses.assign(40000, 0.5);
        d.batch_losses[12345] = 7.0;
        const std::string html = logreg::io::render_html_report(d);
        CHECK(html.size() < 200000);
    }
    SECTION("a zero loss falls back to a linear axis") {
        ReportData d = make_data();
        d.batch_losses.back() = 0.0;
        const std::string html = logreg::io::render_html_report(d);
        CHECK(html.find("(log scale)") == std::string::npos);
        for (const std::string& svg : svg_blocks(html)) CHECK(svg.find("nan") == std::string::npos);
    }
    SECTION("nothing at all") {
        const std::string html = logreg::io::render_html_report(ReportData{});
        CHECK(count(html, "<svg") == 0);
        CHECK(count(html, "<img") == 0);
        CHECK(html.find("No sample images") != std::string::npos);
        CHECK(html.find("No confusion matrix") != std::string::npos);
    }
}

TEST_CASE("the loss curve is a standalone SVG of the report's loss plot", "[report][svg]") {
    const ReportData d = make_data();
    const std::string svg = logreg::io::loss_curve_svg(d);
    CHECK(svg.rfind("<?xml", 0) == 0);
    CHECK(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\"") != std::string::npos);
    CHECK(svg.find("<style>") != std::string::npos);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
    // The same plot as in the page: its paths and circles, no NaN or infinity in a coordinate.
    const std::string page = logreg::io::render_html_report(d);
    const std::string page_plot = svg_blocks(page).front();
    const std::string own_plot = svg.substr(svg.find("<rect width"));
    CHECK(own_plot.find(page_plot.substr(page_plot.find("<rect x"))) != std::string::npos);
    CHECK(svg.find("nan") == std::string::npos);
    CHECK(svg.find("inf") == std::string::npos);

    ReportData empty;
    CHECK_THROWS_AS(logreg::io::loss_curve_svg(empty), logreg::InvalidParameter);

    const logreg_test::TempDir dir("logreg_test_report");
    const fs::path path = dir.path / "loss.svg";
    logreg::io::write_loss_curve_svg(path.string(), d);
    CHECK(read_file(path) == svg);
}

TEST_CASE("inconsistent report data is rejected before anything is written", "[report][html]") {
    ReportData d = make_data();
    SECTION("class names") {
        d.class_names.pop_back();
        CHECK_THROWS_AS(logreg::io::render_html_report(d), logreg::ShapeError);
    }
    SECTION("confusion matrix") {
        d.confusion = logreg::ConfusionMatrix::Zero(3, 2);
        CHECK_THROWS_AS(logreg::io::render_html_report(d), logreg::ShapeError);
    }
    SECTION("sample size") {
        d.samples[3].pixels.pop_back();
        CHECK_THROWS_WITH(logreg::io::render_html_report(d), logreg_test::contains("sample 3"));
    }
    SECTION("image scale") {
        d.image_scale = 0;
        CHECK_THROWS_AS(logreg::io::render_html_report(d), logreg::InvalidParameter);
    }
}

TEST_CASE("write_html_report writes the page atomically", "[report][file]") {
    const logreg_test::TempDir dir("logreg_test_report");
    const ReportData d = make_data();
    const fs::path path = dir.path / "report.html";
    {
        std::ofstream old(path);
        old << "old report";
    }
    logreg::io::write_html_report(path.string(), d);
    CHECK(read_file(path) == logreg::io::render_html_report(d));
    CHECK(dir.files() == std::vector<std::string>{"report.html"});  // no temporary left over

    SECTION("into a missing directory: IoError naming the path, nothing left behind") {
        const fs::path bad = dir.path / "no-such-dir" / "report.html";
        CHECK_THROWS_AS(logreg::io::write_html_report(bad.string(), d), logreg::IoError);
        CHECK_THROWS_WITH(logreg::io::write_html_report(bad.string(), d), logreg_test::contains(bad.string()));
        CHECK_FALSE(fs::exists(dir.path / "no-such-dir"));
        CHECK(dir.files() == std::vector<std::string>{"report.html"});
    }
    SECTION("bad data: the old file stays") {
        ReportData broken = d;
        broken.image_scale = 99;
        const std::string before = read_file(path);
        CHECK_THROWS_AS(logreg::io::write_html_report(path.string(), broken), logreg::InvalidParameter);
        CHECK(read_file(path) == before);
        CHECK(dir.files() == std::vector<std::string>{"report.html"});
    }
}

TEST_CASE("pick_samples takes the first correct and the first misclassified rows", "[report][samples]") {
    const int w = 4, h = 3, n = 60;
    logreg::RowMatrix<std::uint8_t> images(n, w * h);
    logreg::LabelVector truth(n), predicted(n);
    logreg::RowMatrix<float> proba = logreg::RowMatrix<float>::Constant(n, 3, 0.25f);
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < w * h; ++j) images(i, j) = static_cast<std::uint8_t>(i + j);
        truth[i] = i % 3;
        predicted[i] = i % 7 == 3 ? (i + 1) % 3 : i % 3;  // rows 3, 10, 17, ... are wrong
        proba(i, predicted[i]) = 0.5f;
    }
    const auto picked = logreg::io::pick_samples(images, w, h, truth, predicted, proba, 5, 4);
    REQUIRE(picked.size() == 9);
    std::vector<long long> correct, wrong;
    for (const SampleImage& s : picked) {
        (s.correct() ? correct : wrong).push_back(s.index);
        CHECK(s.width == w);
        CHECK(s.height == h);
        CHECK(s.channels == 1);
        CHECK(s.pixels.size() == static_cast<std::size_t>(w * h));
        CHECK(s.pixels[1] == static_cast<std::uint8_t>(s.index + 1));
        CHECK(s.confidence == Approx(0.5));
        CHECK(s.truth == truth[static_cast<logreg::Index>(s.index)]);
    }
    CHECK(correct == std::vector<long long>{0, 1, 2, 4, 5});
    CHECK(wrong == std::vector<long long>{3, 10, 17, 24});
    CHECK(std::is_sorted(picked.begin(), picked.end(),
                         [](const SampleImage& a, const SampleImage& b) { return a.index < b.index; }));

    const auto no_proba = logreg::io::pick_samples(images, w, h, truth, predicted, 2, 100);
    CHECK(no_proba.size() == 2 + 9);  // only 9 misclassified rows exist
    CHECK(std::isnan(no_proba.front().confidence));

    CHECK_THROWS_AS(logreg::io::pick_samples(images, 5, 3, truth, predicted), logreg::ShapeError);
    CHECK_THROWS_AS(logreg::io::pick_samples(images, w, h, truth.head(10), predicted), logreg::ShapeError);
    CHECK_THROWS_AS(logreg::io::pick_samples(images, w, h, truth, predicted, proba.topRows(3)), logreg::ShapeError);
}

}  // namespace report_test
