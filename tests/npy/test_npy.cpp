// The .npy reader: every element type and byte order, the two table layouts, and a FormatError
// naming the file for every header or size that numpy would not write.
#include <logreg/io/npy.hpp>

#include "test_support.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace npy_test {

using logreg_test::TempDir;

/// An .npy file (version 1.0) with header dict `dict` and raw data `data`, padded as numpy pads.
std::string npy_bytes(const std::string& dict, const std::string& data, int major = 1) {
    const std::size_t prefix = major == 1 ? 10 : 12;
    std::string header = dict;
    while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string out = "\x93NUMPY";
    out += static_cast<char>(major);
    out += '\0';
    out += static_cast<char>(header.size() & 0xFF);
    out += static_cast<char>((header.size() >> 8) & 0xFF);
    if (major != 1) out += std::string(2, '\0');
    return out + header + data;
}

template <typename T>
std::string raw(const std::vector<T>& v, bool big_endian = false) {
    std::string s(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    if (big_endian)
        for (std::size_t i = 0; i < v.size(); ++i)
            std::reverse(s.begin() + static_cast<std::ptrdiff_t>(i * sizeof(T)),
                         s.begin() + static_cast<std::ptrdiff_t>((i + 1) * sizeof(T)));
    return s;
}

std::string dict(const std::string& descr, const std::string& shape) {
    return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
}

std::string write(const TempDir& dir, const std::string& name, const std::string& bytes) {
    const std::string path = dir / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

std::string matrix_error(const std::string& bytes) {
    TempDir dir("logreg_npy");
    const std::string path = write(dir, "x.npy", bytes);
    try {
        (void)logreg::io::read_npy_matrix(path);
    } catch (const logreg::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace npy_test

using namespace npy_test;
using logreg_test::contains;

TEST_CASE("npy: every element type and byte order reads as the same matrix", "[npy]") {
    TempDir dir("logreg_npy");
    const std::vector<double> want = {0, 1, 2, 3, 4, 5};
    auto check = [&](const std::string& bytes) {
        const std::string path = write(dir, "x.npy", bytes);
        const logreg::RowMatrix<double> x = logreg::io::read_npy_matrix<double>(path);
        REQUIRE(x.rows() == 2);
        REQUIRE(x.cols() == 3);
        for (int i = 0; i < 6; ++i) CHECK(x.data()[i] == want[static_cast<std::size_t>(i)]);
    };
    check(npy_bytes(dict("|u1", "(2, 3)"), raw(std::vector<std::uint8_t>{0, 1, 2, 3, 4, 5})));
    check(npy_bytes(dict("|i1", "(2, 3)"), raw(std::vector<std::int8_t>{0, 1, 2, 3, 4, 5})));
    check(npy_bytes(dict("<i2", "(2, 3)"), raw(std::vector<std::int16_t>{0, 1, 2, 3, 4, 5})));
    check(npy_bytes(dict(">u2", "(2, 3)"), raw(std::vector<std::uint16_t>{0, 1, 2, 3, 4, 5}, true)));
    check(npy_bytes(dict("<i4", "(2, 3)"), raw(std::vector<std::int32_t>{0, 1, 2, 3, 4, 5})));
    check(npy_bytes(dict(">i8", "(2, 3)"), raw(std::vector<std::int64_t>{0, 1, 2, 3, 4, 5}, true)));
    check(npy_bytes(dict("<u8", "(2, 3)"), raw(std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5})));
    check(npy_bytes(dict("<f4", "(2, 3)"), raw(std::vector<float>{0, 1, 2, 3, 4, 5})));
    check(npy_bytes(dict(">f8", "(2, 3)"), raw(want, true)));
    check(npy_bytes(dict("<f8", "(2, 3)"), raw(want), 2));  // format 2.0: a 4-byte header length
    // Keys in another order, double quotes, no trailing comma: still the dict numpy's reader accepts.
    check(npy_bytes("{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f8\"}", raw(want)));
    // Negative integers keep their sign.
    const std::string neg =
        write(dir, "n.npy", npy_bytes(dict("<i2", "(1, 2)"), raw(std::vector<std::int16_t>{-3, 7})));
    CHECK(logreg::io::read_npy_matrix<float>(neg)(0, 0) == -3.0f);
}

TEST_CASE("npy: features and labels from two files or one, with classes as in the CSV reader", "[npy]") {
    TempDir dir("logreg_npy");
    std::mt19937_64 rng = logreg_test::rng(1602);
    std::normal_distribution<float> g;
    std::vector<float> x(5 * 4);
    for (float& v : x) v = g(rng);
    const std::string xs = write(dir, "X.npy", npy_bytes(dict("<f4", "(5, 4)"), raw(x)));
    const std::string ys =
        write(dir, "y.npy", npy_bytes(dict("<i8", "(5,)"), raw(std::vector<std::int64_t>{3, 1, 3, 10, 1})));
    const auto t = logreg::io::read_npy(xs, ys);
    CHECK(t.class_names == std::vector<std::string>{"1", "3", "10"});
    CHECK(t.data.labels() == (logreg::LabelVector(5) << 1, 0, 1, 2, 0).finished());
    for (int i = 0; i < 20; ++i) CHECK(t.data.features().data()[i] == x[static_cast<std::size_t>(i)]);

    // One float64 array, np.hstack([X, y[:, None]]): the last column holds the labels.
    std::vector<double> stacked;
    for (int r = 0; r < 5; ++r) {
        for (int c = 0; c < 4; ++c) stacked.push_back(x[static_cast<std::size_t>(r * 4 + c)]);
        stacked.push_back(t.data.labels()[r] == 2 ? 10.0 : t.data.labels()[r] == 1 ? 3.0 : 1.0);
    }
    const std::string one = write(dir, "xy.npy", npy_bytes(dict("<f8", "(5, 5)"), raw(stacked)));
    const auto u = logreg::io::read_npy<float>(one, -1);
    CHECK(u.class_names == t.class_names);
    CHECK(u.data.labels() == t.data.labels());
    CHECK(u.data.features() == t.data.features());

    logreg::io::NpyOptions fixed;
    fixed.classes = {"1", "3", "10", "42"};
    CHECK(logreg::io::read_npy(xs, ys, fixed).data.num_classes() == 4);
    fixed.classes = {"1", "3"};
    CHECK_THROWS_WITH(logreg::io::read_npy(xs, ys, fixed), contains("row 3: label '10' is not one of the 2 classes"));
    CHECK_THROWS_WITH(logreg::io::read_npy<float>(one, 5), contains("label column index 5 is outside the 5 columns"));
    stacked[4] = 0.5;
    const std::string frac = write(dir, "f.npy", npy_bytes(dict("<f8", "(5, 5)"), raw(stacked)));
    CHECK_THROWS_WITH(logreg::io::read_npy<float>(frac, -1), contains("label 0.5 of row 0 is not an integer"));
    const std::string short_y =
        write(dir, "y4.npy", npy_bytes(dict("<i8", "(4,)"), raw(std::vector<std::int64_t>{0, 1, 0, 1})));
    CHECK_THROWS_WITH(logreg::io::read_npy(xs, short_y), contains("has 5 rows but"));
}

TEST_CASE("npy: headers and sizes numpy would not write are refused naming the file", "[npy][errors]") {
    const std::string six = raw(std::vector<float>{0, 1, 2, 3, 4, 5});
    CHECK_THAT(matrix_error("PK\x03\x04 a zip file, an .npz"), contains("not a .npy file"));
    CHECK_THAT(matrix_error("\x93NUM"), contains("too short"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(2, 3)"), six, 4)), contains("format version 4.0 is not read"));
    CHECK_THAT(matrix_error(npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", six)),
               contains("Fortran order"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f2", "(2, 3)"), six)), contains("element type '<f2' is not read"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<c8", "(2, 3)"), six)), contains("element type '<c8' is not read"));
    CHECK_THAT(matrix_error(npy_bytes(dict("|O", "(2, 3)"), six)), contains("not a plain number type"));
    CHECK_THAT(matrix_error(npy_bytes("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", six)),
               contains("a structured (record) array is not a plain number type"));
    CHECK_THAT(matrix_error(npy_bytes(dict("|f4", "(2, 3)"), six)), contains("has no byte order"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(2, 3)") + "{", six)),
               contains("unexpected text after the header dict"));
    CHECK_THAT(matrix_error(npy_bytes("{'descr': '<f4', 'shape': (2, 3), }", six)), contains("no 'fortran_order'"));
    CHECK_THAT(
        matrix_error(npy_bytes("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", six)),
        contains("names 'descr' twice"));
    CHECK_THAT(matrix_error(npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", six)),
               contains("unexpected key 'x'"));
    CHECK_THAT(matrix_error(npy_bytes("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}", six)),
               contains("'fortran_order' is not True or False"));
    CHECK_THAT(matrix_error(npy_bytes("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (2, 3)}", six)),
               contains("an escape or control byte"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(2, -3)"), six)), contains("expected a dimension"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(99999999999999999999, 3)"), six)), contains("overflows 64 bits"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(4294967296, 4294967296)"), six)), contains("overflows 64 bits"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(100000, 100000)"), six)), contains("(the limit, max_bytes)"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(0, 3)"), "")), contains("the array is empty (shape (0, 3))"));
    {  // a uint8 array within max_bytes whose float matrix is not
        TempDir dir("logreg_npy");
        const std::string path = write(dir, "u1.npy", npy_bytes(dict("|u1", "(4, 4)"), std::string(16, '\1')));
        CHECK_THROWS_WITH(logreg::io::read_npy_matrix<float>(path, 32), contains("as float needs more than 32 bytes"));
        CHECK(logreg::io::read_npy_matrix<float>(path, 64).rows() == 4);
    }
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(2, 4)"), six)), contains("(it is truncated)"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(2, 2)"), six)), contains("(trailing data)"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(6,)"), six)),
               contains("must be 2-D (rows, features); its shape is (6,)"));
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(2, 3)"), six).replace(10, 1, "[")), contains("expected '{'"));
    const std::string nan = raw(std::vector<float>{0, 1, 2, 3, std::numeric_limits<float>::quiet_NaN(), 5});
    CHECK_THAT(matrix_error(npy_bytes(dict("<f4", "(2, 3)"), nan)), contains("element [1, 1] is nan"));
    const std::string big = raw(std::vector<double>{0, 1, 2, 3, 1e300, 5});
    CHECK_THAT(matrix_error(npy_bytes(dict("<f8", "(2, 3)"), big)), contains("(out of range for float)"));
    std::string no_newline = npy_bytes(dict("<f4", "(2, 3)"), six);
    no_newline[no_newline.size() - six.size() - 1] = ' ';
    CHECK_THAT(matrix_error(no_newline), contains("does not end with a line feed"));
}
