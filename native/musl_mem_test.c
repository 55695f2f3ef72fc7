/*
 * Exhaustive check of native/musl_mem.c against byte-at-a-time references: every length up to
 * 300 at every source/destination offset pair up to 40 apart (both overlap directions), lengths
 * around the `rep movsb` threshold, and memcmp's sign for a difference at every position.
 * Built and run by scripts/test with the host compiler (the functions are plain C).
 * Compiled with -fno-builtin -fno-tree-loop-distribute-patterns so the references stay loops.
 */
#include <stddef.h>
#include <stdio.h>

void *memcpy(void *restrict dest, const void *restrict src, size_t n);
void *memmove(void *dest, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
int bcmp(const void *a, const void *b, size_t n);

#define BUF 12000
static unsigned char buf[BUF], want[BUF], orig[BUF];
static unsigned long failures;

static void fill(void) {
    unsigned x = 2463534242u;
    for (size_t i = 0; i < BUF; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        orig[i] = (unsigned char)x;
    }
}

static void reset(void) {
    for (size_t i = 0; i < BUF; i++) { buf[i] = orig[i]; want[i] = orig[i]; }
}

/* The reference memmove: through a temporary, byte by byte. */
static void ref_move(size_t d, size_t s, size_t n) {
    static unsigned char tmp[BUF];
    for (size_t i = 0; i < n; i++) tmp[i] = want[s + i];
    for (size_t i = 0; i < n; i++) want[d + i] = tmp[i];
}

static int same(void) {
    for (size_t i = 0; i < BUF; i++) if (buf[i] != want[i]) return 0;
    return 1;
}

static void check_move(size_t d, size_t s, size_t n, int copy) {
    reset();
    ref_move(d, s, n);
    void *r = copy ? memcpy(buf + d, buf + s, n) : memmove(buf + d, buf + s, n);
    if (r != buf + d || !same()) {
        if (failures++ < 10) printf("%s d=%zu s=%zu n=%zu wrong\n", copy ? "memcpy" : "memmove", d, s, n);
    }
}

static int sign(int v) { return (v > 0) - (v < 0); }

int main(void) {
    fill();
    size_t base = 100;
    for (size_t n = 0; n <= 300; n++)
        for (size_t a = 0; a <= 40; a++)
            for (size_t b = 0; b <= 40; b++) {
                check_move(base + a, base + b, n, 0);          /* overlapping both ways */
                check_move(base + a, base + 400 + b, n, 1);    /* disjoint */
            }
    size_t big[] = {1000, 2046, 2047, 2048, 2049, 4095, 4096, 4097, 5000};
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++)
        for (size_t a = 0; a <= 70; a += 7)
            for (size_t b = 0; b <= 70; b += 5) {
                size_t n = big[k];
                check_move(base + a, base + b, n, 0);
                check_move(base + a, base + n + 200 + b, n, 1);
                check_move(base + n + 200 + b, base + a, n, 0); /* destination after, no overlap */
            }
    /* memcmp / bcmp: equal ranges, and one byte different at every position, both ways. */
    for (size_t n = 0; n <= 200; n++)
        for (size_t off = 0; off < 8; off++) {
            reset();
            unsigned char *l = buf + 10 + off, *r = want + 3000 + (7 - off);
            for (size_t i = 0; i < n; i++) r[i] = l[i];
            if (memcmp(l, r, n) != 0 || bcmp(l, r, n) != 0) {
                if (failures++ < 10) printf("memcmp equal n=%zu off=%zu\n", n, off);
            }
            for (size_t p = 0; p < n; p++) {
                unsigned char keep = r[p];
                for (int delta = -1; delta <= 1; delta += 2) {
                    r[p] = (unsigned char)(l[p] + delta);
                    int expect = l[p] < r[p] ? -1 : 1;
                    if (sign(memcmp(l, r, n)) != expect || sign(memcmp(r, l, n)) != -expect
                        || bcmp(l, r, n) == 0) {
                        if (failures++ < 10) printf("memcmp n=%zu p=%zu wrong\n", n, p);
                    }
                }
                r[p] = keep;
            }
        }
    if (failures) { printf("%lu failures\n", failures); return 1; }
    printf("musl_mem: memcpy, memmove, memcmp, bcmp agree with the byte-wise references\n");
    return 0;
}
