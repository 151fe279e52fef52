/* Dense matrix multiply C = A x B (n x n, row-major, i-k-j order so the inner loop streams).
 * Reports GFLOPS and a checksum.  wasmlab's own code. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 256;
    int repeats = argc > 2 ? atoi(argv[2]) : 3;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) { a[i] = (float)(i % 7) * 0.5f; b[i] = (float)(i % 5) * 0.25f; }
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        for (int i = 0; i < n * n; i++) c[i] = 0.0f;
        double t0 = now();
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                float aik = a[i * n + k];
                for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
            }
        double t = now() - t0;
        if (t < best) best = t;
    }
    double checksum = 0.0;
    for (int i = 0; i < n * n; i++) checksum += c[i];
    printf("n=%d seconds=%.6f gflops=%.3f checksum=%.1f\n", n, best, 2.0 * n * n * (double)n / best / 1e9, checksum);
    return 0;
}
