// Guide, section 1: matrices instead of tensors (docs/guide.md shows the marked regions).
#include <logreg/logreg.hpp>

#include <iostream>

int main() {
    using namespace logreg;
    // [shapes]
    RowMatrix<float> x(4, 3);                           // torch.empty(4, 3): 4 samples (rows) of 3 features
    x << 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12;         // filled row by row
    RowMatrix<float> w = RowMatrix<float>::Ones(2, 3);  // like nn.Linear(3, 2).weight: classes x features
    Vector<float> b(2);                                 // a column vector, like nn.Linear(3, 2).bias
    b << 0.5f, -0.5f;
    LabelVector y(4);  // int32 class labels, like a torch.long tensor
    y << 0, 1, 1, 0;
    std::cout << "x: " << x.rows() << " x " << x.cols() << ", w: " << w.rows() << " x " << w.cols() << ", " << y.size()
              << " labels\n";
    // [shapes]

    // [views]
    Eigen::Ref<RowMatrix<float>> batch = x.middleRows(1, 2);  // x[1:3]: a view of rows 1 and 2, no copy
    batch(0, 0) = 40;                                         // writes through: x(1, 0) is now 40
    Eigen::Map<const RowMatrix<float>> flat(x.data(), 2, 6);  // x.view(2, 6): the same memory, reshaped
    std::cout << "x(1, 0) = " << x(1, 0) << ", flat(0, 3) = " << flat(0, 3) << "\n";
    // [views]

    // [ops]
    RowMatrix<float> z = x * w.transpose();                // x @ w.T: (4 x 3)(3 x 2) = 4 x 2
    z.rowwise() += b.transpose();                          // + b, broadcast over the rows
    const Vector<float> row_max = z.rowwise().maxCoeff();  // z.max(dim=1).values
    const Vector<float> row_sum = z.rowwise().sum();       // z.sum(dim=1)
    Index best = 0;
    z.row(2).maxCoeff(&best);  // z[2].argmax()
    std::cout << "z =\n"
              << z << "\nrow max " << row_max.transpose() << ", row sum " << row_sum.transpose()
              << ", argmax of row 2: " << best << "\n";
    // [ops]
    return z(1, 0) == 51.5f && row_sum(0) == 12.0f ? 0 : 1;
}
