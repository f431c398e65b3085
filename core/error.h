// error.h — the one exception type llmplan's libraries throw for bad input.
//
// Every message is a complete, one-line sentence that names the flag (or field) and the value
// that was wrong, e.g.  --params: "7Q" is not a parameter count (unknown suffix "Q"; use K, M, B or T).
// Front ends print what() as is and exit non-zero; nothing else is needed to explain the failure.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace llmplan {

class InputError : public std::runtime_error {
public:
    explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

// A value that came from a file but is parsed by a flag's parser is refused under the flag's name
// ("--gpus: ..."); this says it of where the value came from instead, e.g.
//   --cluster c.json: "gpus": "eight" must be a positive integer
// The refusal of `e` renamed when its message is about `flag` (starts "FLAG:" or "FLAG "), else nothing.
inline std::optional<InputError> renamed(const InputError& e, std::string_view flag, const std::string& name) {
    const std::string_view msg = e.what();
    if (msg.size() <= flag.size() || msg.substr(0, flag.size()) != flag || (msg[flag.size()] != ':' && msg[flag.size()] != ' '))
        return std::nullopt;
    return InputError(name + std::string(msg.substr(flag.size())));
}

}  // namespace llmplan
