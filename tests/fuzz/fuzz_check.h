// What every fuzz target of tests/fuzz/ shares.
//
// A target is one function, LLVMFuzzerTestOneInput, that feeds the bytes to one
// decoder of untrusted input and checks what must hold for any input: no crash
// (the sanitizers watch memory and undefined behaviour), and for what decodes,
// decode -> encode -> decode gives the same value. A broken property aborts
// with a message naming it, which libFuzzer reports as a crash and the replay
// test (replay_main.cc) as a failure.
//
// The same target source builds two ways: with clang and -fsanitize=fuzzer
// (SHOPSYNC_BUILD_FUZZERS) as a libFuzzer binary, and in every build as a
// replay program over the committed corpus and regression inputs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, what)                                                            \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "fuzz property broken at %s:%d: %s (%s)\n", __FILE__, __LINE__, \
                   what, #cond);                                                          \
      std::abort();                                                                       \
    }                                                                                     \
  } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
