#include "net/public_key_text.h"

#include <array>
#include <cstdint>

#include "net/zmq_socket.h"

namespace shopsync {

namespace {

constexpr std::size_t kKeyBytes = 32;
constexpr std::size_t kCheckBytes = 3;                            // CRC-24
constexpr std::size_t kSymbols = (kKeyBytes + kCheckBytes) * 8 / 5;  // 280 bits: 56 symbols, none padded
constexpr std::size_t kGroup = 4;
constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";  // Crockford's base32

static_assert((kKeyBytes + kCheckBytes) * 8 % 5 == 0);

// CRC-24/OpenPGP (RFC 4880 6.1), most significant bit first. The check bytes
// follow the key in the same bit order, so key and check form one CRC
// codeword: every error burst of at most 24 bits changes the remainder, and a
// mistyped symbol spans 5 bits, two swapped neighbours 10.
std::uint32_t crc24(std::string_view bytes) {
  std::uint32_t crc = 0xB704CE;
  for (unsigned char b : bytes) {
    crc ^= static_cast<std::uint32_t>(b) << 16;
    for (int i = 0; i < 8; ++i) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864CFB;
    }
  }
  return crc & 0xFFFFFF;
}

std::string with_check(std::string_view raw) {
  std::string out(raw);
  const std::uint32_t crc = crc24(raw);
  out.push_back(static_cast<char>(crc >> 16));
  out.push_back(static_cast<char>(crc >> 8));
  out.push_back(static_cast<char>(crc));
  return out;
}

// The value of one spoken-form symbol, or -1. Case-insensitive; o is 0 and
// i, l are 1, the letters Crockford's alphabet leaves out for that reason.
int symbol_value(char c) {
  if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (c == 'o') return 0;
  if (c == 'i' || c == 'l') return 1;
  const auto at = kAlphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

Status not_a_key(std::string_view text, const std::string& why) {
  constexpr std::size_t kShown = 100;
  std::string shown(text.substr(0, kShown));
  if (text.size() > kShown) shown += "...";
  return Status::invalid("'" + shown + "' is not a public key: " + why);
}

std::string printable(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + c + "'";
  constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[u >> 4] + kHex[u & 15];
}

}  // namespace

std::string format_raw_public_key(std::string_view raw) {
  const std::string bytes = with_check(raw.substr(0, kKeyBytes));
  std::string out;
  out.reserve(kSymbols + kSymbols / kGroup);
  std::uint32_t bits = 0;
  int held = 0;
  std::size_t written = 0;
  for (unsigned char b : bytes) {
    bits = (bits << 8) | b;
    held += 8;
    while (held >= 5) {
      held -= 5;
      if (written > 0 && written % kGroup == 0) out.push_back('-');
      out.push_back(kAlphabet[(bits >> held) & 31]);
      ++written;
    }
  }
  return out;
}

std::string format_public_key(std::string_view z85) {
  auto raw = zmq::z85_decode_key(z85);
  return raw ? format_raw_public_key(*raw) : std::string(z85);
}

Result<std::string> parse_public_key(std::string_view text) {
  const std::string_view t = trimmed(text);
  if (t.empty()) return not_a_key(text, "it is empty");
  if (zmq::is_z85_key(t)) {
    if (zmq::z85_decode_key(t)) return std::string(t);
    return not_a_key(text, "40 Z85 characters that do not decode to a key");
  }
  std::array<std::uint8_t, kSymbols> symbols{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '-' || c == ' ') continue;
    const int v = symbol_value(c);
    if (v < 0) {
      return not_a_key(text, printable(c) + " at position " + std::to_string(i + 1) +
                                 " is not a letter or digit of a key (a key is 56 letters and digits, "
                                 "grouped like 'q8v3-m0td-...', or 40 Z85 characters)");
    }
    if (count < kSymbols) symbols[count] = static_cast<std::uint8_t>(v);
    ++count;
  }
  if (count != kSymbols) {
    return not_a_key(text, "it has " + std::to_string(count) + " letters and digits, a key has " +
                               std::to_string(kSymbols) + " (or is 40 Z85 characters)");
  }
  std::string bytes;
  std::uint32_t bits = 0;
  int held = 0;
  for (std::uint8_t s : symbols) {
    bits = (bits << 5) | s;
    held += 5;
    if (held >= 8) {
      held -= 8;
      bytes.push_back(static_cast<char>((bits >> held) & 0xFF));
    }
  }
  const std::string_view raw = std::string_view(bytes).substr(0, kKeyBytes);
  if (with_check(raw) != bytes) {
    return not_a_key(text, "its check letters do not match: a letter or digit is mistyped, missing or swapped");
  }
  return zmq::z85_encode_key(raw);
}

std::string grant_subject(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  text = text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
  auto key = parse_public_key(text);
  return key ? format_public_key(*key) : std::string(text);
}

}  // namespace shopsync
