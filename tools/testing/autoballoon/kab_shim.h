/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types and helpers policy.c uses, for building it unchanged
 * in userspace (unit tests, simulator). Keep this file tiny: anything that
 * policy.c needs and the kernel does not provide the same way is a bug in
 * policy.c, not something to paper over here.
 */
#ifndef _KAB_SHIM_H
#define _KAB_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define U64_MAX		UINT64_MAX
#define U32_MAX		UINT32_MAX

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define noinline	__attribute__((noinline))

#define min_t(type, a, b) ({			\
	type __min_a = (a);			\
	type __min_b = (b);			\
	__min_a < __min_b ? __min_a : __min_b; })

#define max_t(type, a, b) ({			\
	type __max_a = (a);			\
	type __max_b = (b);			\
	__max_a > __max_b ? __max_a : __max_b; })

#define clamp_t(type, v, lo, hi)	min_t(type, max_t(type, v, lo), hi)

/* <linux/math.h>: the integer square root, rounded down. */
static inline u32 int_sqrt64(u64 x)
{
	u64 r = 0, bit = 1ULL << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

/* <linux/math64.h>: the kernel's 64-bit divisions. */
static inline u64 div64_u64(u64 dividend, u64 divisor)
{
	return dividend / divisor;
}

/* a * mul / div with a 128-bit intermediate; the result must fit in u64. */
static inline u64 mul_u64_u64_div_u64(u64 a, u64 mul, u64 div)
{
	return (u64)((__uint128_t)a * mul / div);
}

#endif /* _KAB_SHIM_H */
