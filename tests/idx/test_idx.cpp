// tests/idx/test_idx.cpp - the IDX reader and MNIST loader: good files, and one bad file per rejection.
#include "test_support.hpp"

#include "idx_test_files.hpp"

#include <logreg/io/idx.hpp>
#include <logreg/io/mnist.hpp>

#include <zlib.h>

#include <array>
#include <cstdlib>
#include <string>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace idx_reader_test {

using namespace idx_test;
using logreg::FormatError;
using logreg::IoError;
using logreg::io::MnistSplit;

namespace {

#ifdef LOGREG_CATCH_V3
auto has(const std::string& s) {
    return Catch::Matchers::ContainsSubstring(s);
}
auto starts(const std::string& s) {
    return Catch::Matchers::StartsWith(s);
}
#else
auto has(const std::string& s) {
    return Catch::Matchers::Contains(s);
}
auto starts(const std::string& s) {
    return Catch::Matchers::StartsWith(s);
}
#endif

/// gzip-compresses `bytes` into `path` with zlib's gz* API (appending makes a multi-member file).
void write_gz(const std::string& path, const Bytes& bytes, bool append = false) {
    gzFile f = gzopen(path.c_str(), append ? "ab9" : "wb9");
    if (!f) throw std::runtime_error("gzopen failed: " + path);
    const int n = bytes.empty() ? 0 : gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    const int rc = gzclose(f);
    if (n != static_cast<int>(bytes.size()) || rc != Z_OK) throw std::runtime_error("gzwrite failed: " + path);
}

/// gzip bytes of `bytes`, in memory.
Bytes gz_bytes(const TempDir& dir, const Bytes& bytes) {
    const std::string tmp = dir / "scratch.gz";
    write_gz(tmp, bytes);
    return read_bytes(tmp);
}

void set_env(const char* name, const char* value) {
#ifdef _WIN32
    _putenv_s(name, value ? value : "");
#else
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
#endif
}

}  // namespace

// A FormatError whose message starts with the file path and names the problem.
#define REQUIRE_FORMAT_ERROR(expr, path, problem)                \
    do {                                                         \
        REQUIRE_THROWS_AS(expr, logreg::FormatError);            \
        REQUIRE_THROWS_WITH(expr, starts(path) && has(problem)); \
    } while (false)

TEST_CASE("read_idx_images and read_idx_labels read raw files", "[idx]") {
    TempDir dir;
    const std::string img = dir / "imgs-idx3-ubyte", lab = dir / "labs-idx1-ubyte";
    write_bytes(img, idx_images(5, 3, 4));
    write_bytes(lab, idx_labels({3, 0, 9, 1, 7}));

    const logreg::RowMatrix<std::uint8_t> x = logreg::io::read_idx_images(img);
    REQUIRE(x.rows() == 5);
    REQUIRE(x.cols() == 12);
    for (logreg::Index i = 0; i < x.rows(); ++i)
        for (logreg::Index j = 0; j < x.cols(); ++j)
            CHECK(x(i, j) == pixel(static_cast<std::size_t>(i), static_cast<std::size_t>(j)));

    const logreg::LabelVector y = logreg::io::read_idx_labels(lab);
    REQUIRE(y.size() == 5);
    CHECK(y[0] == 3);
    CHECK(y[2] == 9);
    CHECK(y[4] == 7);
}

TEST_CASE("gzip is detected by content and not by file name", "[idx][gzip]") {
    TempDir dir;
    const Bytes images = idx_images(7, 5, 6);
    const std::string gz = dir / "imgs-idx3-ubyte.gz", gz_no_ext = dir / "imgs-idx3-ubyte";
    const std::string raw_named_gz = dir / "raw-idx3-ubyte.gz";
    write_gz(gz, images);
    write_gz(gz_no_ext, images);
    write_bytes(raw_named_gz, images);
    for (const std::string& path : {gz, gz_no_ext, raw_named_gz}) {
        INFO(path);
        const auto x = logreg::io::read_idx_images(path);
        REQUIRE(x.rows() == 7);
        REQUIRE(x.cols() == 30);
        CHECK(x(6, 29) == pixel(6, 29));
        CHECK(x(0, 0) == pixel(0, 0));
    }
    const std::string lab = dir / "labs.gz";
    write_gz(lab, idx_labels({1, 2, 3}));
    const auto y = logreg::io::read_idx_labels(lab, 4);
    REQUIRE(y.size() == 3);
    CHECK(y[2] == 3);
}

TEST_CASE("gzip files larger than one input buffer and multi-member gzip files are read", "[idx][gzip]") {
    TempDir dir;
    // ~600 KB of poorly compressible bytes: several 64 KiB refills of the compressed input.
    Bytes big = idx_header(0x08, {600, 32, 32});
    auto gen = logreg_test::rng(11);
    std::uniform_int_distribution<int> byte(0, 255);
    for (std::size_t i = 0; i < std::size_t{600} * 32 * 32; ++i) big.push_back(static_cast<std::uint8_t>(byte(gen)));
    const std::string path = dir / "big.gz";
    write_gz(path, big);
    const auto x = logreg::io::read_idx_images(path);
    REQUIRE(x.rows() == 600);
    CHECK(x(599, 1023) == big.back());
    CHECK(x(0, 0) == big[16]);

    // Concatenated gzip members are one valid gzip file (e.g. `cat a.gz b.gz`).
    const std::string multi = dir / "multi.gz";
    const Bytes images = idx_images(4, 2, 2);
    write_gz(multi, Bytes(images.begin(), images.begin() + 10));
    write_gz(multi, Bytes(images.begin() + 10, images.end()), true);
    const auto m = logreg::io::read_idx_images(multi);
    REQUIRE(m.rows() == 4);
    CHECK(m(3, 3) == pixel(3, 3));
}

TEST_CASE("read_idx reads any IDX type and checks the type byte", "[idx]") {
    TempDir dir;
    Bytes floats = idx_header(0x0D, {2, 3});
    for (int i = 0; i < 24; ++i) floats.push_back(static_cast<std::uint8_t>(i));
    const std::string path = dir / "floats.idx";
    write_bytes(path, floats);
    const logreg::io::IdxArray a = logreg::io::read_idx(path, 0x0D);
    REQUIRE(a.dims == std::vector<std::uint32_t>{2, 3});
    REQUIRE(a.data.size() == 24);
    CHECK(a.data[23] == 23);

    REQUIRE_FORMAT_ERROR(logreg::io::read_idx(path), path, "data type byte is 0x0d but 0x08 was expected");
    REQUIRE_THROWS_AS(logreg::io::read_idx(path, 0x42), logreg::InvalidParameter);

    // A generic array may have a zero dimension: nothing to read.
    const std::string empty = dir / "empty.idx";
    write_bytes(empty, idx_header(0x08, {0, 5}));
    CHECK(logreg::io::read_idx(empty).data.empty());
}

TEST_CASE("files that cannot be opened throw IoError", "[idx]") {
    TempDir dir;
    const std::string missing = dir / "nope-idx3-ubyte";
    REQUIRE_THROWS_AS(logreg::io::read_idx_images(missing), IoError);
    REQUIRE_THROWS_WITH(logreg::io::read_idx_images(missing), starts(missing) && has("cannot open"));
    REQUIRE_THROWS_WITH(logreg::io::read_idx_labels(dir.path.string()), has("is a directory"));
}

TEST_CASE("bad magic numbers and type bytes and dimension counts are rejected", "[idx][reject]") {
    TempDir dir;
    const std::string p = dir / "bad-idx3-ubyte";

    SECTION("wrong magic") {
        write_text(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "bad magic number 0x41424344");
    }
    SECTION("byte-swapped magic (little-endian header)") {
        Bytes b = {0x03, 0x08, 0x00, 0x00};
        for (int i = 0; i < 12 + 4; ++i) b.push_back(1);
        write_bytes(p, b);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "byte-swapped magic number 0x03080000");
    }
    SECTION("unknown type byte") {
        Bytes b = idx_images(1, 2, 2);
        b[2] = 0x07;
        write_bytes(p, b);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "unknown IDX data type byte 0x07");
    }
    SECTION("known but unexpected type byte") {
        Bytes b = idx_images(1, 2, 2);
        b[2] = 0x0C;
        write_bytes(p, b);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "data type byte is 0x0c but 0x08 was expected");
    }
    SECTION("a label file read as images") {
        write_bytes(p, idx_labels({1, 2}));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "1 dimensions but IDX images have 3");
        REQUIRE_THROWS_WITH(logreg::io::read_idx_images(p), has("label file"));
    }
    SECTION("an image file read as labels") {
        write_bytes(p, idx_images(2, 2, 2));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p), p, "3 dimensions but IDX labels have 1");
    }
    SECTION("zero dimensions") {
        write_bytes(p, {0, 0, 8, 0});
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx(p), p, "0 dimensions");
    }
}

TEST_CASE("truncated files are rejected", "[idx][reject]") {
    TempDir dir;
    const std::string p = dir / "short-idx3-ubyte";

    SECTION("empty file") {
        write_bytes(p, {});
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "the file is empty");
    }
    SECTION("shorter than the magic number") {
        write_bytes(p, {0, 0});
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "truncated IDX header");
    }
    SECTION("dimensions cut off") {
        write_bytes(p, {0, 0, 8, 3, 0, 0, 0, 5, 0, 0});
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "truncated IDX header: 3 dimensions need 16");
    }
    SECTION("body shorter than the header claims") {
        Bytes b = idx_header(0x08, {60000, 28, 28});
        b.resize(b.size() + 1234, 0);
        write_bytes(p, b);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p,
                             "header claims 60000 images of 28x28 (47040000 bytes) but the file holds 1234");
    }
    SECTION("labels body shorter than the header claims") {
        Bytes b = idx_labels({1, 2, 3, 4});
        b.pop_back();
        write_bytes(p, b);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p), p,
                             "header claims 4 labels (4 bytes) but the file holds 3");
    }
}

TEST_CASE("impossible sizes are rejected before allocating", "[idx][reject]") {
    TempDir dir;
    const std::string p = dir / "huge-idx3-ubyte";

    SECTION("a zero dimension in an image file") {
        write_bytes(p, idx_header(0x08, {5, 0, 28}));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "dimension 1 is zero");
    }
    SECTION("zero images") {
        write_bytes(p, idx_header(0x08, {0, 28, 28}));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "dimension 0 is zero");
    }
    SECTION("size product overflows 64 bits") {
        write_bytes(p, idx_header(0x08, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "overflows 64 bits");
        write_bytes(p, idx_header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0x10u}));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx(p, 0x0E), p, "overflows 64 bits");
    }
    SECTION("size above the reader's cap") {
        write_bytes(p, idx_header(0x08, {100000, 1000, 1000}));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "more than the reader's limit");
    }
    SECTION("a gzip file claiming far more than it can decompress to (gzip bomb)") {
        write_gz(p, idx_header(0x08, {60000, 28, 28}));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "1100 times the compressed file size");
    }
}

namespace {

/// A gzip file whose deflate stream holds `content`, then (after a full flush, on a byte boundary)
/// `tail` as raw bytes: with a tail of 0xff bytes, any read past `content` is corrupt deflate data.
Bytes gzip_then_raw(const Bytes& content, const Bytes& tail) {
    z_stream zs{};
    REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    Bytes out(deflateBound(&zs, static_cast<uLong>(content.size())) + 64);
    zs.next_in = const_cast<Bytef*>(content.data());
    zs.avail_in = static_cast<uInt>(content.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&zs, Z_FULL_FLUSH) == Z_OK);
    out.resize(zs.total_out);
    deflateEnd(&zs);
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

}  // namespace

TEST_CASE("a small gzip file claiming one 46000x46000 image is refused after its header", "[idx][gzip][reject]") {
    // The attack: a header promising 2.1 GB (under the 4 GiB cap) that used to be decompressed in
    // full before the MNIST loader's 28x28 check. Here the claim is followed by a little real data
    // and then corrupt deflate data, so any reader that went past the header would fail with
    // "corrupt gzip data" rather than name the 28x28 expectation.
    TempDir dir;
    const std::string img = dir / "t10k-images-idx3-ubyte.gz";
    Bytes content = idx_header(0x08, {1, 46000, 46000});
    content.insert(content.end(), std::size_t{4096}, std::uint8_t{0});
    write_bytes(img, gzip_then_raw(content, Bytes(64, std::uint8_t{0xff})));
    write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels({7}));

    REQUIRE_FORMAT_ERROR(logreg::io::load_mnist(dir.path.string(), MnistSplit::test), img,
                         "header claims 1 image of 46000x46000, but images of 28x28 are expected");
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(img, logreg::io::mnist_image_expect()), img, "28x28");

    // What was read: the 16 header bytes, no more.
    logreg::io::detail::ByteSource src(img);
    REQUIRE_THROWS_AS(logreg::io::detail::read_idx_header(src, img, logreg::io::detail::IdxKind::images, 0x08,
                                                          logreg::io::mnist_image_expect()),
                      FormatError);
    CHECK(src.content_read() == 16);
    // ...and the data behind the header is indeed corrupt: a reader that goes on finds out.
    logreg::io::detail::ByteSource again(img);
    std::vector<std::uint8_t> buffer(std::size_t{1} << 16);
    REQUIRE_THROWS_WITH(again.read(buffer.data(), buffer.size()), has("corrupt gzip data"));
}

TEST_CASE("IdxExpect: counts and image sizes and the byte limit are checked right after the header", "[idx][reject]") {
    using logreg::io::IdxExpect;
    TempDir dir;
    const std::string img = dir / "imgs-idx3-ubyte", lab = dir / "labs-idx1-ubyte";
    write_bytes(img, idx_images(3, 4, 5));
    write_bytes(lab, idx_labels({1, 2, 3}));

    IdxExpect e;
    e.count = 3;
    e.rows = 4;
    e.cols = 5;
    e.max_bytes = 60;  // exactly the body
    CHECK(logreg::io::read_idx_images(img, e).rows() == 3);
    CHECK(logreg::io::read_idx_images_info(img, e).count == 3);
    CHECK(logreg::io::read_idx_image_rows(img, 1, 2, e).rows() == 2);
    CHECK(logreg::io::read_idx(img, 0x08, e).data.size() == 60);

    IdxExpect wrong = e;
    wrong.count = 2;
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(img, wrong), img,
                         "header claims 3 images of 4x5, but 2 images are expected");
    wrong = e;
    wrong.cols = 28;
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(img, wrong), img, "images of 4x28 are expected");
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_image_rows(img, 0, 1, wrong), img, "images of 4x28 are expected");
    wrong = IdxExpect();
    wrong.rows = 28;
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images_info(img, wrong), img, "images of 28xany are expected");
    wrong = e;
    wrong.max_bytes = 59;
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(img, wrong), img,
                         "(60 bytes), more than the caller's limit of 59 bytes");
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx(img, 0x08, wrong), img, "more than the caller's limit of 59 bytes");

    // Labels: count and limit only.
    IdxExpect labels;
    labels.count = 3;
    CHECK(logreg::io::read_idx_labels(lab, 10, labels).size() == 3);
    CHECK(logreg::io::read_idx_labels_info(lab, labels).count == 3);
    CHECK(logreg::io::read_idx_label_rows(lab, 0, 2, 10, labels).size() == 2);
    labels.count = 4;
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(lab, 10, labels), lab,
                         "header claims 3 labels, but 4 labels are expected");
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_label_rows(lab, 0, 1, 10, labels), lab, "4 labels are expected");
    labels = IdxExpect();
    labels.rows = 28;
    REQUIRE_THROWS_AS(logreg::io::read_idx_labels(lab, 10, labels), logreg::InvalidParameter);
    REQUIRE_THROWS_AS(logreg::io::read_idx_labels_info(lab, labels), logreg::InvalidParameter);

    // The expectation comes before the size checks: a truncated file with the wrong shape is
    // refused for its shape, from the header alone.
    write_bytes(img, idx_header(0x08, {1, 46000, 46000}));
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(img, logreg::io::mnist_image_expect()), img,
                         "images of 28x28 are expected");
    // Raising max_bytes never lifts the reader's own 4 GiB cap.
    IdxExpect huge;
    huge.max_bytes = ~std::uint64_t{0};
    write_bytes(img, idx_header(0x08, {100000, 1000, 1000}));
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(img, huge), img, "more than the reader's limit");
}

TEST_CASE("load_mnist checks both headers and its byte limit before reading a body", "[mnist][reject]") {
    TempDir dir;
    const std::string d = dir.path.string();
    const std::string img = dir / "train-images-idx3-ubyte.gz", lab = dir / "train-labels-idx1-ubyte";
    write_gz(img, idx_images(12, 28, 28));
    write_bytes(lab, idx_labels(cyclic_labels(12)));
    CHECK(logreg::io::load_mnist(d, MnistSplit::train, 12 * 784).size() == 12);
    REQUIRE_FORMAT_ERROR(logreg::io::load_mnist(d, MnistSplit::train, 12 * 784 - 1), img,
                         "more than the caller's limit of 9407 bytes");

    // Counts that differ are found from the headers: the label body here is corrupt (labels 200),
    // which a reader of the body would report instead.
    Bytes labels = idx_labels(Bytes(11, 200));
    write_bytes(lab, labels);
    REQUIRE_THROWS_WITH(logreg::io::load_mnist(d, MnistSplit::train),
                        has(img + " holds 12 images but " + lab + " holds 11 labels"));
}

TEST_CASE("trailing data is rejected", "[idx][reject]") {
    TempDir dir;
    const std::string p = dir / "long-idx1-ubyte";
    Bytes b = idx_labels({1, 2, 3});

    SECTION("raw") {
        b.push_back(4);
        b.push_back(5);
        write_bytes(p, b);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p), p, "2 bytes of trailing data after the 3 bytes");
    }
    SECTION("gzip: decompressed content longer than the header claims") {
        b.push_back(4);
        write_gz(p, b);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p), p, "trailing data after the 3 bytes");
    }
    SECTION("gzip: non-gzip bytes after the gzip stream") {
        write_gz(p, b);
        write_bytes(p, {'j', 'u', 'n', 'k'}, true);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p), p, "trailing data after the end of the gzip stream");
    }
    SECTION("gzip: a second member adding data") {
        write_gz(p, b);
        write_gz(p, {9}, true);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p), p, "trailing data after the 3 bytes");
    }
}

TEST_CASE("an HTML page saved under the data file's name is recognised", "[idx][reject]") {
    TempDir dir;
    const std::string p = dir / "train-images-idx3-ubyte.gz";
    for (const std::string page :
         {"<!DOCTYPE html><html><body>404 Not Found</body></html>", "<html><head><title>Error</title></head>",
          "\n<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>", "<"}) {
        INFO(page);
        write_text(p, page);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "looks like an HTML page");
        // A server may also gzip its error page.
        write_gz(p, Bytes(page.begin(), page.end()));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "looks like an HTML page");
    }
}

TEST_CASE("corrupt and truncated gzip streams are rejected", "[idx][gzip][reject]") {
    TempDir dir;
    const std::string p = dir / "bad-idx3-ubyte.gz";
    const Bytes images = idx_images(50, 10, 10);
    const Bytes gz = gz_bytes(dir, images);
    REQUIRE(gz.size() > 60);

    SECTION("truncated in the middle") {
        write_bytes(p, Bytes(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2)));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "gzip stream is truncated");
    }
    SECTION("truncated inside the 8-byte trailer") {
        write_bytes(p, Bytes(gz.begin(), gz.end() - 3));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "gzip stream is truncated");
    }
    SECTION("only the gzip signature") {
        write_bytes(p, {0x1f, 0x8b});
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "gzip stream is truncated");
    }
    SECTION("corrupt deflate data") {
        Bytes bad = gz;
        for (std::size_t i = 12; i < 40; ++i) bad[i] = static_cast<std::uint8_t>(bad[i] ^ 0xA5);
        write_bytes(p, bad);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "corrupt gzip data");
    }
    SECTION("wrong CRC-32 in the trailer") {
        Bytes bad = gz;
        bad[bad.size() - 8] = static_cast<std::uint8_t>(bad[bad.size() - 8] ^ 0xFF);
        write_bytes(p, bad);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "incorrect data check");
    }
    SECTION("unknown compression method") {
        Bytes bad = gz;
        bad[2] = 7;
        write_bytes(p, bad);
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "corrupt gzip data");
    }
    SECTION("a clean gzip stream with less data than the header claims") {
        write_gz(p, Bytes(images.begin(), images.end() - 100));
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p,
                             "header claims 50 images of 10x10 (5000 bytes) but the decompressed data holds only 4900");
    }
    SECTION("a gzip'd truncated header") {
        write_gz(p, {0, 0, 8, 3, 0, 0});
        REQUIRE_FORMAT_ERROR(logreg::io::read_idx_images(p), p, "truncated IDX header");
    }
}

TEST_CASE("labels outside 0..num_classes-1 are rejected", "[idx][reject]") {
    TempDir dir;
    const std::string p = dir / "labels-idx1-ubyte";
    write_bytes(p, idx_labels({0, 9, 4, 10, 2}));
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p), p, "label 10 at index 3 is outside [0, 10)");
    write_bytes(p, idx_labels({0, 1, 2}));
    REQUIRE_FORMAT_ERROR(logreg::io::read_idx_labels(p, 2), p, "label 2 at index 2 is outside [0, 2)");
    CHECK(logreg::io::read_idx_labels(p, 3).size() == 3);
    REQUIRE_THROWS_AS(logreg::io::read_idx_labels(p, 0), logreg::InvalidParameter);
}

TEST_CASE("default_mnist_dir follows LOGREG_MNIST_DIR", "[mnist]") {
    const char* old = std::getenv("LOGREG_MNIST_DIR");
    const std::string saved = old ? old : "";
    set_env("LOGREG_MNIST_DIR", "/some/where");
    CHECK(logreg::io::default_mnist_dir() == "/some/where");
    set_env("LOGREG_MNIST_DIR", "");
    CHECK(logreg::io::default_mnist_dir() == "./data/mnist");
    set_env("LOGREG_MNIST_DIR", nullptr);
    CHECK(logreg::io::default_mnist_dir() == "./data/mnist");
    set_env("LOGREG_MNIST_DIR", old ? saved.c_str() : nullptr);
}

TEST_CASE("find_mnist_files accepts both naming conventions raw or gzip", "[mnist]") {
    TempDir dir;
    const std::string d = dir.path.string();

    // Original names, gzip'd.
    write_bytes(dir / "train-images-idx3-ubyte.gz", {});
    write_bytes(dir / "train-labels-idx1-ubyte.gz", {});
    auto f = logreg::io::find_mnist_files(d, MnistSplit::train);
    CHECK(f.images == dir / "train-images-idx3-ubyte.gz");
    CHECK(f.labels == dir / "train-labels-idx1-ubyte.gz");

    // Uncompressed wins when both exist.
    write_bytes(dir / "train-images-idx3-ubyte", {});
    f = logreg::io::find_mnist_files(d, MnistSplit::train);
    CHECK(f.images == dir / "train-images-idx3-ubyte");
    CHECK(f.labels == dir / "train-labels-idx1-ubyte.gz");

    // The dotted names of some re-distributions, raw and gzip'd.
    write_bytes(dir / "t10k-images.idx3-ubyte", {});
    write_bytes(dir / "t10k-labels.idx1-ubyte.gz", {});
    f = logreg::io::find_mnist_files(d, MnistSplit::test);
    CHECK(f.images == dir / "t10k-images.idx3-ubyte");
    CHECK(f.labels == dir / "t10k-labels.idx1-ubyte.gz");
    write_bytes(dir / "t10k-labels.idx1-ubyte", {});
    CHECK(logreg::io::find_mnist_files(d, MnistSplit::test).labels == dir / "t10k-labels.idx1-ubyte");

    // A folder with a file's name does not count.
    TempDir dir2;
    std::filesystem::create_directory(dir2.path / "t10k-images-idx3-ubyte");
    write_bytes(dir2 / "t10k-images-idx3-ubyte.gz", {});
    write_bytes(dir2 / "t10k-labels-idx1-ubyte", {});
    CHECK(logreg::io::find_mnist_files(dir2.path.string(), MnistSplit::test).images ==
          dir2 / "t10k-images-idx3-ubyte.gz");
}

TEST_CASE("missing MNIST files: the message names the folder and files and how to download", "[mnist]") {
    TempDir dir;
    const std::string d = dir.path.string();
    write_bytes(dir / "train-labels-idx1-ubyte.gz", {});
    REQUIRE_THROWS_AS(logreg::io::find_mnist_files(d, MnistSplit::train), IoError);
    REQUIRE_THROWS_WITH(logreg::io::find_mnist_files(d, MnistSplit::train),
                        has(d) && has("missing train-images-idx3-ubyte[.gz]") && !has("missing train-labels") &&
                            has("cmake -DDIR=" + d + " -P cmake/mnist_download.cmake") && has("mnist_data"));
    REQUIRE_THROWS_WITH(
        logreg::io::load_mnist(d, MnistSplit::test),
        has("missing t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]") && has("LOGREG_MNIST_DIR"));

    const std::string nowhere = dir / "no-such-folder";
    REQUIRE_THROWS_AS(logreg::io::load_mnist(nowhere, MnistSplit::train), IoError);
    REQUIRE_THROWS_WITH(logreg::io::load_mnist(nowhere, MnistSplit::train),
                        has(nowhere) && has("does not exist") && has("mnist_download.cmake"));
}

TEST_CASE("load_mnist builds a uint8 dataset and checks that the files agree", "[mnist]") {
    TempDir dir;
    const std::string d = dir.path.string();
    write_gz(dir / "train-images-idx3-ubyte.gz", idx_images(12, 28, 28));
    write_bytes(dir / "train-labels.idx1-ubyte", idx_labels(cyclic_labels(12)));

    const logreg::Dataset<std::uint8_t> train = logreg::io::load_mnist(d, MnistSplit::train);
    REQUIRE(train.size() == 12);
    REQUIRE(train.num_features() == 784);
    REQUIRE(train.num_classes() == 10);
    CHECK(train.labels()[11] == 1);
    CHECK(train.features()(11, 783) == pixel(11, 783));

    SECTION("image and label counts differ") {
        const std::string img = dir / "t10k-images-idx3-ubyte", lab = dir / "t10k-labels-idx1-ubyte";
        write_bytes(img, idx_images(5, 28, 28));
        write_bytes(lab, idx_labels(cyclic_labels(4)));
        REQUIRE_THROWS_AS(logreg::io::load_mnist(d, MnistSplit::test), FormatError);
        REQUIRE_THROWS_WITH(logreg::io::load_mnist(d, MnistSplit::test),
                            has(img + " holds 5 images") && has(lab + " holds 4 labels"));
    }
    SECTION("images that are not 28x28") {
        const std::string img = dir / "t10k-images-idx3-ubyte";
        write_bytes(img, idx_images(4, 10, 10));
        write_bytes(dir / "t10k-labels-idx1-ubyte", idx_labels(cyclic_labels(4)));
        REQUIRE_FORMAT_ERROR(logreg::io::load_mnist(d, MnistSplit::test), img, "28x28");
    }
    SECTION("a label out of range in a loaded split") {
        const std::string lab = dir / "t10k-labels-idx1-ubyte";
        write_bytes(dir / "t10k-images-idx3-ubyte", idx_images(3, 28, 28));
        write_bytes(lab, idx_labels({1, 12, 3}));
        REQUIRE_FORMAT_ERROR(logreg::io::load_mnist(d, MnistSplit::test), lab, "label 12 at index 1");
    }
}

namespace {

/// The MNIST folder (logreg_test::mnist_dir_or_skip); a relative $LOGREG_MNIST_DIR that is not a folder from
/// here is tried against the source tree too (ctest runs this test in the build tree).
std::string mnist_dir_from_env() {
    const std::string dir = logreg_test::mnist_dir_or_skip();
    if (dir.empty()) return {};
    const std::filesystem::path p(dir);
    std::error_code ec;
    if (p.is_relative() && !std::filesystem::is_directory(p, ec)) {
        const std::filesystem::path alt = std::filesystem::path(LOGREG_SOURCE_DIR) / p;
        if (std::filesystem::is_directory(alt, ec)) return alt.string();
    }
    return p.string();
}

}  // namespace

TEST_CASE("the real MNIST files", "[mnist][data]") {
    const std::string dir = mnist_dir_from_env();
    if (dir.empty()) return;  // skipped, with the reason printed
    INFO("MNIST folder: " << dir);
    const logreg::Dataset<std::uint8_t> train = logreg::io::load_mnist(dir, MnistSplit::train);
    const logreg::Dataset<std::uint8_t> test = logreg::io::load_mnist(dir, MnistSplit::test);
    REQUIRE(train.size() == 60000);
    REQUIRE(test.size() == 10000);
    REQUIRE(train.num_features() == 784);
    REQUIRE(test.num_features() == 784);
    REQUIRE(train.num_classes() == 10);

    std::array<long, 10> train_hist{}, test_hist{};
    for (logreg::Index i = 0; i < train.size(); ++i) ++train_hist[static_cast<std::size_t>(train.labels()[i])];
    for (logreg::Index i = 0; i < test.size(); ++i) ++test_hist[static_cast<std::size_t>(test.labels()[i])];
    // The well-known class counts of the official files.
    CHECK(train_hist == std::array<long, 10>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949});
    CHECK(test_hist == std::array<long, 10>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
    long train_sum = 0, test_sum = 0;
    for (long c : train_hist) train_sum += c;
    for (long c : test_hist) test_sum += c;
    CHECK(train_sum == 60000);
    CHECK(test_sum == 10000);

    CHECK(train.labels()[0] == 5);
    CHECK(test.labels()[0] == 7);
    CHECK(train.features().row(0).cast<long>().sum() == 27525);
    CHECK(test.features().row(0).cast<long>().sum() == 18454);
    CHECK(train.features().maxCoeff() == 255);
    CHECK(train.features().minCoeff() == 0);
}

}  // namespace idx_reader_test
