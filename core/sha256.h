// SHA-256 (FIPS 180-4) of a byte string or a file, as lowercase hex: the fingerprints run records
// give of the checkpoint files, tokenizer and pool a run read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lb {

std::string sha256_hex(std::string_view data);
// Reads the file in blocks; InputError naming it when it cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace lb
