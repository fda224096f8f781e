/*
 * Deterministic pseudo-random numbers for the unit tests (xorshift64): the
 * same cases on every run, so that a failure can be replayed. A test seeds
 * it with its own constant (rnd_seed) before its first draw.
 */
#ifndef SSE_RND_H
#define SSE_RND_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rnd_state = 0x2545F4914F6CDD1Du;

__attribute__((unused)) static void
rnd_seed(uint64_t seed)
{
	rnd_state = seed;
}

__attribute__((unused)) static uint64_t
rnd64(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* 32 random bits. */
__attribute__((unused)) static unsigned
rnd(void)
{
	return (unsigned)(rnd64() >> 32);
}

/* A number in [0, n); 0 when n is 0. */
__attribute__((unused)) static size_t
rnd_below(size_t n)
{
	return n ? (size_t)(rnd64() % n) : 0;
}

#endif
