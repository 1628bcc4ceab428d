// The kernels compiled for AVX2 + FMA (8 floats a vector, 6 x 16 register tile).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include "kernels.h"
#if defined(__x86_64__)
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#define ISA_RCP 1
#define VW 8
#define MR 6
#define NSNAME isa_avx2
#define TABLE avx2Table
#define ISANAME "avx2"
#include "isa.inc"
#endif
