// tests/idx/test_idx_nozlib.cpp - the IDX reader built without zlib: raw files work, gzip gets a clear error.
#include "test_support.hpp"

#include "idx_test_files.hpp"

#include <logreg/io/idx.hpp>

#ifdef LOGREG_HAVE_ZLIB
#error "test_idx_nozlib must be built without LOGREG_HAVE_ZLIB"
#endif

using namespace idx_test;

TEST_CASE("without zlib: raw IDX files are read", "[idx][nozlib]") {
    TempDir dir;
    const std::string p = dir / "labels-idx1-ubyte";
    write_bytes(p, idx_labels({4, 2}));
    const logreg::LabelVector y = logreg::io::read_idx_labels(p);
    REQUIRE(y.size() == 2);
    CHECK(y[0] == 4);
}

TEST_CASE("without zlib: a gzip file says that gzip support was not compiled in", "[idx][nozlib]") {
    TempDir dir;
    const std::string p = dir / "labels-idx1-ubyte.gz";
    // A gzip header (signature, deflate, no flags); detection needs only the signature.
    write_bytes(p, {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03, 0x01, 0x00, 0x00});
    REQUIRE_THROWS_AS(logreg::io::read_idx_labels(p), logreg::FormatError);
#ifdef LOGREG_CATCH_V3
    REQUIRE_THROWS_WITH(
        logreg::io::read_idx_labels(p),
        Catch::Matchers::StartsWith(p) && Catch::Matchers::ContainsSubstring("gzip support was not compiled in"));
#else
    REQUIRE_THROWS_WITH(
        logreg::io::read_idx_labels(p),
        Catch::Matchers::StartsWith(p) && Catch::Matchers::Contains("gzip support was not compiled in"));
#endif
}
