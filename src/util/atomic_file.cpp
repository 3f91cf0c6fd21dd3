#include "util/atomic_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.hpp"
#include "util/unique_fd.hpp"

namespace nrmlab {

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  const auto failed = [&](std::string_view what) {
    const std::string reason = std::strerror(errno);
    ::unlink(temporary.c_str());
    return Error(fmt::format("{}: cannot {}: {}", path.string(), what, reason));
  };
  UniqueFd file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (file.get() < 0) throw failed("create");
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(file.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw failed("write (disk full?)");
    written += static_cast<std::size_t>(n);
  }
  // Without the fsync a crash right after the rename can leave an empty file under the
  // final name on some file systems.
  if (::fsync(file.get()) != 0) throw failed("flush");
  if (::close(file.release()) != 0) throw failed("close");
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw failed("replace");
}

}  // namespace nrmlab
