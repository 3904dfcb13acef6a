// Uses the library as a downstream user would: the umbrella header only.
#include <logreg/logreg.hpp>

#include <iostream>

int main() {
    using namespace logreg;
    RowMatrix<double> x(4, 2);
    x << 0, 0, 0, 1, 1, 0, 1, 1;
    LabelVector y(4);
    y << 0, 1, 1, 1;  // logical OR: linearly separable
    Dataset<double> data(x, y, 2);
    TrainOptions o;
    o.epochs = 300;
    o.batch_size = 4;
    o.sgd.lr = 1.0;
    Trainer<double> t(LinearSoftmax<double>(2, 2), o);
    t.fit(data, Preprocessor<double>::identity(2));
    const double acc = evaluate(t.model(), data, Preprocessor<double>::identity(2)).accuracy;
    std::cout << "logreg " << logreg::version << " consumer accuracy " << acc << "\n";
    return acc == 1.0 ? 0 : 1;
}
