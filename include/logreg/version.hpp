// logreg/version.hpp - the library version.
#pragma once

#define LOGREG_VERSION_MAJOR 0
#define LOGREG_VERSION_MINOR 1
#define LOGREG_VERSION_PATCH 0
#define LOGREG_VERSION_STRING "0.1.0"

namespace logreg {
/// "major.minor.patch", as stored in model files.
inline constexpr const char* version = LOGREG_VERSION_STRING;
}  // namespace logreg
