/*
 * memcpy, memmove, memcmp and bcmp for the static musl build only (build.rs compiles and links
 * this file when the target's C library is musl; the glibc build uses glibc's).
 *
 * Why: musl keeps these deliberately simple. Its memcmp (and bcmp, which calls it) compares one
 * byte per loop iteration, its x86_64 memmove copies overlapping ranges backwards with
 * `std; rep movsb` (one byte at a time, the slow direction of the string instructions), and its
 * memcpy starts every copy with `rep movsq`, whose start-up cost dominates the short copies
 * Rust code makes. redb compares keys with memcmp on every B-tree step and shifts page contents
 * with memmove on every insert into a leaf, so the packaged binary spent far more CPU per stored
 * message than the same code on glibc (docs/performance.md, "What limits ingest", has the
 * profile). These versions work a machine word (or 32 bytes) at a time; defining the symbols
 * here means the linker never takes musl's from libc.a. The binary stays fully static.
 *
 * Built with -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns so that the
 * compiler does not turn these loops back into calls to the functions they define.
 */
#include <stddef.h>
#include <stdint.h>

typedef uint64_t __attribute__((__may_alias__, __aligned__(1))) u64u;
typedef uint32_t __attribute__((__may_alias__, __aligned__(1))) u32u;
typedef uint16_t __attribute__((__may_alias__, __aligned__(1))) u16u;

/* Copies of at least this many bytes use `rep movsb` (fast on CPUs with ERMSB, i.e. every x86_64
 * of the last decade); shorter ones use unaligned word moves. */
#define REP_MOVSB_FROM 2048

static inline void copy_small(unsigned char *d, const unsigned char *s, size_t n) {
    /* n <= 32: two possibly overlapping loads/stores per size class; all loads come before the
     * stores, so this is also a correct memmove for such n. */
    if (n >= 16) {
        uint64_t a = *(const u64u *)s, b = *(const u64u *)(s + 8);
        uint64_t c = *(const u64u *)(s + n - 16), e = *(const u64u *)(s + n - 8);
        *(u64u *)d = a;
        *(u64u *)(d + 8) = b;
        *(u64u *)(d + n - 16) = c;
        *(u64u *)(d + n - 8) = e;
    } else if (n >= 8) {
        uint64_t a = *(const u64u *)s, b = *(const u64u *)(s + n - 8);
        *(u64u *)d = a;
        *(u64u *)(d + n - 8) = b;
    } else if (n >= 4) {
        uint32_t a = *(const u32u *)s, b = *(const u32u *)(s + n - 4);
        *(u32u *)d = a;
        *(u32u *)(d + n - 4) = b;
    } else if (n >= 2) {
        uint16_t a = *(const u16u *)s, b = *(const u16u *)(s + n - 2);
        *(u16u *)d = a;
        *(u16u *)(d + n - 2) = b;
    } else if (n == 1) {
        *d = *s;
    }
}

/* Forward copy, 32 bytes per step (loads of a step before its stores): correct for d <= s
 * even when the ranges overlap. */
static inline void copy_forward(unsigned char *d, const unsigned char *s, size_t n) {
    /* The last 32 bytes, loaded first: written at the end. */
    uint64_t t0 = *(const u64u *)(s + n - 32), t1 = *(const u64u *)(s + n - 24);
    uint64_t t2 = *(const u64u *)(s + n - 16), t3 = *(const u64u *)(s + n - 8);
    unsigned char *dend = d + n;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        uint64_t a = *(const u64u *)(s + i), b = *(const u64u *)(s + i + 8);
        uint64_t c = *(const u64u *)(s + i + 16), e = *(const u64u *)(s + i + 24);
        *(u64u *)(d + i) = a;
        *(u64u *)(d + i + 8) = b;
        *(u64u *)(d + i + 16) = c;
        *(u64u *)(d + i + 24) = e;
    }
    *(u64u *)(dend - 32) = t0;
    *(u64u *)(dend - 24) = t1;
    *(u64u *)(dend - 16) = t2;
    *(u64u *)(dend - 8) = t3;
}

/* Backward copy, 32 bytes per step from the end: correct for d > s with overlap. */
static inline void copy_backward(unsigned char *d, const unsigned char *s, size_t n) {
    /* The first 32 bytes, loaded first: written at the end. */
    uint64_t h0 = *(const u64u *)s, h1 = *(const u64u *)(s + 8);
    uint64_t h2 = *(const u64u *)(s + 16), h3 = *(const u64u *)(s + 24);
    size_t i = n;
    for (; i >= 32; i -= 32) {
        uint64_t a = *(const u64u *)(s + i - 32), b = *(const u64u *)(s + i - 24);
        uint64_t c = *(const u64u *)(s + i - 16), e = *(const u64u *)(s + i - 8);
        *(u64u *)(d + i - 32) = a;
        *(u64u *)(d + i - 24) = b;
        *(u64u *)(d + i - 16) = c;
        *(u64u *)(d + i - 8) = e;
    }
    *(u64u *)d = h0;
    *(u64u *)(d + 8) = h1;
    *(u64u *)(d + 16) = h2;
    *(u64u *)(d + 24) = h3;
}

void *memcpy(void *restrict dest, const void *restrict src, size_t n) {
    unsigned char *d = dest;
    const unsigned char *s = src;
    if (n <= 32) {
        copy_small(d, s, n);
    } else if (n < REP_MOVSB_FROM) {
        copy_forward(d, s, n);
    } else {
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    }
    return dest;
}

void *memmove(void *dest, const void *src, size_t n) {
    unsigned char *d = dest;
    const unsigned char *s = src;
    if (n <= 32) {
        copy_small(d, s, n);
    } else if ((uintptr_t)d - (uintptr_t)s >= n) {
        /* No overlap, or the destination starts before the source: forward is safe. */
        if (n < REP_MOVSB_FROM || (uintptr_t)s - (uintptr_t)d < n) {
            copy_forward(d, s, n);
        } else {
            __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
        }
    } else {
        copy_backward(d, s, n);
    }
    return dest;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *l = a, *r = b;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x = *(const u64u *)(l + i), y = *(const u64u *)(r + i);
        if (x != y) {
            /* Byte order: the first differing byte decides, as with a byte-wise compare. */
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
            return x < y ? -1 : 1;
        }
    }
    for (; i < n; i++) {
        if (l[i] != r[i]) {
            return l[i] - r[i];
        }
    }
    return 0;
}

int bcmp(const void *a, const void *b, size_t n) {
    return memcmp(a, b, n);
}
