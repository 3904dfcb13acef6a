// tests/robustness/test_outputs.cpp - the atomic writer never replaces what is not a regular file,
// writes names as long as the file system allows, and check_output_path finds output problems
// before a run starts.
#include "test_support.hpp"

#include <logreg/io/atomic_file.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace output_paths_test {

using logreg::IoError;
using logreg_test::contains;
namespace fs = std::filesystem;

namespace {

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const std::string& path, const std::string& text) {
    logreg::io::write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

}  // namespace

TEST_CASE("write_file_atomically refuses a symlink, a FIFO, a device and a directory and leaves them as they were",
          "[atomic][robustness]") {
    const logreg_test::TempDir dir("logreg_test_outputs");
    write_text(dir / "target.txt", "original");
    REQUIRE(::symlink((dir / "target.txt").c_str(), (dir / "link.txt").c_str()) == 0);
    CHECK_THROWS_WITH(write_text(dir / "link.txt", "new"),
                      contains("link.txt': it is a symbolic link; logreg replaces only regular files"));
    CHECK(fs::is_symlink(dir / "link.txt"));
    CHECK(read_text(dir / "target.txt") == "original");

    REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
    CHECK_THROWS_WITH(write_text(dir / "fifo", "new"), contains("fifo': it is a FIFO"));
    CHECK(fs::is_fifo(dir / "fifo"));

    fs::create_directory(dir / "folder");
    CHECK_THROWS_WITH(write_text(dir / "folder", "new"), contains("folder': it is a directory"));
    CHECK(fs::is_directory(dir / "folder"));

    // The check comes before any temporary file: /dev is never written to, even as root.
    CHECK_THROWS_WITH(write_text("/dev/null", "new"), contains("'/dev/null': it is a device"));
    CHECK(fs::is_character_file("/dev/null"));
    CHECK(dir.files() == std::vector<std::string>{"fifo", "folder", "link.txt", "target.txt"});
}

TEST_CASE("write_file_atomically writes a file whose name is as long as the file system allows",
          "[atomic][robustness]") {
    const logreg_test::TempDir dir("logreg_test_outputs");
    const long name_max = ::pathconf(dir.path.string().c_str(), _PC_NAME_MAX);
    REQUIRE(name_max > 20);
    for (std::size_t length : {std::size_t{250}, static_cast<std::size_t>(name_max)}) {
        CAPTURE(length);
        const std::string name(length, 'm');
        write_text(dir / name, "long");
        CHECK(read_text(dir / name) == "long");
        write_text(dir / name, "longer");  // replacing it too
        CHECK(read_text(dir / name) == "longer");
        logreg::io::check_output_path(dir / name);
        fs::remove(dir / name);
    }
    CHECK(dir.files().empty());
}

TEST_CASE("check_output_path names a missing folder, a file used as folder and a folder that refuses files",
          "[atomic][robustness]") {
    const logreg_test::TempDir dir("logreg_test_outputs");
    logreg::io::check_output_path(dir / "model.safetensors");
    CHECK(dir.files().empty());  // the probe file is gone again
    CHECK_THROWS_WITH(logreg::io::check_output_path(dir / "missing/model.safetensors"),
                      contains("missing/model.safetensors': its folder '" + (dir / "missing") + "' does not exist"));
    write_text(dir / "plain", "x");
    CHECK_THROWS_WITH(logreg::io::check_output_path(dir / "plain/model.safetensors"), contains("' is not a folder"));
    CHECK_THROWS_WITH(logreg::io::check_output_path(dir.path.string()), contains("it is a directory"));
    CHECK_THROWS_AS(logreg::io::check_output_path(""), IoError);
    // /proc refuses new files even to root.
    CHECK_THROWS_WITH(logreg::io::check_output_path("/proc/logreg-report.html"),
                      contains("creating a file in '/proc' failed"));
    REQUIRE(::symlink((dir / "plain").c_str(), (dir / "link").c_str()) == 0);
    CHECK_THROWS_WITH(logreg::io::check_output_path(dir / "link"), contains("it is a symbolic link"));
}

}  // namespace output_paths_test
