// The kernels for any CPU of the architecture: SSE2 on x86-64 (no fused multiply-add), NEON on
// arm64 (4 floats a vector, 6 x 8 register tile). No target pragma: the compiler's baseline.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include "kernels.h"
#define VW 4
#define MR 6
#define NSNAME isa_base
#define TABLE baseTable
#define ISANAME "base"
#include "isa.inc"
