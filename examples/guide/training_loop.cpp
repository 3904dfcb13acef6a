// Guide, section 5: the training loop written out by hand, as in a PyTorch notebook
// (docs/guide.md shows the marked region). Needs LOGREG_MNIST_DIR.
#include "mnist_or_skip.hpp"

#include <logreg/io/mnist.hpp>
#include <logreg/logreg.hpp>

#include <cstdint>
#include <cstdio>

int main() {
    using namespace logreg;
    const auto mnist = guide::mnist_dir_or_skip();
    if (!mnist) return 0;
    const auto train = io::load_mnist(*mnist, io::MnistSplit::train);
    const auto test = io::load_mnist(*mnist, io::MnistSplit::test);
    // [loop]
    LinearSoftmax<float> model(784, 10, Init::uniform, /*seed=*/0);  // model = nn.Linear(784, 10)
    const CrossEntropy<float> criterion;                             // criterion = nn.CrossEntropyLoss()
    SGDParams params;
    params.lr = 0.1;
    SGD<float> optimizer(params);                     // optimizer = optim.SGD(model.parameters(), lr=0.1)
    const auto pre = Preprocessor<float>::unit(784);  // transforms.ToTensor()
    const Index batch_size = 64, batches = train.size() / batch_size;  // DataLoader(..., drop_last=True)

    RowMatrix<float> x(batch_size, 784), z;  // buffers, allocated once
    LabelVector y(batch_size);
    Gradient<float> grad;
    for (unsigned epoch = 1; epoch <= 2; ++epoch) {
        const IndexVector order = shuffled_indices(train.size(), /*seed=*/epoch);  // shuffle=True
        for (Index i = 0; i < batches; ++i) {
            const Index* rows = order.data() + i * batch_size;
            pre.gather(train.features(), rows, batch_size, x);  // images[rows] / 255
            for (Index r = 0; r < batch_size; ++r) y[r] = train.labels()[rows[r]];

            model.logits(x, z);                                     // outputs = model(images)
            const double loss = criterion.loss_and_gradient(z, y);  // loss = criterion(outputs, labels)
            model.backward(x, z, grad);                             // loss.backward()
            optimizer.step(model, grad, params.lr);                 // optimizer.step()
            if ((i + 1) % 300 == 0)
                std::printf("epoch %u  step %4lld/%lld  loss %.4f\n", epoch, static_cast<long long>(i + 1),
                            static_cast<long long>(batches), loss);
        }
    }
    const Evaluation ev = evaluate(model, test, pre);
    std::printf("test accuracy %.4f\n", ev.accuracy);
    // [loop]
    return ev.accuracy > 0.9 ? 0 : 1;
}
