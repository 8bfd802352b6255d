#include "storage/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace shopsync {

namespace {

constexpr std::uint32_t kPolynomial = 0x82f63b78;  // Castagnoli, reflected

constexpr std::array<std::uint32_t, 256> kTable = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1U) ? kPolynomial : 0U);
    table[i] = crc;
  }
  return table;
}();

std::uint32_t by_table(std::uint32_t crc, std::string_view bytes) {
  for (const char c : bytes) crc = (crc >> 8) ^ kTable[(crc ^ static_cast<std::uint8_t>(c)) & 0xffU];
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t by_instruction(std::uint32_t crc, std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  std::uint64_t wide = crc;
  for (; left >= 8; p += 8, left -= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);
    wide = _mm_crc32_u64(wide, word);
  }
  crc = static_cast<std::uint32_t>(wide);
  for (; left > 0; ++p, --left) crc = _mm_crc32_u8(crc, static_cast<unsigned char>(*p));
  return crc;
}

const bool kHasInstruction = [] {
  __builtin_cpu_init();  // this may run before libgcc's own start-up has read the CPU
  return __builtin_cpu_supports("sse4.2") != 0;
}();
#endif

}  // namespace

std::uint32_t crc32c(std::string_view bytes) {
  const std::uint32_t start = 0xffffffffU;
#if defined(__x86_64__)
  if (kHasInstruction) return ~by_instruction(start, bytes);
#endif
  return ~by_table(start, bytes);
}

std::uint32_t crc32c_by_table(std::string_view bytes) { return ~by_table(0xffffffffU, bytes); }

}  // namespace shopsync
