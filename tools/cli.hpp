// Command-line parsing shared by the tools: a program's usage text, printed for --help (exit 0)
// or after a bad argument (exit 2), and numbers read strictly (the whole argument, in range).
#pragma once

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <system_error>

namespace wsframe_tools {

class Program {
 public:
  constexpr Program(const char* name, const char* usage) noexcept : name_(name), usage_(usage) {}

  [[noreturn]] void usage(int status) const {
    std::fputs(usage_, status == 0 ? stdout : stderr);
    std::exit(status);
  }

  // "<program>: <flag> <what>", then the usage; exits 2.
  [[noreturn]] void bad_argument(std::string_view flag, std::string_view what) const {
    std::fprintf(stderr, "%s: %.*s %.*s\n", name_, static_cast<int>(flag.size()), flag.data(),
                 static_cast<int>(what.size()), what.data());
    usage(2);
  }

  // The whole of `text` as a T (an integer type or double), else bad_argument.
  template <class T>
  T number(std::string_view flag, std::string_view text) const {
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
      std::fprintf(stderr, "%s: %.*s needs a number, got '%.*s'\n", name_, static_cast<int>(flag.size()),
                   flag.data(), static_cast<int>(text.size()), text.data());
      usage(2);
    }
    return value;
  }

  // A number within [min, max], else bad_argument.
  int number_in(std::string_view flag, std::string_view text, int min, int max) const {
    const int value = number<int>(flag, text);
    if (value < min || value > max) {
      std::fprintf(stderr, "%s: %.*s must be %d..%d\n", name_, static_cast<int>(flag.size()), flag.data(), min, max);
      usage(2);
    }
    return value;
  }

 private:
  const char* name_;
  const char* usage_;
};

}  // namespace wsframe_tools
