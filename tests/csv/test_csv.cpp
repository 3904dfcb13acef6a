// The CSV reader: quoting, headers, label columns and classes, gzip, and an error naming file,
// line and column for every kind of bad table.
#include <logreg/io/csv.hpp>

#include "test_support.hpp"

#include <zlib.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace csv_test {

using logreg::io::CsvOptions;
using logreg::io::read_csv;
using logreg_test::TempDir;

std::string write_text(const TempDir& dir, const std::string& name, const std::string& text) {
    const std::string path = dir / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

/// The message of the logreg::Error that reading `text` throws ("" if none).
std::string error_of(const std::string& text, const CsvOptions& options = {}) {
    TempDir dir("logreg_csv");
    const std::string path = write_text(dir, "t.csv", text);
    try {
        (void)read_csv(path, options);
    } catch (const logreg::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace csv_test

using namespace csv_test;
using logreg_test::contains;

TEST_CASE("CSV: a header row, a label column by name, text classes in sorted order", "[csv]") {
    TempDir dir("logreg_csv");
    const std::string path = write_text(dir, "iris.csv",
                                        "sepal length,species,petal width\n"
                                        "5.1,setosa,0.2\n"
                                        "7.0,versicolor,1.4\n"
                                        "6.3,virginica,2.5\n"
                                        "4.9,setosa,0.2\n");
    CsvOptions o;
    o.label = "species";
    const auto t = read_csv(path, o);
    REQUIRE(t.data.size() == 4);
    REQUIRE(t.data.num_features() == 2);
    CHECK(t.class_names == std::vector<std::string>{"setosa", "versicolor", "virginica"});
    CHECK(t.feature_names == std::vector<std::string>{"sepal length", "petal width"});
    CHECK(t.data.labels()[0] == 0);
    CHECK(t.data.labels()[1] == 1);
    CHECK(t.data.labels()[2] == 2);
    CHECK(t.data.labels()[3] == 0);
    CHECK(t.data.features()(1, 0) == 7.0f);
    CHECK(t.data.features()(2, 1) == 2.5f);
}

TEST_CASE("CSV: numeric labels sort as numbers, and a test file takes its training file's classes", "[csv]") {
    TempDir dir("logreg_csv");
    const std::string train = write_text(dir, "train.csv", "x,y\n1,10\n2,9\n3,2\n4,10\n");
    const auto t = read_csv(train, {});
    CHECK(t.class_names == std::vector<std::string>{"2", "9", "10"});
    CHECK(t.data.labels()[0] == 2);
    CHECK(t.data.labels()[2] == 0);

    const std::string test = write_text(dir, "test.csv", "x,y\n5,9\n6,9\n");
    CsvOptions o;
    o.classes = t.class_names;
    const auto u = read_csv(test, o);
    CHECK(u.data.num_classes() == 3);  // one class present, three known
    CHECK(u.data.labels()[0] == 1);
    CHECK(u.class_names == t.class_names);
}

TEST_CASE("CSV: skipped leading lines, no header, label by index, quoting, CRLF and blank lines", "[csv]") {
    TempDir dir("logreg_csv");
    // Like scikit-learn's wine_data.csv: a count line, then rows with the label last.
    const std::string path = write_text(dir, "t.csv",
                                        "3,2,class_0,class_1\r\n"
                                        "1.5,\"2e3\",0\r\n"
                                        "\r\n"
                                        " -3 ,+4.25,1\r\n"
                                        "\"5\",6,\"0\"\r\n");
    CsvOptions o;
    o.skip_lines = 1;
    o.header = false;
    o.label = 2;
    const auto t = read_csv<double>(path, o);
    REQUIRE(t.data.size() == 3);
    CHECK(t.feature_names.empty());
    CHECK(t.data.features()(0, 1) == 2000.0);
    CHECK(t.data.features()(1, 0) == -3.0);
    CHECK(t.data.features()(1, 1) == 4.25);
    CHECK(t.data.labels()[1] == 1);

    SECTION("a quoted label holds the delimiter, a quote and a line break") {
        const std::string q = write_text(dir, "q.csv", "a,label\n1,\"x, \"\"y\"\"\nz\"\n2,plain\n");
        CsvOptions oq;
        oq.label = logreg::io::CsvColumn::parse("label");
        const auto tq = read_csv(q, oq);
        CHECK(tq.class_names == std::vector<std::string>{"plain", "x, \"y\"\nz"});
        CHECK(tq.data.labels()[0] == 1);
    }
    SECTION("a UTF-8 byte-order mark before the header row") {
        const std::string p = write_text(dir, "bom.csv", "\xEF\xBB\xBFlabel,x\na,1\nb,2\n");
        CsvOptions ob;
        ob.label = "label";
        const auto tb = read_csv(p, ob);
        CHECK(tb.feature_names == std::vector<std::string>{"x"});
        CHECK(tb.class_names == std::vector<std::string>{"a", "b"});
    }
    SECTION("a tab-separated file, label first by index, a name that is a number on the command line") {
        const std::string p = write_text(dir, "t.tsv", "y\tf1\tf2\nb\t1\t2\na\t3\t4\n");
        CsvOptions ot;
        ot.delimiter = '\t';
        ot.label = logreg::io::CsvColumn::parse("0");
        const auto tt = read_csv(p, ot);
        CHECK(tt.feature_names == std::vector<std::string>{"f1", "f2"});
        CHECK(tt.class_names == std::vector<std::string>{"a", "b"});
    }
}

TEST_CASE("CSV: a gzip-compressed file reads as the same table", "[csv]") {
    TempDir dir("logreg_csv");
    std::string text = "f0,f1,f2,label\n";
    std::mt19937_64 rng = logreg_test::rng(1601);
    std::uniform_real_distribution<float> u(-1e3f, 1e3f);
    char buf[64];
    for (int r = 0; r < 20000; ++r) {  // several 64 KiB pieces
        for (int c = 0; c < 3; ++c) {
            std::snprintf(buf, sizeof buf, "%.9g,", static_cast<double>(u(rng)));
            text += buf;
        }
        text += r % 3 == 0 ? "cat\n" : r % 3 == 1 ? "dog\n" : "bird\n";
    }
    const std::string raw = write_text(dir, "t.csv", text);
    const std::string gz = dir / "t.csv.gz";
    gzFile f = gzopen(gz.c_str(), "wb6");
    REQUIRE(f);
    REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
    gzclose(f);
    const auto a = read_csv(raw), b = read_csv(gz);
    REQUIRE(a.data.size() == 20000);
    CHECK(a.data.features() == b.data.features());
    CHECK(a.data.labels() == b.data.labels());
    CHECK(a.class_names == std::vector<std::string>{"bird", "cat", "dog"});
    // %.9g round-trips a float exactly: the values are the ones written.
    std::mt19937_64 again = logreg_test::rng(1601);
    for (int r = 0; r < 5; ++r)
        for (int c = 0; c < 3; ++c) CHECK(a.data.features()(r, c) == u(again));
}

TEST_CASE("CSV: bad tables are refused naming the file, line and column", "[csv][errors]") {
    CHECK_THAT(error_of("a,b,y\n1,2,x\n3,,x\n4,5,z\n"), contains("line 3, column 2 ('b'): missing value"));
    CHECK_THAT(error_of("a,b,y\n1,2,x\n3,abc,x\n"), contains("line 3, column 2 ('b'): 'abc' is not a number"));
    CHECK_THAT(error_of("a,b,y\n1,2,x\n3,4x,z\n"), contains("'4x' is not a number"));
    CHECK_THAT(error_of("a,b,y\n1,nan,x\n3,4,z\n"), contains("line 2, column 2 ('b'): 'nan' is not a finite number"));
    CHECK_THAT(error_of("a,b,y\n1,1e39,x\n3,4,z\n"), contains("'1e39' is out of range for float"));
    CHECK_THAT(error_of("a,b,y\n1,+-2,x\n3,4,z\n"), contains("'+-2' is not a number"));
    CHECK_THAT(error_of("a,b,y\n1,2,x\n3,4\n"), contains("line 3: 2 fields, but the first row has 3"));
    CHECK_THAT(error_of("a,b,y\n1,2,x\n3,4,z,5\n"), contains("line 3: more than the 3 fields of the first row"));
    CHECK_THAT(error_of("a,b,y\n1,2,\n3,4,z\n"), contains("line 2, column 3 ('y'): missing label"));
    CHECK_THAT(error_of("a,b,y\n1,2,x\n3,4,x\n"), contains("holds one class only ('x')"));
    CHECK_THAT(error_of("a,b,y\n1,2\"x\",x\n"), contains("line 2: "));
    CHECK_THAT(error_of("a,b,y\n1,2,\"x\n3,4,z\n"), contains("a quoted field is not closed at the end of the file"));
    CHECK_THAT(error_of(""), contains("no data rows"));
    CHECK_THAT(error_of("a,b,y\n"), contains("no data rows after the header row"));
    CHECK_THAT(error_of("justone\n1\n"), contains("a table needs a label column and at least one feature column"));

    CsvOptions named;
    named.label = "class";
    CHECK_THAT(error_of("a,b,y\n1,2,x\n", named),
               contains("no column named 'class' in the header row ('a', 'b', 'y')"));
    named.header = false;
    CHECK_THAT(error_of("1,2,x\n3,4,z\n", named), contains("is a name, but the file has no header row"));
    CsvOptions far;
    far.label = 7;
    CHECK_THAT(error_of("a,b,y\n1,2,x\n", far), contains("label column index 7 is outside the 3 columns"));
    CsvOptions fixed;
    fixed.classes = {"x", "z"};
    CHECK_THAT(error_of("a,b,y\n1,2,x\n3,4,w\n", fixed),
               contains("line 3, column 3 ('y'): label 'w' is not one of the 2 classes ('x', 'z')"));
    CsvOptions skip;
    skip.skip_lines = 5;
    CHECK_THAT(error_of("a,b,y\n1,2,x\n", skip), contains("fewer than the 5 to skip"));
    CsvOptions few;
    few.max_classes = 3;
    CHECK_THAT(error_of("a,y\n1,p\n2,q\n3,r\n4,s\n", few),
               contains("line 5, column 2 ('y'): more than 3 distinct labels"));
    CsvOptions small;
    small.max_row_bytes = 16;
    CHECK_THAT(error_of("a,y\n1,p\n2222222222222222222222,q\n", small), contains("line 3: a row longer than 16 bytes"));
    CHECK_THAT(error_of("a,y\n1,\"p\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\"\n", small),
               contains("a row longer than 16 bytes"));
    small.max_row_bytes = 1 << 20;
    small.max_bytes = 10;
    CHECK_THAT(error_of("a,y\n1,p\n2,q\n", small), contains("more than 10 bytes of text"));
    // The control bytes of a hostile value are escaped in the message.
    CHECK_THAT(error_of("a,y\n1,p\n\x1b[31m,q\n"), contains("'\\x1b[31m' is not a number"));
}

TEST_CASE("CSV: every column as a feature, for prediction", "[csv]") {
    TempDir dir("logreg_csv");
    const std::string path = write_text(dir, "x.csv", "a,b\n1,2\n3,4\n5,6\n");
    const auto f = logreg::io::read_csv_features(path);
    CHECK(f.names == std::vector<std::string>{"a", "b"});
    REQUIRE(f.features.rows() == 3);
    REQUIRE(f.features.cols() == 2);
    CHECK(f.features(2, 1) == 6.0f);
    CsvOptions no_header;
    no_header.header = false;
    const auto g = logreg::io::read_csv_features<double>(write_text(dir, "y.csv", "1\n2\n"), no_header);
    CHECK(g.features.rows() == 2);
    CHECK(g.features.cols() == 1);
    CHECK(g.names.empty());
    CsvOptions skip;
    skip.label = "species";  // left out, its text unread
    const auto h = logreg::io::read_csv_features(write_text(dir, "s.csv", "a,species,b\n1,setosa,2\n"), skip, true);
    CHECK(h.names == std::vector<std::string>{"a", "b"});
    CHECK(h.features.cols() == 2);
    CHECK(h.features(0, 1) == 2.0f);
    CHECK_THROWS_WITH(logreg::io::read_csv_features(write_text(dir, "z.csv", "a,b\n1,x\n")),
                      contains("line 2, column 2 ('b'): 'x' is not a number"));
}

TEST_CASE("CSV: bad options and files that are not there", "[csv][errors]") {
    CsvOptions o;
    o.delimiter = '"';
    CHECK_THAT(error_of("a,y\n1,p\n", o), contains("the delimiter cannot be a quote"));
    CsvOptions c;
    c.classes = {"a", "a"};
    CHECK_THAT(error_of("a,y\n1,p\n", c), contains("class 'a' is given twice"));
    TempDir dir("logreg_csv");
    CHECK_THROWS_AS(read_csv(dir / "missing.csv"), logreg::IoError);
    CHECK_THROWS_AS(read_csv(dir.path.string()), logreg::IoError);  // a directory
}
