// logreg/error.hpp - the exception hierarchy.
//
// Every exception the library throws derives from logreg::Error, so a caller can
// catch one type. Messages name the offending value, field or file.
#pragma once

#include <stdexcept>
#include <string>

namespace logreg {

/// Root of every exception thrown by logreg.
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// A parameter (option, hyper-parameter, argument) is outside its allowed range.
class InvalidParameter : public Error {
public:
    using Error::Error;
};

/// Matrix or vector shapes do not fit together (model vs data, labels vs rows, ...).
class ShapeError : public Error {
public:
    using Error::Error;
};

/// Data violates a precondition: empty, labels out of range, non-finite features.
class DataError : public Error {
public:
    using Error::Error;
};

/// A number became NaN or infinite where a finite one is required.
class NumericalError : public Error {
public:
    using Error::Error;
};

/// Reading or writing a file failed, or its contents are malformed.
class IoError : public Error {
public:
    using Error::Error;
};

/// A file exists but its format is wrong (bad magic, truncated, inconsistent header).
class FormatError : public IoError {
public:
    using IoError::IoError;
};

}  // namespace logreg
