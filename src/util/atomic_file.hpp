// Replaces a file in one step: the text goes to PATH.tmp, is flushed to disk, then renamed
// over PATH. A reader (or a process resuming after kill -9) sees the old file or the new
// one, never half of one.
#pragma once

#include <filesystem>
#include <string_view>

namespace nrmlab {

// Throws nrmlab::Error naming the file when it cannot be written (disk full, no permission).
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace nrmlab
