// Writes MNIST test image N as a binary PGM and as a PNG (for mnist_eval --image tests).
#include <logreg/io/mnist.hpp>
#include <logreg/io/png.hpp>

#include <fstream>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::cerr << "usage: mnist_digit_to_image INDEX OUT.pgm OUT.png  (reads $LOGREG_MNIST_DIR)\n";
        return 2;
    }
    try {
        const auto test = logreg::io::load_mnist(logreg::io::default_mnist_dir(), logreg::io::MnistSplit::test);
        const logreg::Index i = std::stol(argv[1]);
        const auto row = test.features().row(i);
        std::ofstream pgm(argv[2], std::ios::binary);
        pgm << "P5\n28 28\n255\n";
        pgm.write(reinterpret_cast<const char*>(row.data()), 784);
        const std::vector<std::uint8_t> pixels(row.data(), row.data() + 784);
        const auto png = logreg::io::encode_png(pixels.data(), 28, 28, 1);
        std::ofstream(argv[3], std::ios::binary).write(reinterpret_cast<const char*>(png.data()),
                                                       static_cast<std::streamsize>(png.size()));
        std::cout << "test image " << i << " (label " << test.labels()[i] << ") written\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "mnist_digit_to_image: " << e.what() << "\n";
        return 1;
    }
}
