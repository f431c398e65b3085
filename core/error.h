// error.h — the one exception type llmplan's libraries throw for bad input.
//
// Every message is a complete, one-line sentence that names the flag (or field) and the value
// that was wrong, e.g.  --params: "7Q" is not a parameter count (unknown suffix "Q"; use K, M, B or T).
// Front ends print what() as is and exit non-zero; nothing else is needed to explain the failure.
#pragma once

#include <stdexcept>
#include <string>

namespace llmplan {

class InputError : public std::runtime_error {
public:
    explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace llmplan
