// tests/robustness/test_input_files.cpp - every reader refuses an input that is not a regular file
// (a directory, a FIFO, a device) at once, saying what it is; "No such file" only for a missing
// one; and a memory-mapped data file that shrinks during training ends it with an IoError naming
// the file, not a SIGBUS. (The SIGBUS guard itself: mapped_file_guard.cpp, a program test.)
#include "test_support.hpp"

#include <logreg/io/checkpoint.hpp>
#include <logreg/io/idx.hpp>
#include <logreg/io/mmap_idx.hpp>
#include <logreg/io/mnist.hpp>
#include <logreg/io/safetensors.hpp>
#ifdef LOGREG_HAVE_STB
#include <logreg/io/image.hpp>
#endif

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <utility>
#include <vector>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace input_files_test {

namespace fs = std::filesystem;
using namespace logreg;
using logreg_test::contains;

namespace {

/// A test that would block on a FIFO fails (SIGALRM ends the process) instead of hanging.
struct Watchdog {
    Watchdog() { ::alarm(60); }
    ~Watchdog() { ::alarm(0); }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;
};

void put_be32(std::ofstream& out, std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out.write(b, 4);
}

/// n raw 4x4 images (pixel = row index) and n labels (i % 3).
void write_idx(const std::string& images, const std::string& labels, std::uint32_t n) {
    std::ofstream img(images, std::ios::binary), lab(labels, std::ios::binary);
    put_be32(img, 0x803);
    put_be32(img, n);
    put_be32(img, 4);
    put_be32(img, 4);
    for (std::uint32_t i = 0; i < n; ++i) img << std::string(16, static_cast<char>(i % 251));
    put_be32(lab, 0x801);
    put_be32(lab, n);
    for (std::uint32_t i = 0; i < n; ++i) lab.put(static_cast<char>(i % 3));
    REQUIRE((img.good() && lab.good()));
}

/// Every reader of a file path in the library, with the other inputs it needs valid.
std::vector<std::pair<std::string, std::function<void(const std::string&)>>> readers(const logreg_test::TempDir& f) {
    const std::string images = (f / "ok-images"), labels = (f / "ok-labels");
    write_idx(images, labels, 3);
    return {
        {"read_idx_images", [](const std::string& p) { (void)io::read_idx_images(p); }},
        {"read_idx_labels", [](const std::string& p) { (void)io::read_idx_labels(p); }},
        {"read_idx", [](const std::string& p) { (void)io::read_idx(p); }},
        {"read_idx_images_info", [](const std::string& p) { (void)io::read_idx_images_info(p); }},
        {"read_idx_labels_info", [](const std::string& p) { (void)io::read_idx_labels_info(p); }},
        {"read_idx_image_rows", [](const std::string& p) { (void)io::read_idx_image_rows(p, 0, 1); }},
        {"read_idx_label_rows", [](const std::string& p) { (void)io::read_idx_label_rows(p, 0, 1); }},
        {"MmapIdxDataset (images)", [=](const std::string& p) { io::MmapIdxDataset d(p, labels, 3); }},
        {"MmapIdxDataset (labels)", [=](const std::string& p) { io::MmapIdxDataset d(images, p, 3); }},
        {"SafetensorsFile", [](const std::string& p) { io::SafetensorsFile s(p); }},
        {"load_model", [](const std::string& p) { (void)io::load_model<float>(p); }},
        {"load_checkpoint",
         [](const std::string& p) {
             Trainer<float> t(LinearSoftmax<float>(16, 3));
             (void)io::load_checkpoint(p, t);
         }},
#ifdef LOGREG_HAVE_STB
        {"read_gray_image", [](const std::string& p) { (void)io::read_gray_image(p); }},
#endif
    };
}

void check_refused(const logreg_test::TempDir& f, const std::string& path, const std::string& what) {
    for (const auto& [name, read] : readers(f)) {
        INFO(name << " on " << path);
        try {
            read(path);
            FAIL("accepted");
        } catch (const FormatError& e) {
            FAIL("a FormatError, as if the content had been read: " << e.what());
        } catch (const IoError& e) {
            CHECK_THAT(e.what(), contains(path + ": cannot open: it is " + what + ", not a regular file"));
        }
    }
}

}  // namespace

TEST_CASE("every reader refuses a FIFO at once, naming it", "[io][input-files]") {
    const Watchdog watchdog;  // before the fix, each of these blocked forever in open()
    const logreg_test::TempDir f("logreg_input_files");
    const std::string fifo = (f / "fifo");
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    check_refused(f, fifo, "a FIFO (named pipe)");

    // In the MNIST folder, under the image file's name: said so, not "not found".
    const std::string dir = (f / "mnist");
    fs::create_directory(dir);
    REQUIRE(::mkfifo((dir + "/t10k-images-idx3-ubyte").c_str(), 0600) == 0);
    write_idx((f / "unused"), dir + "/t10k-labels-idx1-ubyte", 3);
    REQUIRE_THROWS_WITH(io::load_mnist(dir, io::MnistSplit::test),
                        contains("t10k-images-idx3-ubyte: cannot open: it is a FIFO (named pipe)"));
    // A FIFO given as the MNIST folder.
    REQUIRE_THROWS_WITH(io::load_mnist(fifo, io::MnistSplit::test),
                        contains("MNIST directory '" + fifo + "' is a FIFO (named pipe), not a directory"));
}

TEST_CASE("every reader refuses a directory, saying so", "[io][input-files]") {
    const logreg_test::TempDir f("logreg_input_files");
    const std::string dir = (f / "a-folder");
    fs::create_directory(dir);
    check_refused(f, dir, "a directory");

    const std::string mnist = (f / "mnist");
    fs::create_directories(mnist + "/train-images-idx3-ubyte");
    write_idx((f / "unused"), mnist + "/train-labels-idx1-ubyte", 3);
    REQUIRE_THROWS_WITH(io::load_mnist(mnist, io::MnistSplit::train),
                        contains("train-images-idx3-ubyte: cannot open: it is a directory, not a regular file"));
}

TEST_CASE("every reader refuses a device", "[io][input-files]") {
    const Watchdog watchdog;
    const logreg_test::TempDir f("logreg_input_files");
    std::error_code ec;
    if (!fs::is_character_file("/dev/zero", ec)) {
        WARN("skipped: no /dev/zero here");
        return;
    }
    check_refused(f, "/dev/zero", "a character device");  // endless: reading it would never stop
}

TEST_CASE("a missing file is 'not found' and an unreadable one 'Permission denied'", "[io][input-files]") {
    const logreg_test::TempDir f("logreg_input_files");
    const std::string missing = (f / "missing");
    for (const auto& [name, read] : readers(f)) {
        INFO(name);
        REQUIRE_THROWS_AS(read(missing), IoError);
        REQUIRE_THROWS_WITH(read(missing), contains(missing + ": cannot open: No such file or directory"));
    }
    if (::geteuid() == 0) {
        WARN("skipped the permission check: running as root, which may read any file");
        return;
    }
    const std::string locked = (f / "locked");
    write_idx(locked, (f / "locked-labels"), 3);
    REQUIRE(::chmod(locked.c_str(), 0) == 0);
    for (const auto& [name, read] : readers(f)) {
        INFO(name);
        REQUIRE_THROWS_WITH(read(locked), contains(locked + ": cannot open: Permission denied"));
    }
}

TEST_CASE("a memory-mapped file that shrinks during training stops it with an IoError naming the file",
          "[mmap][input-files]") {
    const logreg_test::TempDir f("logreg_input_files");
    const std::string images = (f / "images-idx3-ubyte"), labels = (f / "labels-idx1-ubyte");
    write_idx(images, labels, 200);
    io::MmapIdxDataset data(images, labels, 3, 50 * 16);  // windows of 50 rows
    TrainOptions opt;
    opt.batch_size = 10;
    opt.epochs = 2;
    Trainer<float> trainer(LinearSoftmax<float>(16, 3), opt);
    int batches = 0;
    Callbacks cb;
    cb.on_batch = [&](const BatchRecord&) {
        // After the third batch, the file loses all but 10 rows (as if rewritten by another program).
        if (++batches == 3) REQUIRE(::truncate(images.c_str(), 16 + 10 * 16) == 0);
        return true;
    };
    trainer.set_callbacks(cb);
    try {
        (void)io::fit_mapped(trainer, data, Preprocessor<float>::unit(16));
        FAIL("training went on");
    } catch (const IoError& e) {
        CHECK_THAT(e.what(), contains(images + ": the file shrank to 176 bytes while memory-mapped (its header "
                                               "needs 3216)"));
    }
    CHECK(batches == 3);  // the next batch was refused before a row was copied

    // Mapping a window of the short file is refused the same way.
    REQUIRE_THROWS_WITH(data.map_window(3), contains(images + ": the file shrank"));
}

TEST_CASE("the SIGBUS guard's table finds a mapping by its address", "[mmap][input-files]") {
    static const char buffer[100] = {};
    const int slot = io::detail::guard_mapping(buffer, sizeof buffer, "some-file");
    REQUIRE(slot >= 0);
    const auto at = [](const char* p) { return io::detail::guarded_mapping_at(reinterpret_cast<std::uintptr_t>(p)); };
    CHECK(std::string(at(buffer)) == "some-file");
    CHECK(std::string(at(buffer + 99)) == "some-file");
    CHECK(at(buffer + 100) == nullptr);
    io::detail::unguard_mapping(slot);
    CHECK(at(buffer) == nullptr);
}

}  // namespace input_files_test
