// Errors that cross a module boundary. Everything a user can get wrong (a flag, a file, a
// directory) ends up as an nrmlab::Error whose message already names the culprit, so the
// CLI only has to print it.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace nrmlab {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "FILE:LINE: what" -- the compiler-style location of a problem in an input file.
inline Error input_error(std::string_view file, std::size_t line, std::string_view what) {
  std::string message;
  message.append(file).append(":").append(std::to_string(line)).append(": ").append(what);
  return Error(message);
}

}  // namespace nrmlab
