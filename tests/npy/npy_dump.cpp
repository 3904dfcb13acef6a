// npy_dump FILE: prints the .npy array as logreg reads it (read_npy_matrix<double>), one row per
// line, values as %.17g; for numpy_written.py, which compares it with the array NumPy wrote.
#include <logreg/io/npy.hpp>

#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: npy_dump FILE.npy\n");
        return 2;
    }
    try {
        const logreg::RowMatrix<double> x = logreg::io::read_npy_matrix<double>(argv[1]);
        for (logreg::Index i = 0; i < x.rows(); ++i)
            for (logreg::Index j = 0; j < x.cols(); ++j)
                std::printf("%.17g%c", x(i, j), j + 1 == x.cols() ? '\n' : ' ');
    } catch (const logreg::Error& e) {
        std::fprintf(stderr, "npy_dump: error: %s\n", e.what());
        return 2;
    }
    return 0;
}
