// make_robustness_inputs OUT: the bad files of docs/robustness.md that the programs' tests feed to
// mnist_train and mnist_eval (the other rows use files written by examples/tools/make_bad_inputs):
//   model_5_features.safetensors   a valid model for 5 features (MNIST has 784)
//   model_nan.safetensors          a model whose weight holds a NaN
//   model_bad_offsets.safetensors  data_offsets that reach past the data buffer
//   model_escape_names.safetensors class names with terminal escape sequences (ESC, C1 CSI)
//   model_huge.safetensors         finite weights of 3e38 whose logits overflow
//   white.pgm                      a 28x28 image of 255s
//   labels_out_of_range/  overflow/  count_mismatch/  empty_images/  empty_file/
//                                  MNIST folders whose training files are broken that way
//   huge_image_gz/                 train-images-idx3-ubyte.gz claims one 46000x46000 image (2.1 GB), and
//                                  after 4 KiB of real data holds corrupt deflate data: refused from the header
//   above_limit/                   a header claiming 2 000 000 images of 28x28 (1.57 GB, over load_mnist's 1 GiB)
#include <logreg/io/safetensors.hpp>

#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using Bytes = std::vector<unsigned char>;

namespace {

void write(const fs::path& p, const Bytes& b) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
    if (!out) throw std::runtime_error("cannot write " + p.string());
}

Bytes idx(unsigned char dims, const std::vector<std::uint32_t>& sizes, std::size_t body_bytes, unsigned char fill) {
    Bytes b = {0, 0, 0x08, dims};
    for (const std::uint32_t d : sizes)
        for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(d >> s));
    b.insert(b.end(), body_bytes, fill);
    return b;
}

void mnist_folder(const fs::path& dir, const Bytes& images, const Bytes& labels,
                  const std::string& images_name = "train-images-idx3-ubyte") {
    write(dir / images_name, images);
    write(dir / "train-labels-idx1-ubyte", labels);
}

/// A gzip stream of `content`, cut after a full flush and followed by `tail` as raw bytes.
Bytes gzip_then_raw(const Bytes& content, const Bytes& tail) {
    z_stream zs{};
    if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("zlib");
    Bytes out(deflateBound(&zs, static_cast<uLong>(content.size())) + 64);
    zs.next_in = const_cast<Bytef*>(content.data());
    zs.avail_in = static_cast<uInt>(content.size());
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FULL_FLUSH) != Z_OK) throw std::runtime_error("zlib deflate");
    out.resize(zs.total_out);
    deflateEnd(&zs);
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: make_robustness_inputs OUT\n";
        return 2;
    }
    using namespace logreg;
    const fs::path out = argv[1];
    fs::create_directories(out);
    io::save_model((out / "model_5_features.safetensors").string(), LinearSoftmax<float>(5, 10, Init::uniform, 1),
                   Preprocessor<float>::unit(5));
    {
        RowMatrix<float> w = RowMatrix<float>::Zero(10, 784);
        w(3, 100) = std::numeric_limits<float>::quiet_NaN();
        io::SafetensorsWriter sw;
        sw.add("weight", w);
        sw.add("bias", Vector<float>(Vector<float>::Zero(10)));
        sw.save((out / "model_nan.safetensors").string());
    }
    {
        const std::string json = R"({"weight":{"dtype":"F32","shape":[10,784],"data_offsets":[0,31360]},)"
                                 R"("bias":{"dtype":"F32","shape":[10],"data_offsets":[31360,31400]}})";
        Bytes b(8);
        io::detail::store_le<std::uint64_t>(json.size(), b.data());
        b.insert(b.end(), json.begin(), json.end());
        b.insert(b.end(), 400, 0);  // far fewer than the 31400 bytes the offsets claim
        write(out / "model_bad_offsets.safetensors", b);
    }
    {
        io::ModelMetadata meta;
        for (int c = 0; c < 10; ++c) meta.class_names.push_back("c" + std::to_string(c));
        meta.class_names[0] = "\x1b]0;owned\x07\x1b[2J";  // retitle and clear the terminal
        meta.class_names[1] =
            "\xc2\x9b"
            "31m";  // the one-character CSI of C1, as UTF-8
        io::save_model((out / "model_escape_names.safetensors").string(), LinearSoftmax<float>(784, 10),
                       Preprocessor<float>::unit(784), meta);
        LinearSoftmax<float> huge(784, 10);
        huge.weight().setConstant(3e38f);
        huge.weight().row(1).setConstant(-3e38f);
        io::save_model((out / "model_huge.safetensors").string(), huge, Preprocessor<float>::unit(784));
        const std::string header = "P5 28 28 255\n";
        Bytes white(header.begin(), header.end());
        white.insert(white.end(), 784, 255);
        write(out / "white.pgm", white);
    }
    const Bytes one_label = idx(1, {1}, 1, 0);
    mnist_folder(out / "labels_out_of_range", idx(3, {1, 28, 28}, 784, 0), idx(1, {1}, 1, 10));
    mnist_folder(out / "overflow", idx(3, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, 0, 0), one_label);
    mnist_folder(out / "count_mismatch", idx(3, {2, 28, 28}, 2 * 784, 0), idx(1, {3}, 3, 1));
    mnist_folder(out / "empty_images", idx(3, {0, 28, 28}, 0, 0), one_label);
    mnist_folder(out / "empty_file", Bytes(), one_label);
    mnist_folder(out / "huge_image_gz", gzip_then_raw(idx(3, {1, 46000, 46000}, 4096, 0), Bytes(64, 0xff)), one_label,
                 "train-images-idx3-ubyte.gz");
    mnist_folder(out / "above_limit", idx(3, {2000000, 28, 28}, 0, 0), one_label);
    std::cout << "robustness inputs written to " << out << "\n";
    return 0;
}
