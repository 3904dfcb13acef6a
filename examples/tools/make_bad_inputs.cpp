// Writes broken inputs for the programs' bad-input tests into OUT:
//   truncated/  real MNIST train images cut in half (or a synthetic short file without MNIST)
//   corrupt/    train images whose magic number is wrong
//   corrupt.safetensors  a model file whose header length points past the end
//   not-an-image.png     text with a .png name
//   dir_images/  train-images-idx3-ubyte is a directory
//   fifo_images/ train-images-idx3-ubyte is a FIFO (POSIX), which a reader must refuse, not wait on
//   fifo         a FIFO, given as --model, --resume, --image or --data
// Label files are valid, so the images are what fails.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#endif

namespace fs = std::filesystem;

namespace {
void write(const fs::path& p, const std::vector<unsigned char>& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}
std::vector<unsigned char> be32(std::uint32_t v) {
    return {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
            static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
}
std::vector<unsigned char> cat(std::initializer_list<std::vector<unsigned char>> parts) {
    std::vector<unsigned char> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
/// A FIFO at `p` (replacing what is there); nothing ever writes to it.
void make_fifo(const fs::path& p) {
    fs::remove_all(p);
#if defined(__unix__) || defined(__APPLE__)
    if (::mkfifo(p.c_str(), 0600) != 0) throw std::runtime_error("cannot make the FIFO " + p.string());
#else
    throw std::runtime_error("FIFOs need POSIX");
#endif
}
}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::cerr << "usage: make_bad_inputs OUT [MNIST_DIR]  (default MNIST_DIR: $LOGREG_MNIST_DIR)\n";
        return 2;
    }
    const fs::path out = argv[1];
    fs::create_directories(out / "truncated");
    fs::create_directories(out / "corrupt");
    const std::uint32_t n = 60000;
    const auto labels = cat({be32(0x801), be32(n), std::vector<unsigned char>(n, 0)});
    write(out / "truncated" / "train-labels-idx1-ubyte", labels);
    write(out / "corrupt" / "train-labels-idx1-ubyte", labels);

    const char* env_dir = std::getenv("LOGREG_MNIST_DIR");
    const char* mnist_dir = argc > 2 ? argv[2] : (env_dir && *env_dir ? env_dir : nullptr);
    const fs::path real = mnist_dir ? fs::path(mnist_dir) / "train-images-idx3-ubyte.gz" : fs::path();
    if (!real.empty() && fs::exists(real)) {
        std::ifstream in(real, std::ios::binary);
        std::vector<unsigned char> gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        gz.resize(gz.size() / 2);
        write(out / "truncated" / "train-images-idx3-ubyte.gz", gz);
    } else {
        write(out / "truncated" / "train-images-idx3-ubyte",
              cat({be32(0x803), be32(n), be32(28), be32(28), {1, 2, 3}}));
    }
    write(out / "corrupt" / "train-images-idx3-ubyte", cat({be32(0x999), be32(1), be32(28), be32(28)}));
    // Data files that are not regular files: a directory and a FIFO under the image file's name.
    for (const char* folder : {"dir_images", "fifo_images"}) {
        fs::remove_all(out / folder);
        fs::create_directories(out / folder);
        write(out / folder / "train-labels-idx1-ubyte", labels);
    }
    fs::create_directories(out / "dir_images" / "train-images-idx3-ubyte");
    make_fifo(out / "fifo_images" / "train-images-idx3-ubyte");
    make_fifo(out / "fifo");
    // safetensors: header length 2^40, file of 12 bytes.
    write(out / "corrupt.safetensors", {0, 0, 0, 0, 0, 1, 0, 0, '{', '}', ' ', ' '});
    std::ofstream(out / "not-an-image.png") << "this is not a PNG\n";
    std::cout << "bad inputs written to " << out << "\n";
    return 0;
}
