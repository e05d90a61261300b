// One error type for the whole engine. Every message names the file, node, op or
// tensor it is about, so a user can act on it without a debugger.
#pragma once
#include <stdexcept>
#include <string>

namespace edgecnn {

enum class ErrorKind {
    Invalid,      // the model or input is malformed or inconsistent
    Unsupported,  // valid ONNX, but an op, attribute or dtype the engine does not implement
    Io,           // a file could not be read or written
    Limit,        // a configured limit (memory, depth, size) was exceeded
    Internal,     // an engine bug caught at a boundary (a kernel's own exception): reported
                  // like any error, but tests and fuzz targets count it as a failure
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }
    // Returns a copy whose message starts with `prefix` (e.g. "node 'conv1' (Conv): ").
    Error with_prefix(const std::string& prefix) const { return Error(kind_, prefix + what()); }

private:
    ErrorKind kind_;
};

[[noreturn]] inline void fail(const std::string& message) { throw Error(ErrorKind::Invalid, message); }
[[noreturn]] inline void fail_unsupported(const std::string& message) {
    throw Error(ErrorKind::Unsupported, message);
}

#define ECNN_CHECK(cond, msg)                          \
    do {                                               \
        if (!(cond)) ::edgecnn::fail(msg);             \
    } while (0)

}  // namespace edgecnn
