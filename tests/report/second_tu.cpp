// tests/report/second_tu.cpp - a second translation unit that includes the PNG and report headers:
// stb is compiled static per unit, so linking both into one program must not clash.
#include <logreg/io/png.hpp>
#include <logreg/io/report.hpp>

#include <cstdint>
#include <vector>

namespace logreg_test {

/// PNG bytes of a 2 x 2 gray image, encoded in this translation unit.
std::vector<std::uint8_t> png_from_second_unit() {
    return logreg::io::encode_png(std::vector<std::uint8_t>{0, 85, 170, 255}, 2, 2, 1);
}

}  // namespace logreg_test
