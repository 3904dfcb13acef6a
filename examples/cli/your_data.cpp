// The C++ of docs/your-data.md ("In C++"), compiled and run by the tests on scikit-learn's
// wine_data.csv:  your_data PATH/wine_data.csv MODEL_OUT
#include <logreg/io/csv.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/logreg.hpp>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: your_data wine_data.csv model.safetensors\n");
        return 2;
    }
    const std::string wine_data_csv = argv[1], model_path = argv[2];
    // ---- docs/your-data.md ----
    logreg::io::CsvOptions o;
    o.skip_lines = 1;
    o.header = false;  // label: the last column by default
    const auto table = logreg::io::read_csv(wine_data_csv, o);
    const auto parts = logreg::stratified_split(table.data, 0.0, 0.25, /*seed=*/0);

    logreg::LBFGSOptions lo;
    lo.l2 = 1.0 / static_cast<double>(parts.train.size());  // scikit-learn's C = 1
    logreg::LBFGS<float> solver(logreg::LinearSoftmax<float>(table.data.num_features(), table.data.num_classes()), lo);
    const auto fit = logreg::fit_pipeline(solver, table.data, parts.train, logreg::IndexVector(),
                                          logreg::Normalization::standard, table.class_names);
    const double accuracy = fit.pipeline.evaluate(table.data, &parts.test).accuracy;
    logreg::io::save_pipeline(model_path, fit.pipeline);
    const auto proba = fit.pipeline.predict_proba(table.data.features());  // raw rows in, rows sum to 1
    // ---- end ----
    std::printf("test accuracy %.4f, first row's probabilities sum to %.6f\n", accuracy,
                static_cast<double>(proba.row(0).sum()));
    return accuracy > 0.9 ? 0 : 1;
}
