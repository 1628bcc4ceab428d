// The kernels compiled for AVX-512F (16 floats a vector, 12 x 32 register tile). Chosen at run
// time by addon.cc when the CPU has AVX-512F; the rest of the addon is built for baseline x86-64.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include "kernels.h"
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx2,fma")
#include <immintrin.h>
#define ISA_RCP14 1
#define VW 16
#define MR 12
#define NSNAME isa_avx512
#define TABLE avx512Table
#define ISANAME "avx512"
#include "isa.inc"
#endif
