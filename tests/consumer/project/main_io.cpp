// Every io header through logreg::io (io_headers.hpp is generated from the list of headers):
// writes a model to safetensors and a PNG, reads the model back.
#include "io_headers.hpp"

#include <cstdio>
#include <iostream>
#include <string>

int main() {
    using namespace logreg;
    LinearSoftmax<float> model(4, 3, Init::uniform, /*seed=*/1);
    const std::string path = "consumer_io_model.safetensors";
    io::save_model(path, model, Preprocessor<float>::identity(4));
    const io::LoadedModel<float> loaded = io::load_model<float>(path);
    std::remove(path.c_str());
    const bool same = loaded.model.weight() == model.weight();
    const auto png = io::encode_png(std::vector<std::uint8_t>{0, 255, 255, 0}, 2, 2, 1);
    std::cout << "logreg " << logreg::version << " consumer_io round trip " << (same ? "ok" : "differs") << ", png "
              << png.size() << " bytes\n";
    return same && !png.empty() ? 0 : 1;
}
